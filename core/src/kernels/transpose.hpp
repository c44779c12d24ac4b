// Moving data between planar signals (one contiguous run of frames per channel) and token-major
// rows (all channels of one frame together), eight channels at a time. The AVX2 set transposes
// 8 x 8 tiles in registers; the scalar set is the reference. Chosen by mac_kernels().isa.
//   gather:  dst[f * ld + c] = src[c][f]     c < n <= 8, f < len
//   scatter: dst[c][f] = src[f * ld + c]     c < n <= 8, f < len
#pragma once

#include <cstddef>

#include "mac.hpp"

namespace rill {

struct TransposeKernels {
    Isa isa;
    void (*gather)(const float* const* src, size_t n, size_t len, float* dst, size_t ld);
    void (*scatter)(const float* src, size_t ld, size_t n, size_t len, float* const* dst);
};

const TransposeKernels& transpose_kernels();
const TransposeKernels& transpose_kernels(Isa isa);

} // namespace rill
