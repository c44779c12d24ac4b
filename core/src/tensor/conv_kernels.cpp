// Convolution steps over [N, C, spatial...] tensors with 1 or 2 spatial axes (ONNX Conv and
// ConvTranspose semantics; 1-D runs as 2-D with height 1).
//   conv:           y[n, m, o] = b[m] + sum_{c in group(m), k} w[m, c, k] x[n, c, o s - p_begin + k d]
//                   out size = floor((in + p_begin + p_end - d (K - 1) - 1) / s) + 1
//   conv_transpose: y[n, m, i s - p_begin + k d] += w[c, m, k] x[n, c, i]  (+ b[m])
//                   out size = s (in - 1) + output_padding + d (K - 1) + 1 - p_begin - p_end
// A fused activation (attr `activation` {fn, alpha, beta} of the unary step, or {fn: prelu} with
// the per-channel slope as input 3) is applied to each group's output block right after it is
// computed, while it is in cache (ONNX Conv -> Relu/PRelu/..., TFLite fused activations).
// Both are a matrix product per group (im2col + gemm for conv, gemm + col2im for the transposed
// form) on the AVX2 gemm of kernels/gemm.hpp. A conv with few output positions (P < 16, e.g. a
// strided STFT-like conv per frame) gathers each position's receptive field contiguously and
// takes a matrix-vector product (kernels/mac.hpp) per position instead. A conv with few input
// channels per group (depthwise, or the RGB input of an image model), where im2col would copy
// the input kh kw times for too short a product, runs direct: each group's input is copied once
// into zero-padded, stride-phase-split rows (see DirectLayout) and the output rows are summed
// tap by tap in registers (kernels/conv_rows.hpp).
#include <algorithm>
#include <cstring>

#include "../kernels/conv_rows.hpp"
#include "../kernels/gemm.hpp"
#include "../kernels/mac.hpp"
#include "elementwise.hpp"
#include "kernel.hpp"

namespace rill::tensor {
namespace {

struct Epilogue {
    bool on = false, prelu = false;
    UnaryFn fn = UnaryFn::Identity;
    float alpha = 0, beta = 0;
    const VecMath* vm = nullptr;

    static Epilogue read(const StepSpec& s, int64_t channels) {
        Epilogue e;
        if (!s.attrs.contains("activation"))
            return e;
        const auto& a = s.attrs.at("activation");
        const std::string fn = attr_string(a, "fn", "");
        e.on = true;
        e.vm = &vec_math();
        if (fn == "prelu") {
            e.prelu = true;
            if (s.in_shapes.size() < 4 || !s.present[3] || (numel(s.in_shapes[3]) != channels && numel(s.in_shapes[3]) != 1))
                fail_format(s.op + ": a prelu activation needs one slope per output channel (input 3)");
            return e;
        }
        e.fn = unary_fn(fn);
        e.alpha = static_cast<float>(attr_float(a, "alpha", 0));
        e.beta = static_cast<float>(attr_float(a, "beta", 0));
        return e;
    }

