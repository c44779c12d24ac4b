// Output rows of a direct 2-D correlation (the conv steps' depthwise and few-input-channel paths),
// over an input the caller has laid out so that every tap is a contiguous run:
//   y[r * y_stride + o] = bias[r] + sum_{t < taps} w[r * taps + t] * x[off[t] + o],
//   r < rows (1..4), o < n
// summed in the order of t, bias first, with a multiply then an add (no fused multiply-add), so
// the scalar reference and the AVX2 set give the same results bit for bit. The rows share each
// load of x. x is read up to off[t] + round_up(n, 8) - 1 (the caller pads); y only up to n.
// Chosen by mac_kernels().isa like the gemm (RILL_FORCE_ISA=scalar forces the reference).
#pragma once

#include <cstddef>
#include <cstdint>

#include "mac.hpp"

namespace rill {

struct ConvRowKernels {
    Isa isa;
    static constexpr size_t kMaxRows = 4;
    void (*rows)(float* y, size_t y_stride, const float* x, const int64_t* off, const float* w,
                 size_t taps, const float* bias, size_t rows, size_t n);
};

const ConvRowKernels& conv_row_kernels();         // the set matching mac_kernels()
const ConvRowKernels& conv_row_kernels(Isa isa);  // a given set

} // namespace rill
