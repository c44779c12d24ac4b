// conv2d_ft: a 2-D convolution over (frequency, time) of spectrogram-like signals, where each
// stream frame carries Cin x F values (channel c*F + f: input channel c, frequency bin f) and time
// is the streaming axis (Wavehax's ConvNeXt blocks, FRCRN's encoder/decoder convolutions).
//
// Offline, torch: y = F.conv2d(xp, w, b, stride=(sf, 1), dilation=(df, dt), groups=G) on
// x [Cin, F, T], with xp = x padded in frequency by (pf0, pf1) bins (zeros, or the reflection
// x[-i] = x[i], x[F-1+i] = x[F-1-i] within each frame, mode "reflect") and in time by l zero
// frames before and r after:
//   y[o, f', t] = bias[o] + sum_{c in group(o)} sum_{i<kf} sum_{j<kt}
//                 w[o, c, i, j] * xp[c, f'*sf + i*df, t + j*dt],
//   F' = (F + pf0 + pf1 - (kf-1)*df - 1) / sf + 1; output channel o*F' + f'.
// Attribute `complex`: the weight is a complex pair expanded at load (complex_weight.hpp).
// Stream: time is treated as in conv1d with stride 1 (Caillon & Esling 2022): the last (kt-1)dt
// input frames are kept and each new frame ends a window, so the right padding r = (kt-1)dt - l
// becomes latency (kt-1)dt - l + cd instead of look-ahead. Frames the stream sees in negative time
// (the first cd) enter as zeros, as offline zero padding holds there. Frequency padding lies inside
// one frame, so any mode streams exactly.
//
// Memory: frames are kept frame-major and padded in frequency ([history + block] x Cin x Fp, Fp =
// F + pf0 + pf1), so every tap is a contiguous run of F' bins: a dense group is one small matrix
// product per tap (kernels/gemm.hpp), a depthwise one an axpy per tap (kernels/mac.hpp). With a
// frequency stride > 1 the taps' strided runs are first gathered into a contiguous [Cin/G x F']
// block (FRCRN's encoders). Under RILL_FORCE_ISA=scalar the plain reference loop below runs.
#include <algorithm>
#include <cstring>
#include <memory>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "../kernels/gemm.hpp"
#include "../kernels/mac.hpp"
#include "../kernels/transpose.hpp"
#include "complex_weight.hpp"
#include "families.hpp"
#include "frame_major.hpp"

namespace rill {
namespace {

struct Conv2dFtAttrs {
    int64_t cout = 0, cin_g = 0, kf = 1, kt = 1;
    int64_t groups = 1, df = 1, dt = 1, sf = 1;
    int64_t pf0 = 0, pf1 = 0, left = 0;
    bool reflect = false;
    int64_t bins = 0; // F, from the attribute or the input port (0: not known yet)
    Tensor weight, bias;

