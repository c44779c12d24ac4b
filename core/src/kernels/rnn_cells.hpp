// The LSTM and GRU cells (PyTorch gate order and conventions, see ops/rnn.cpp for the math): one
// time step of one direction, allocation-free. Shared by the streaming rnn ops and the tensor
// programs' ONNX-style GRU/LSTM (which reorder ONNX gates into this order at load).
#pragma once

#include <cmath>
#include <cstddef>

#include "rill/core/tensor.hpp"

namespace rill::rnn {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

using MatvecFn = void (*)(const float* w, size_t ld, const float* v, size_t rows, size_t n, float* y);

// y[r] = b[r] + sum_j W[r, j] v[j] for rows [0, rows) of a row-major W with `cols` columns; the
// products are the MAC kernels' matvec (kernels/mac.hpp, chosen before the audio thread runs).
inline void affine(MatvecFn matvec, const float* w, const float* b, const float* v, size_t rows,
                   size_t cols, float* y) noexcept {
    matvec(w, cols, v, rows, cols, y);
    for (size_t r = 0; r < rows; ++r)
        y[r] += b[r];
}

struct RnnWeights {
    size_t hidden = 0, input = 0;
    Tensor w_ih, w_hh, b_ih, b_hh; // [G*H, In], [G*H, H], [G*H], [G*H]
};

struct LstmCell {
    MatvecFn matvec = nullptr; // set from mac_kernels() before use
    static constexpr size_t kGates = 4;
    static constexpr size_t kStateVectors = 2; // h, c
    static size_t scratch_floats(size_t h) { return 2 * kGates * h; }

    void step(const RnnWeights& w, const float* x, float* state, float* scratch) const noexcept {
        const size_t n = w.hidden;
        float *h = state, *c = state + n;
        float *gi = scratch, *gh = scratch + kGates * n;
        affine(matvec, w.w_ih.data, w.b_ih.data, x, kGates * n, w.input, gi);
        affine(matvec, w.w_hh.data, w.b_hh.data, h, kGates * n, n, gh);
        for (size_t k = 0; k < n; ++k) {
            const float i = sigmoid(gi[k] + gh[k]);
            const float f = sigmoid(gi[n + k] + gh[n + k]);
            const float g = std::tanh(gi[2 * n + k] + gh[2 * n + k]);
            const float o = sigmoid(gi[3 * n + k] + gh[3 * n + k]);
            c[k] = f * c[k] + i * g;
            h[k] = o * std::tanh(c[k]);
        }
    }
};

struct GruCell {
    MatvecFn matvec = nullptr; // set from mac_kernels() before use
    static constexpr size_t kGates = 3;
    static constexpr size_t kStateVectors = 1; // h
    static size_t scratch_floats(size_t h) { return 2 * kGates * h + h; }
    bool linear_before_reset = true;

    void step(const RnnWeights& w, const float* x, float* h, float* scratch) const noexcept {
        const size_t n = w.hidden;
        float *gi = scratch, *gh = scratch + kGates * n, *rh = gh + kGates * n;
        affine(matvec, w.w_ih.data, w.b_ih.data, x, kGates * n, w.input, gi);
        // r and z rows always see h; the n rows see h or r * h.
        affine(matvec, w.w_hh.data, w.b_hh.data, h, linear_before_reset ? kGates * n : 2 * n, n, gh);
        if (!linear_before_reset) {
            for (size_t k = 0; k < n; ++k)
                rh[k] = sigmoid(gi[k] + gh[k]) * h[k];
            affine(matvec, w.w_hh.data + 2 * n * n, w.b_hh.data + 2 * n, rh, n, n, gh + 2 * n);
        }
        for (size_t k = 0; k < n; ++k) {
            const float r = sigmoid(gi[k] + gh[k]);
            const float z = sigmoid(gi[n + k] + gh[n + k]);
            const float cand = linear_before_reset ? std::tanh(gi[2 * n + k] + r * gh[2 * n + k])
                                                   : std::tanh(gi[2 * n + k] + gh[2 * n + k]);
            h[k] = (1.0f - z) * cand + z * h[k];
        }
    }
};

} // namespace rill::rnn
