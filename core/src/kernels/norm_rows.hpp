// The per-frame loops of the channel norms (ops/norm.cpp), over channel-major blocks (channel c
// at x + c*xs, frames contiguous), in double precision:
//   moments:    s1[t] += sum_c x[c, t],  s2[t] += sum_c x[c, t]^2   (s2 null: s1 only)
//   deviations: s2[t] += sum_c (x[c, t] - mean[t])^2
//   normalize:  y[c, t] = ((x[c, t] - mean_hi[t]) - mean_lo[t]) * scale[t] * w[c] + b[c]
//               (w, b null: 1, 0) in float, 8 lanes: the mean (double) is passed as two floats,
//               mean_hi = float(mean), mean_lo = float(mean - mean_hi), whose two subtractions
//               keep x - mean accurate where x is close to the mean (a float mean cost up to
//               5e-5 at a scale of 1 / sqrt(eps))
// for c < channels, t < n, summed over c in order. Two sets as for MacKernels: the baseline
// compiles these loops; the AVX2 set keeps slices of up to 16 (moments) or 32 (normalize)
// frames' sums, means and scales in registers across the channels, with the same operations in
// the same order (no fused multiply-add), so both give the same results.
#pragma once

#include <cstddef>

#include "mac.hpp"

namespace rill {

struct NormKernels {
    Isa isa;
    void (*moments)(const float* x, size_t xs, size_t channels, size_t n, double* s1, double* s2);
    void (*deviations)(const float* x, size_t xs, size_t channels, size_t n, const double* mean,
                       double* s2);
    void (*normalize)(const float* x, size_t xs, float* y, size_t ys, size_t channels, size_t n,
                      const float* mean_hi, const float* mean_lo, const float* scale,
                      const float* w, const float* b);
    // mean_hi, mean_lo, scale of normalize from double means and scales, t < n
    static void split(const double* mean, const double* scale, size_t n, float* mean_hi,
                      float* mean_lo, float* scale_f);
};

const NormKernels& norm_kernels();         // the set matching mac_kernels()
const NormKernels& norm_kernels(Isa isa);  // a given set

} // namespace rill