    int64_t cin() const { return cin_g * groups; }
    int64_t padded_bins() const { return bins + pf0 + pf1; }
    int64_t out_bins() const { return (padded_bins() - (kf - 1) * df - 1) / sf + 1; }
    int64_t history() const { return (kt - 1) * dt; }
};

std::pair<int64_t, int64_t> pair_attr(const OpBuildContext& ctx, const char* key,
                                      int64_t fallback) {
    auto v = ctx.attr_ints(key, {fallback, fallback});
    if (v.size() == 1)
        v.push_back(v[0]);
    if (v.size() != 2)
        ctx.fail(std::string("attribute '") + key + "' must have 2 values");
    return {v[0], v[1]};
}

Conv2dFtAttrs read_attrs(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    Conv2dFtAttrs a;
    a.weight = ctx.weight("weight");
    if (ctx.attr_int("complex", 0) != 0) // [2, Cout, Cin, kf, kt] -> [2Cout, 2Cin, kf, kt]
        a.weight = ops::expand_complex_weight(ctx, a.weight, false);
    if (a.weight.shape.size() != 4 || a.weight.numel() == 0)
        ctx.fail("weight must be 4-D [Cout, Cin/groups, kf, kt], got " + a.weight.shape_string());
    a.cout = a.weight.shape[0];
    a.cin_g = a.weight.shape[1];
    a.kf = a.weight.shape[2];
    a.kt = a.weight.shape[3];
    a.groups = ctx.attr_int("groups", 1);
    if (a.groups < 1 || a.cout % a.groups != 0)
        ctx.fail("groups must be >= 1 and divide Cout " + std::to_string(a.cout));
    std::tie(a.df, a.dt) = pair_attr(ctx, "dilation", 1);
    if (a.df < 1 || a.dt < 1 || a.df > 4096 || a.dt > 65536)
        ctx.fail("dilation must be [df, dt] with values >= 1");
    int64_t st = 1;
    std::tie(a.sf, st) = pair_attr(ctx, "stride", 1);
    if (a.sf < 1 || a.sf > 4096 || st != 1)
        ctx.fail("stride must be [sf, 1]: a frequency stride >= 1, time stride 1");
    std::tie(a.pf0, a.pf1) = pair_attr(ctx, "freq_padding", 0);
    int64_t right = 0;
    std::tie(a.left, right) = pair_attr(ctx, "time_padding", 0);
    if (a.pf0 < 0 || a.pf1 < 0 || a.left < 0 || right < 0)
        ctx.fail("paddings must be non-negative");
    if (a.left > a.history())
        ctx.fail("left time padding " + std::to_string(a.left) +
                 " exceeds the receptive field (kt-1)*dt = " + std::to_string(a.history()));
    const std::string mode = ctx.attr_string("freq_pad_mode", "zeros");
    if (mode != "zeros" && mode != "reflect")
        ctx.fail("freq_pad_mode must be zeros or reflect, got \"" + mode + "\"");
    a.reflect = mode == "reflect";
    a.bins = ctx.attr_int("bins", 0);
    if (a.bins < 0)
        ctx.fail("bins must be positive");
    if (const Tensor* b = ctx.optional_weight("bias", {a.cout}))
        a.bias = *b;
    return a;
}

class Conv2dFt final : public Op {
public:
    explicit Conv2dFt(const OpBuildContext& ctx) : a_(read_attrs(ctx)), where_(ctx.where()) {
        // Per (group, tap) a [Cout/G x Cin/G] matrix, for the matrix-product path.
        const int64_t cout_g = a_.cout / a_.groups, taps = a_.kf * a_.kt;
        auto packed = std::make_shared<std::vector<float>>(static_cast<size_t>(a_.weight.numel()));
        for (int64_t o = 0; o < a_.cout; ++o)
            for (int64_t c = 0; c < a_.cin_g; ++c)
                for (int64_t tap = 0; tap < taps; ++tap) {
                    const int64_t g = o / cout_g, r = o % cout_g;
                    (*packed)[static_cast<size_t>(((g * taps + tap) * cout_g + r) * a_.cin_g + c)] =
                        a_.weight.data[(o * a_.cin_g + c) * taps + tap];
                }
        packed_ = std::move(packed);
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<Conv2dFt>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        const int64_t cin = a_.cin();
        if (in[0].channels % cin != 0)
            fail_format(where_ + ": input has " + std::to_string(in[0].channels) +
                        " channels, not a multiple of Cin = " + std::to_string(cin));
        const int64_t bins = in[0].channels / cin;
        if (a_.bins != 0 && a_.bins != bins)
            fail_format(where_ + ": input has " + std::to_string(in[0].channels) +
                        " channels = " + std::to_string(bins) + " bins x Cin " +
                        std::to_string(cin) + ", attribute bins says " + std::to_string(a_.bins));
        a_.bins = bins;
        if (a_.reflect && (a_.pf0 >= bins || a_.pf1 >= bins))
            fail_format(where_ + ": reflect padding must be smaller than the " +
                        std::to_string(bins) + " bins");
        if (a_.padded_bins() < (a_.kf - 1) * a_.df + 1)
            fail_format(where_ + ": the frequency kernel is larger than the padded " +
                        std::to_string(a_.padded_bins()) + " bins");
        preroll_.latency = in[0].latency;
        const int64_t latency = a_.history() - a_.left + in[0].latency;
        return {PortInfo{static_cast<uint32_t>(a_.cout * a_.out_bins()), in[0].rate, latency}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        const size_t frame = frame_size(), hist = static_cast<size_t>(a_.history());
        max_frames_ = info.max_input_frames;
        frames_ = arena.state<float>(frame * (hist + max_frames_));
        preroll_.seen = arena.state<int64_t>(1);
        out_ = arena.scratch<float>(static_cast<size_t>(a_.cout * a_.out_bins()) * max_frames_);
        if (a_.sf != 1)
            strided_ = arena.scratch<float>(static_cast<size_t>(a_.cin_g * a_.out_bins()));
        mac_ = &mac_kernels();
        gemm_ = &gemm_kernels(mac_->isa);
        transpose_ = &transpose_kernels(mac_->isa);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t frame = frame_size(), hist = static_cast<size_t>(a_.history());
        const size_t skip = preroll_.consume(n);
        load(in[0], n, skip);
        const size_t y_size = static_cast<size_t>(a_.cout * a_.out_bins());
        for (size_t t = 0; t < n; ++t) {
            float* y = out_ + t * y_size;
            const float* x = frames_ + t * frame; // the window's first frame
            if (mac_->isa == Isa::Scalar)
                reference(x, y);
            else if (a_.cin_g == 1 && a_.sf == 1)
                depthwise(x, y);
            else
                dense(x, y);
        }
        ops::scatter_rows(*transpose_, out_, y_size, y_size, n, out[0]);
        // The last `hist` frames become the history of the next block.
        std::memmove(frames_, frames_ + n * frame, hist * frame * sizeof(float));
    }

private:
    size_t frame_size() const { return static_cast<size_t>(a_.cin() * a_.padded_bins()); }

    // Appends the n new frames after the history, frame-major, padded in frequency.
    void load(const ConstView& in, size_t n, size_t skip) noexcept {
        const size_t frame = frame_size(), fp = static_cast<size_t>(a_.padded_bins());
        const size_t bins = static_cast<size_t>(a_.bins), hist = static_cast<size_t>(a_.history());
        float* base = frames_ + hist * frame;
        for (size_t c = 0; c < static_cast<size_t>(a_.cin()); ++c)
            ops::gather_rows(*transpose_, in, c * bins, bins, n,
                             base + c * fp + static_cast<size_t>(a_.pf0), frame);
        for (size_t t = 0; t < skip; ++t) // negative time: offline zero padding
            std::fill_n(base + t * frame, frame, 0.0f);
        if (!a_.reflect)
            return; // the padding bins are zero from reset and never written
        const size_t p0 = static_cast<size_t>(a_.pf0), p1 = static_cast<size_t>(a_.pf1);
        for (size_t t = 0; t < n; ++t)
            for (size_t c = 0; c < static_cast<size_t>(a_.cin()); ++c) {
                float* row = base + t * frame + c * fp;
                for (size_t i = 1; i <= p0; ++i)
                    row[p0 - i] = row[p0 + i];
                for (size_t i = 1; i <= p1; ++i)
                    row[p0 + bins - 1 + i] = row[p0 + bins - 1 - i];
            }
    }

    // The frame of tap j of the window starting at x.
    const float* tap_frame(const float* x, int64_t j) const {
        return x + static_cast<size_t>(j * a_.dt) * frame_size();
    }

    void reference(const float* x, float* y) const noexcept {
        const int64_t fo = a_.out_bins(), fp = a_.padded_bins(), cout_g = a_.cout / a_.groups;
        const float* w = a_.weight.data;
        for (int64_t o = 0; o < a_.cout; ++o) {
            const int64_t g = o / cout_g;
            for (int64_t f = 0; f < fo; ++f) {
                float acc = a_.bias.data ? a_.bias.data[o] : 0.0f;
                for (int64_t c = 0; c < a_.cin_g; ++c)
                    for (int64_t i = 0; i < a_.kf; ++i)
                        for (int64_t j = 0; j < a_.kt; ++j)
                            acc += w[((o * a_.cin_g + c) * a_.kf + i) * a_.kt + j] *
                                   tap_frame(x, j)[(g * a_.cin_g + c) * fp + f * a_.sf + i * a_.df];
                y[o * fo + f] = acc;
            }
        }
    }

    void fill_bias(float* y) const noexcept {
        const size_t fo = static_cast<size_t>(a_.out_bins());
        for (int64_t o = 0; o < a_.cout; ++o)
            std::fill_n(y + o * fo, fo, a_.bias.data ? a_.bias.data[o] : 0.0f);
    }

    // Cin/G = 1: every output row is a sum of kf*kt scaled runs of its input row.
    void depthwise(const float* x, float* y) const noexcept {
        const size_t fo = static_cast<size_t>(a_.out_bins()),
                     fp = static_cast<size_t>(a_.padded_bins());
        const int64_t cout_g = a_.cout / a_.groups;
        fill_bias(y);
        for (int64_t o = 0; o < a_.cout; ++o) {
            const size_t c = static_cast<size_t>(o / cout_g);
            const float* w = a_.weight.data + o * a_.kf * a_.kt;
            for (int64_t j = 0; j < a_.kt; ++j) {
                const float* row = tap_frame(x, j) + c * fp;
                for (int64_t i = 0; i < a_.kf; ++i)
                    mac_->axpy(y + o * fo, 1, row + i * a_.df, w[i * a_.kt + j], fo);
            }
        }
    }

    // Per group and tap: Y_g [Cout/G x F'] += W_g,tap [Cout/G x Cin/G] X_g,tap [Cin/G x F'].
    void dense(const float* x, float* y) const noexcept {
        const size_t fo = static_cast<size_t>(a_.out_bins()),
                     fp = static_cast<size_t>(a_.padded_bins());
        const size_t cout_g = static_cast<size_t>(a_.cout / a_.groups);
        const size_t cin_g = static_cast<size_t>(a_.cin_g);
        const int64_t taps = a_.kf * a_.kt;
        fill_bias(y);
        for (int64_t g = 0; g < a_.groups; ++g)
            for (int64_t i = 0; i < a_.kf; ++i)
                for (int64_t j = 0; j < a_.kt; ++j) {
                    const float* w = packed_->data() +
                                     static_cast<size_t>(g * taps + i * a_.kt + j) * cout_g * cin_g;
                    const float* b = tap_frame(x, j) + static_cast<size_t>(g) * cin_g * fp +
                                     static_cast<size_t>(i * a_.df);
                    size_t ldb = fp;
                    if (a_.sf != 1) { // every sf-th bin of each row, made contiguous
                        for (size_t c = 0; c < cin_g; ++c)
                            for (size_t f = 0; f < fo; ++f)
                                strided_[c * fo + f] = b[c * fp + f * static_cast<size_t>(a_.sf)];
                        b = strided_;
                        ldb = fo;
                    }
                    gemm_->gemm(cout_g, fo, cin_g, w, cin_g, b, ldb, y + g * cout_g * fo, fo, true);
                }
    }

    Conv2dFtAttrs a_;
    std::string where_;
    std::shared_ptr<const std::vector<float>> packed_;
    PreRoll preroll_;
    size_t max_frames_ = 0;
    float* frames_ = nullptr;  // state: [history + block] frames of Cin x Fp
    float* out_ = nullptr;     // scratch: [block] frames of Cout x F'
    float* strided_ = nullptr; // scratch: one tap's strided input runs, [Cin/G x F']
    const MacKernels* mac_ = nullptr;
    const GemmKernels* gemm_ = nullptr;
    const TransposeKernels* transpose_ = nullptr;
};

} // namespace

std::unique_ptr<Op> make_conv2d_ft(const OpBuildContext& ctx) {
    return std::make_unique<Conv2dFt>(ctx);
}

} // namespace rill
