// The per-frame loops of the channel norms (ops/norm.cpp), over channel-major blocks (channel c
// at x + c*xs, frames contiguous), in double precision:
//   moments:    s1[t] += sum_c x[c, t],  s2[t] += sum_c x[c, t]^2   (s2 null: s1 only)
//   deviations: s2[t] += sum_c (x[c, t] - mean[t])^2
//   normalize:  y[c, t] = float((x[c, t] - mean[t]) * scale[t] * w[c] + b[c])   (w, b null: 1, 0)
// for c < channels, t < n, summed over c in order. Two sets as for MacKernels, the same body
// compiled for the baseline and for AVX2 (no fused multiply-add), so both give the same results.
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
                      const double* mean, const double* scale, const float* w, const float* b);
};

const NormKernels& norm_kernels();         // the set matching mac_kernels()
const NormKernels& norm_kernels(Isa isa);  // a given set

} // namespace rill