    // Channels [first, first + count) of planes of `plane` floats at y (y points at channel first).
    void apply(float* y, const float* slope, int64_t first, int64_t count, int64_t plane, bool one_slope) const noexcept {
        if (!on)
            return;
        if (!prelu) {
            unary_apply(fn, alpha, beta, *vm, y, y, count * plane);
            return;
        }
        if (one_slope)
            per_block_binary(BinaryFn::Prelu, y, slope, y, 1, count * plane);
        else
            per_block_binary(BinaryFn::Prelu, y, slope + first, y, count, plane);
    }
};

struct ConvGeometry {
    int64_t n = 1, c = 0, m = 0, group = 1;
    int64_t ih = 1, iw = 1, kh = 1, kw = 1, oh = 1, ow = 1;
    int64_t sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0, ph_end = 0, pw_end = 0;
    int64_t cg() const { return c / group; }
    int64_t mg() const { return m / group; }
};

// Reads strides/pads/dilations for `spatial` axes (1 or 2) into the 2-D geometry.
void read_geometry(const StepSpec& s, size_t spatial, ConvGeometry& g) {
    const auto st = attr_ints(s.attrs, "strides", std::vector<int64_t>(spatial, 1));
    const auto di = attr_ints(s.attrs, "dilations", std::vector<int64_t>(spatial, 1));
    const auto pa = attr_ints(s.attrs, "pads", std::vector<int64_t>(2 * spatial, 0));
    if (st.size() != spatial || di.size() != spatial || pa.size() != 2 * spatial)
        fail_format(s.op + ": strides, dilations and pads must match the " +
                    std::to_string(spatial) + " spatial axes");
    for (size_t i = 0; i < spatial; ++i)
        if (st[i] < 1 || di[i] < 1 || pa[i] < 0 || pa[i + spatial] < 0)
            fail_format(s.op + ": strides and dilations must be >= 1 and pads >= 0");
    g.group = attr_int(s.attrs, "group", 1);
    if (spatial == 2) {
        g.sh = st[0], g.sw = st[1], g.dh = di[0], g.dw = di[1];
        g.ph = pa[0], g.pw = pa[1], g.ph_end = pa[2], g.pw_end = pa[3];
    } else {
        g.sw = st[0], g.dw = di[0], g.pw = pa[0], g.pw_end = pa[1];
    }
}

size_t spatial_axes(const StepSpec& s) {
    const size_t r = s.in_shapes[0].size();
    if (r != 3 && r != 4)
        fail_unsupported(s.op + " over " + std::to_string(r) + "-D tensors (1 or 2 spatial axes are supported)");
    if (s.in_shapes[1].size() != r)
        fail_format(s.op + ": weight " + to_string(s.in_shapes[1]) + " does not match input " +
                    to_string(s.in_shapes[0]));
    return r - 2;
}

void set_spatial(const Shape& x, const Shape& w, size_t spatial, ConvGeometry& g) {
    g.n = x[0];
    g.ih = spatial == 2 ? x[2] : 1;
    g.iw = x.back();
    g.kh = spatial == 2 ? w[2] : 1;
    g.kw = w.back();
}

Shape out_shape(const ConvGeometry& g, size_t spatial) {
    return spatial == 2 ? Shape{g.n, g.m, g.oh, g.ow} : Shape{g.n, g.m, g.ow};
}

// The direct path's copy of one group's input: each channel as `rows` padded rows (ph zero rows,
// the input rows, zero rows), each row as sw phases of `len` floats, phase q holding the padded
// columns q, q + sw, q + 2 sw, ... (zeros outside the input). Tap (c, i, j) of output (oy, ox)
// then reads channel c, row oy sh + i dh, phase (j dw) % sw, index ox + (j dw) / sw: for a row
// of outputs, one contiguous run starting at row_floats() oy sh + off[tap].
struct DirectLayout {
    int64_t rows = 0, len = 0;
    std::vector<int64_t> off; // per tap (c, i, j), in the weights' order

