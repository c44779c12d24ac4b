// The complex block weight (complex_weight.hpp): expanded once at load.
#include "complex_weight.hpp"

#include <vector>

namespace rill::ops {

Tensor expand_complex_weight(const OpBuildContext& ctx, const Tensor& w, bool transposed) {
    if (w.shape.size() < 3 || w.shape[0] != 2 || w.numel() == 0)
        ctx.fail("a complex weight must be [2, A, B, kernel...] (real, imaginary), got " +
                 w.shape_string());
    const int64_t a = w.shape[1], b = w.shape[2];
    const int64_t taps = w.numel() / (2 * a * b);
    const int64_t cout = transposed ? b : a;
    const Tensor* scale = ctx.optional_weight("out_scale", {2 * cout});
    std::vector<int64_t> shape(w.shape.begin() + 1, w.shape.end());
    shape[0] *= 2;
    shape[1] *= 2;
    std::vector<float> out(static_cast<size_t>(4 * a * b * taps));
    // Block (p, q) of the [2A, 2B] result is sign * W_{re or im}: the real part on the diagonal,
    // the imaginary part off it, negated at (0, 1) for a conv and at (1, 0) when transposed.
    for (int64_t p = 0; p < 2; ++p)
        for (int64_t q = 0; q < 2; ++q) {
            const float* src = w.data + (p == q ? 0 : a * b * taps);
            const bool negate = transposed ? (p == 1 && q == 0) : (p == 0 && q == 1);
            for (int64_t i = 0; i < a; ++i)
                for (int64_t j = 0; j < b; ++j) {
                    const int64_t row = p * a + i, col = q * b + j;
                    const int64_t o = transposed ? col : row;
                    const float s = (negate ? -1.0f : 1.0f) * (scale ? scale->data[o] : 1.0f);
                    for (int64_t k = 0; k < taps; ++k)
                        out[static_cast<size_t>((row * 2 * b + col) * taps + k)] =
                            s * src[(i * b + j) * taps + k];
                }
        }
    return make_tensor(std::move(shape), std::move(out));
}

} // namespace rill::ops
