// Complex convolution weights (Trabelsi et al. 2018, "Deep complex networks"; DCCRN / FRCRN). On
// signals whose channels are [real parts | imaginary parts], a complex layer (W_re, W_im),
//   re = W_re xr - W_im xi,  im = W_im xr + W_re xi,
// is the real layer with the block weight
//   conv layout       [Cout, Cin, k...]:  [[W_re, -W_im], [W_im, W_re]]  -> [2Cout, 2Cin, k...]
//   transposed layout [Cin, Cout, k...]:  [[W_re, W_im], [-W_im, W_re]]  -> [2Cin, 2Cout, k...]
// given as one tensor [2, A, B, k...] (W_re, W_im). Attribute `complex` of conv2d_ft and
// conv_transpose2d_ft expands it at load, so a file holds each complex weight once; an optional
// weight `out_scale` [2 Cout] then multiplies output row o (a batch norm folded per part).
#pragma once

#include "rill/core/op.hpp"
#include "rill/core/tensor.hpp"

namespace rill::ops {

// The real block weight of `weight` [2, A, B, k...] (transposed: A = Cin, B = Cout; else A = Cout,
// B = Cin), output rows scaled by `out_scale` when given. Fails through ctx on bad shapes.
Tensor expand_complex_weight(const OpBuildContext& ctx, const Tensor& weight, bool transposed);

} // namespace rill::ops