    DirectLayout() = default;
    explicit DirectLayout(const ConvGeometry& g)
        : rows((g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1),
          len((g.ow + 7) / 8 * 8 + (g.kw - 1) * g.dw / g.sw) {
        for (int64_t c = 0; c < g.cg(); ++c)
            for (int64_t i = 0; i < g.kh; ++i)
                for (int64_t j = 0; j < g.kw; ++j)
                    off.push_back((c * rows + i * g.dh) * g.sw * len + (j * g.dw) % g.sw * len + j * g.dw / g.sw);
    }
    int64_t row_floats(const ConvGeometry& g) const { return g.sw * len; }
    int64_t floats(const ConvGeometry& g) const { return g.cg() * rows * row_floats(g); }

    // x: the group's cg input planes.
    void fill(const ConvGeometry& g, const float* x, float* p) const noexcept {
        for (int64_t c = 0; c < g.cg(); ++c)
            for (int64_t r = 0; r < rows; ++r) {
                float* d = p + (c * rows + r) * row_floats(g);
                const int64_t iy = r - g.ph;
                if (iy < 0 || iy >= g.ih) {
                    std::fill_n(d, row_floats(g), 0.0f);
                    continue;
                }
                const float* src = x + (c * g.ih + iy) * g.iw - g.pw; // src[X]: padded column X
                for (int64_t q = 0; q < g.sw; ++q, d += len) {
                    // index k holds padded column k sw + q, an input column for k in [lo, hi)
                    const int64_t lo = std::min(len, std::max<int64_t>(0, (g.pw - q + g.sw - 1) / g.sw));
                    const int64_t hi = std::max(lo, std::min(len, (g.pw + g.iw - q + g.sw - 1) / g.sw));
                    std::fill_n(d, lo, 0.0f);
                    if (g.sw == 1)
                        std::copy(src + lo, src + hi, d + lo);
                    else if (g.sw == 2) // a constant stride, which the compiler vectorises
                        for (int64_t k = lo; k < hi; ++k)
                            d[k] = src[2 * k + q];
                    else
                        for (int64_t k = lo; k < hi; ++k)
                            d[k] = src[k * g.sw + q];
                    std::fill_n(d + hi, len - hi, 0.0f);
                }
            }
    }
};

class ConvKernel final : public TensorKernel {
public:
    ConvKernel(const ConvGeometry& g, Epilogue e, bool one_slope)
        : g_(g), gemm_(gemm_kernels()), matvec_(mac_kernels().matvec), rows_(conv_row_kernels()),
          epilogue_(e), one_slope_(one_slope) {
        pointwise_ = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 &&
                     g.ph_end == 0 && g.pw_end == 0;
        direct_ = g.cg() == 1 || (g.cg() <= kDirectChannels && !pointwise_);
        by_position_ = !direct_ && g.oh * g.ow < kFewPositions;
        if (by_position_ || direct_)
            pointwise_ = false;
        if (direct_)
            direct_layout_ = DirectLayout(g);
    }
    size_t scratch_floats() const override {
        if (direct_)
            return static_cast<size_t>(direct_layout_.floats(g_));
        const auto col = static_cast<size_t>(g_.cg() * g_.kh * g_.kw * g_.oh * g_.ow);
        return pointwise_ ? 0 : by_position_ ? 2 * col + static_cast<size_t>(g_.mg()) : col;
    }
    void run(const float* const* in, float* const* out, float* col) const noexcept override {
        if (direct_) {
            run_direct(in, out[0], col);
            return;
        }
        const auto& g = g_;
        const int64_t k = g.cg() * g.kh * g.kw, p = g.oh * g.ow;
        const GemmKernels& gemm = gemm_;
        for (int64_t n = 0; n < g.n; ++n) {
            for (int64_t gi = 0; gi < g.group; ++gi) {
                const float* x = in[0] + (n * g.c + gi * g.cg()) * g.ih * g.iw;
                const float* b = x;
                if (!pointwise_) {
                    im2col(x, col);
                    b = col;
                }
                float* y = out[0] + (n * g.m + gi * g.mg()) * p;
                if (by_position_) {
                    // col holds [K x P]; dot products need each position's K values contiguous.
                    float* rows = col + k * p;
                    for (int64_t i = 0; i < p; ++i)
                        for (int64_t r = 0; r < k; ++r)
                            rows[i * k + r] = col[r * p + i];
                    const float* w = in[1] + gi * g.mg() * k;
                    float* column = rows + k * p;
                    for (int64_t i = 0; i < p; ++i) {
                        matvec_(w, static_cast<size_t>(k), rows + i * k, static_cast<size_t>(g.mg()),
                                static_cast<size_t>(k), column);
                        for (int64_t m = 0; m < g.mg(); ++m)
                            y[m * p + i] = column[m] + (in[2] ? in[2][gi * g.mg() + m] : 0.0f);
                    }
                    epilogue_.apply(y, in[3], gi * g.mg(), g.mg(), p, one_slope_);
                    continue;
                }
                gemm.gemm(static_cast<size_t>(g.mg()), static_cast<size_t>(p), static_cast<size_t>(k),
                          in[1] + gi * g.mg() * k, static_cast<size_t>(k), b, static_cast<size_t>(p), y,
                          static_cast<size_t>(p), false);
                if (in[2])
                    for (int64_t m = 0; m < g.mg(); ++m) {
                        const float bias = in[2][gi * g.mg() + m];
                        for (int64_t i = 0; i < p; ++i)
                            y[m * p + i] += bias;
                    }
                epilogue_.apply(y, in[3], gi * g.mg(), g.mg(), p, one_slope_);
            }
        }
    }

private:
    // Per group: the input copied once into the direct layout, then blocks of up to 4 output
    // channels row by row, each block's activation applied while it is in cache.
    void run_direct(const float* const* in, float* y, float* padded) const noexcept {
        const auto& g = g_;
        const DirectLayout& d = direct_layout_;
        const int64_t taps = g.cg() * g.kh * g.kw, plane = g.oh * g.ow;
        const auto block = static_cast<int64_t>(ConvRowKernels::kMaxRows);
        for (int64_t n = 0; n < g.n; ++n)
            for (int64_t gi = 0; gi < g.group; ++gi) {
                d.fill(g, in[0] + (n * g.c + gi * g.cg()) * g.ih * g.iw, padded);
                for (int64_t m0 = 0; m0 < g.mg(); m0 += block) {
                    const int64_t m = gi * g.mg() + m0, count = std::min(block, g.mg() - m0);
                    float* ym = y + (n * g.m + m) * plane;
                    for (int64_t oy = 0; oy < g.oh; ++oy)
                        rows_.rows(ym + oy * g.ow, static_cast<size_t>(plane),
                                   padded + oy * g.sh * d.row_floats(g), d.off.data(), in[1] + m * taps,
                                   static_cast<size_t>(taps), in[2] ? in[2] + m : nullptr,
                                   static_cast<size_t>(count), static_cast<size_t>(g.ow));
                    epilogue_.apply(ym, in[3], m, count, plane, one_slope_);
                }
            }
    }

