// Moving planar port signals (one run of frames per channel) to and from frame-major rows (the
// channels of one frame together), eight channels at a time through kernels/transpose.hpp: the
// layout of the 2-D convolutions over (frequency, time) (conv2d_ft, conv_transpose2d_ft).
//   gather_rows:  dst[t * ld + i] = in.channel(first + i)[t]   i < count, t < n
//   scatter_rows: out.channel(i)[t] = src[t * ld + i]          i < count, t < n
#pragma once

#include <algorithm>
#include <cstddef>

#include "rill/core/signal.hpp"

#include "../kernels/transpose.hpp"

namespace rill::ops {

inline void gather_rows(const TransposeKernels& k, const ConstView& in, size_t first, size_t count,
                        size_t n, float* dst, size_t ld) noexcept {
    const float* src[8];
    for (size_t i = 0; i < count; i += 8) {
        const size_t m = std::min<size_t>(8, count - i);
        for (size_t q = 0; q < m; ++q)
            src[q] = in.channel(static_cast<uint32_t>(first + i + q));
        k.gather(src, m, n, dst + i, ld);
    }
}

inline void scatter_rows(const TransposeKernels& k, const float* src, size_t ld, size_t count,
                         size_t n, const View& out) noexcept {
    float* dst[8];
    for (size_t i = 0; i < count; i += 8) {
        const size_t m = std::min<size_t>(8, count - i);
        for (size_t q = 0; q < m; ++q)
            dst[q] = out.channel(static_cast<uint32_t>(i + q));
        k.scatter(src + i, ld, m, n, dst);
    }
}

} // namespace rill::ops
