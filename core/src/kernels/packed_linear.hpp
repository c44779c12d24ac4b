// A matrix applied to every frame of a channel-major block, with the matrix packed once at load
// so that each block reads it once, whatever the block size:
//   y[o * ys + t] = bias[o] + sum_{c < cin} W[o, c] * x[c * xs + t],   o < cout, t < n
// summed over c in order, bias first: the scalar reference multiplies then adds, the AVX2 set
// fuses each multiply-add (one rounding per term; 4-7 % faster end to end on Zen 4, where the
// separate multiplies and adds filled the 6-wide dispatch), so the two sets agree to rounding.
// Within a set, every frame's result is independent of how many frames the call holds (a
// stream equals the offline model exactly, for any block size).
//
// Packing: W in panels of kRows output rows, panel q holding W[kRows q + r, c] at
// [q][c][r] (zero rows past cout), followed by the bias padded the same way. Work: for each
// panel, the frames in groups of up to kFrames (16 where the processor has AVX-512: one panel
// column per 16-lane vector, the same operations per sum, so the same bits), kRows x kFrames
// sums held in registers while the panel streams past once per group (the panel stays in L1,
// the block in L2); the sums of a panel's chunk of frames are staged [frame][row], then stored
// row by row (8 x 8 transposes in registers for AVX2) with the epilogue applied.
#pragma once

#include <cstddef>
#include <vector>

#include "mac.hpp"

namespace rill {

struct PackedMatrix {
    static constexpr size_t kRows = 16;
    size_t rows = 0, cols = 0;
    std::vector<float> data; // panels, then the padded bias

    size_t panels() const { return (rows + kRows - 1) / kRows; }
    const float* panel(size_t q) const { return data.data() + q * cols * kRows; }
    const float* bias(size_t q) const { return data.data() + panels() * cols * kRows + q * kRows; }
};

// w: rows x cols, row-major with leading dimension ld; bias: rows floats or null (zeros).
PackedMatrix pack_matrix(const float* w, size_t rows, size_t cols, size_t ld, const float* bias);

// Applied to each result before it is stored (folded epilogue stages, Op::absorb):
//   y = slope(Wx + bias + add, a_o)   with slope() of kernels/slope.hpp
// add: rows x n at add[o * add_stride + t], or null; slope: a per row (slope_count == rows) or
// one for all (1), or null for none.
struct LinearEpilogue {
    const float* add = nullptr;
    size_t add_stride = 0;
    const float* slope = nullptr;
    size_t slope_count = 0;
};

struct PackedLinearKernels {
    Isa isa;
    static constexpr size_t kFrames = 6;
    // pack: scratch of pack_floats(m.cols, n) floats, where the inputs are regrouped so that
    // they are read densely (same results), or null to read them in place.
    void (*apply)(const PackedMatrix& m, const float* x, size_t xs, float* y, size_t ys,
                  size_t n, float* pack, const LinearEpilogue& epilogue);
    static size_t pack_floats(size_t cols, size_t max_frames);
};

const PackedLinearKernels& packed_linear_kernels();         // the set matching mac_kernels()
// A given set; the AVX2 set runs on 16-lane vectors where the processor has AVX-512 (the same
// results, bit for bit), unless `wide` is false.
const PackedLinearKernels& packed_linear_kernels(Isa isa, bool wide = true);

} // namespace rill