    void im2col(const float* x, float* col) const noexcept {
        const auto& g = g_;
        for (int64_t c = 0; c < g.cg(); ++c)
            for (int64_t i = 0; i < g.kh; ++i)
                for (int64_t j = 0; j < g.kw; ++j) {
                    float* row = col + ((c * g.kh + i) * g.kw + j) * g.oh * g.ow;
                    for (int64_t oy = 0; oy < g.oh; ++oy) {
                        const int64_t y = oy * g.sh - g.ph + i * g.dh;
                        float* r = row + oy * g.ow;
                        if (y < 0 || y >= g.ih) {
                            std::fill_n(r, g.ow, 0.0f);
                            continue;
                        }
                        const float* src = x + (c * g.ih + y) * g.iw;
                        for (int64_t ox = 0; ox < g.ow; ++ox) {
                            const int64_t xx = ox * g.sw - g.pw + j * g.dw;
                            r[ox] = (xx >= 0 && xx < g.iw) ? src[xx] : 0.0f;
                        }
                    }
                }
    }

    static constexpr int64_t kFewPositions = 16, kDirectChannels = 4;
    ConvGeometry g_;
    const GemmKernels& gemm_; // chosen at load, never on the audio thread
    void (*matvec_)(const float*, size_t, const float*, size_t, size_t, float*);
    const ConvRowKernels& rows_;
    DirectLayout direct_layout_;
    Epilogue epilogue_;
    bool one_slope_ = false;
    bool pointwise_ = false, by_position_ = false, direct_ = false;
};

class ConvTransposeKernel final : public TensorKernel {
public:
    ConvTransposeKernel(const ConvGeometry& g, const float* w) : g_(g), gemm_(gemm_kernels()) {
        // a[group][(m, kh, kw), c] = w[group c, m, kh, kw]: the transposed block of each group.
        const int64_t rows = g.mg() * g.kh * g.kw;
        a_.resize(static_cast<size_t>(g.group * rows * g.cg()));
        for (int64_t gi = 0; gi < g.group; ++gi)
            for (int64_t c = 0; c < g.cg(); ++c)
                for (int64_t r = 0; r < rows; ++r)
                    a_[static_cast<size_t>((gi * rows + r) * g.cg() + c)] = w[(gi * g.cg() + c) * rows + r];
    }
    size_t scratch_floats() const override {
        return static_cast<size_t>(g_.mg() * g_.kh * g_.kw * g_.ih * g_.iw);
    }
    void run(const float* const* in, float* const* out, float* col) const noexcept override {
        const auto& g = g_;
        const int64_t rows = g.mg() * g.kh * g.kw, p = g.ih * g.iw, op = g.oh * g.ow;
        const GemmKernels& gemm = gemm_;
        std::fill_n(out[0], g.n * g.m * op, 0.0f);
        for (int64_t n = 0; n < g.n; ++n)
            for (int64_t gi = 0; gi < g.group; ++gi) {
                const float* x = in[0] + (n * g.c + gi * g.cg()) * p;
                gemm.gemm(static_cast<size_t>(rows), static_cast<size_t>(p), static_cast<size_t>(g.cg()),
                          a_.data() + gi * rows * g.cg(), static_cast<size_t>(g.cg()), x,
                          static_cast<size_t>(p), col, static_cast<size_t>(p), false);
                float* y = out[0] + (n * g.m + gi * g.mg()) * op;
                for (int64_t m = 0; m < g.mg(); ++m)
                    for (int64_t i = 0; i < g.kh; ++i)
                        for (int64_t j = 0; j < g.kw; ++j) {
                            const float* r = col + ((m * g.kh + i) * g.kw + j) * p;
                            for (int64_t iy = 0; iy < g.ih; ++iy) {
                                const int64_t oy = iy * g.sh - g.ph + i * g.dh;
                                if (oy < 0 || oy >= g.oh)
                                    continue;
                                float* dst = y + (m * g.oh + oy) * g.ow;
                                for (int64_t ix = 0; ix < g.iw; ++ix) {
                                    const int64_t ox = ix * g.sw - g.pw + j * g.dw;
                                    if (ox >= 0 && ox < g.ow)
                                        dst[ox] += r[iy * g.iw + ix];
                                }
                            }
                        }
                if (in[2])
                    for (int64_t m = 0; m < g.mg(); ++m)
                        for (int64_t i = 0; i < op; ++i)
                            y[m * op + i] += in[2][gi * g.mg() + m];
            }
    }

private:
    ConvGeometry g_;
    const GemmKernels& gemm_; // chosen at load, never on the audio thread
    std::vector<float> a_;
};

void check_group_and_bias(const StepSpec& s, const ConvGeometry& g) {
    if (g.group < 1 || g.c % g.group != 0 || g.m % g.group != 0)
        fail_format(s.op + ": group " + std::to_string(g.group) + " does not divide the " +
                    std::to_string(g.c) + " input and " + std::to_string(g.m) + " output channels");
    if (s.in_shapes.size() > 2 && s.present[2] && s.in_shapes[2] != Shape{g.m})
        fail_format(s.op + ": bias " + to_string(s.in_shapes[2]) + " must be [" + std::to_string(g.m) + "]");
}

} // namespace

BuiltStep build_conv(const StepSpec& s) {
    expect_step_inputs(s, 2, 4);
    const size_t spatial = spatial_axes(s);
    const Shape &x = s.in_shapes[0], &w = s.in_shapes[1];
    ConvGeometry g;
    read_geometry(s, spatial, g);
    set_spatial(x, w, spatial, g);
    g.c = x[1];
    g.m = w[0];
    check_group_and_bias(s, g);
    if (w[1] * g.group != g.c)
        fail_format("conv: weight " + to_string(w) + " expects " + std::to_string(w[1] * g.group) +
                    " input channels, input " + to_string(x) + " has " + std::to_string(g.c));
    g.oh = (g.ih + g.ph + g.ph_end - g.dh * (g.kh - 1) - 1) / g.sh + 1;
    g.ow = (g.iw + g.pw + g.pw_end - g.dw * (g.kw - 1) - 1) / g.sw + 1;
    if (g.oh < 1 || g.ow < 1)
        fail_format("conv: kernel larger than the padded input " + to_string(x));
    checked_numel({2 * g.cg() * g.kh * g.kw, g.oh * g.ow}); // im2col scratch
    checked_numel({g.cg() * g.sw, (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1, g.ow + 8 + g.kw * g.dw}); // direct
    const Epilogue e = Epilogue::read(s, g.m);
    const bool one_slope = e.prelu && numel(s.in_shapes[3]) == 1;
    return {std::make_shared<ConvKernel>(g, e, one_slope), {out_shape(g, spatial)}};
}

BuiltStep build_conv_transpose(const StepSpec& s) {
    expect_step_inputs(s, 2, 3);
    const size_t spatial = spatial_axes(s);
    if (!s.constants[1])
        fail_unsupported("conv_transpose with a weight computed at run time");
    const Shape &x = s.in_shapes[0], &w = s.in_shapes[1];
    ConvGeometry g;
    read_geometry(s, spatial, g);
    set_spatial(x, w, spatial, g);
    g.c = x[1];
    if (w[0] != g.c)
        fail_format("conv_transpose: weight " + to_string(w) + " expects " + std::to_string(w[0]) +
                    " input channels, input has " + std::to_string(g.c));
    g.m = w[1] * g.group;
    check_group_and_bias(s, g);
    const auto opad = attr_ints(s.attrs, "output_padding", std::vector<int64_t>(spatial, 0));
    if (opad.size() != spatial)
        fail_format("conv_transpose: output_padding must have one value per spatial axis");
    const int64_t oph = spatial == 2 ? opad[0] : 0, opw = opad.back();
    g.oh = g.sh * (g.ih - 1) + oph + g.dh * (g.kh - 1) + 1 - g.ph - g.ph_end;
    g.ow = g.sw * (g.iw - 1) + opw + g.dw * (g.kw - 1) + 1 - g.pw - g.pw_end;
    if (g.oh < 1 || g.ow < 1)
        fail_format("conv_transpose: pads remove the whole output");
    checked_numel({g.n, g.m, g.oh, g.ow});
    checked_numel({g.mg() * g.kh * g.kw, g.ih * g.iw}); // col2im scratch
    return {std::make_shared<ConvTransposeKernel>(g, s.constants[1]), {out_shape(g, spatial)}};
}

} // namespace rill::tensor
