// Multiply-accumulate kernels behind the convolution and linear ops, with one implementation
// compiled for two instruction sets: the baseline (scalar reference, x86-64 SSE2 at most) and
// AVX2. The set is chosen once, at stream creation: AVX2 when the CPU has it, unless the
// environment variable RILL_FORCE_ISA=scalar forces the reference (tests run both).
// Floating-point contraction is off (-std=c++17), so both sets give the same results.
#pragma once

#include <cstddef>

namespace rill {

enum class Isa { Scalar, Avx2 };

struct MacKernels {
    Isa isa;
    // y[m] += sum_{c < cin} sum_{j < k} w[c*k + j] * x_c[m*s + j*d], m < n, with channel c of x
    // at x + c*x_stride: one output channel of a valid dilated, strided correlation (k = d = s =
    // 1: one row of a matrix product).
    void (*taps)(float* y, const float* x, size_t x_stride, const float* w, size_t cin, size_t k,
                 size_t d, size_t s, size_t n);
    // y[t * ys] += a * x[t], t < n                (ys = 1: axpy; ys > 1: strided scatter)
    void (*axpy)(float* y, size_t ys, const float* x, float a, size_t n);
    // sum_i a[i] * b[i], i < n, in a fixed order (8 partial sums), the same in every set
    float (*dot)(const float* a, const float* b, size_t n);
    // y[r] = dot(w + r*ld, v, n), r < rows (each row summed exactly as dot sums it)
    void (*matvec)(const float* w, size_t ld, const float* v, size_t rows, size_t n, float* y);
    // Depthwise (one input channel per output channel), stride 1:
    //   y[c*ys + m] = bias[c] + sum_{j < k} w[c*k + j] * x[c*xs + m + j*d],  c < channels, m < n
    // bias first, then the taps in order (as `taps` sums); bias may be null (zeros). Then, with
    // `slope` (a folded prelu / leaky_relu), y = slope(y, slope[slope_count > 1 ? c : 0])
    // (kernels/slope.hpp) before the row is stored.
    void (*depthwise)(float* y, size_t ys, const float* x, size_t xs, const float* w,
                      const float* bias, size_t channels, size_t k, size_t d, size_t n,
                      const float* slope, size_t slope_count);
};

// One output frame at a time for short blocks (n < kShortBlock), where per-channel loops cost
// more than the arithmetic: the frame's receptive field is gathered once (col, cin*k floats)
// and every output channel is one dot product with its weight row.
//   y_o[m] = bias[o] + sum_{c<cin, j<k} w[o, c, j] * x_{g(o)*cin + c}[m*s + j*d]
inline constexpr size_t kShortBlock = 8;
void correlate_by_frame(const MacKernels& mac, float* y, size_t y_stride, const float* x,
                        size_t x_stride, const float* w, const float* bias, size_t cout,
                        size_t cin, size_t groups, size_t k, size_t d, size_t s, size_t n,
                        float* col);

// The kernels for this machine and environment (read once; not for the real-time thread's first
// call: ops fetch them in prepare()).
const MacKernels& mac_kernels();
// A given set (Avx2 falls back to Scalar on CPUs without it).
const MacKernels& mac_kernels(Isa isa);

} // namespace rill
