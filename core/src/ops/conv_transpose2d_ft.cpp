// conv_transpose2d_ft: a 2-D transposed convolution over (frequency, time) of spectrogram-like
// signals (frames of Cin x F values, channel c*F + f; time the streaming axis), as the decoders of
// DCCRN / FRCRN upsample frequency (Hu et al. 2020, "DCCRN: Deep complex convolution recurrent
// network for phase-aware speech enhancement").
//
// Offline, torch: y = F.conv_transpose2d(x, w, b, stride=(sf, 1), padding=(pf, pt)) on
// x [Cin, F, T], w [Cin, Cout, kf, kt]:
//   y[o, f', t] = bias[o] + sum_c sum_{i<kf} sum_{j<kt} w[c, o, i, j] * x[c, f, t + pt - j]
//                 over the f with f*sf + i = f' + pf,
//   F' = (F - 1)*sf + kf - 2*pf bins (output channel o*F' + f'), T + kt - 1 - 2*pt frames.
// Attribute `complex`: the weight is a complex pair expanded at load (complex_weight.hpp).
// Stream: output frame t needs input frames t + pt - (kt-1) .. t + pt, so the op keeps the last
// kt-1 input frames and each new input frame ends the window of output frame t = (its index) - pt:
// latency pt + cd (0 <= pt <= kt-1). Input frames in negative time (the first cd) enter as zeros,
// as offline has no frames there.
//
// Work per output frame: for each frequency tap i, Z_i [Cout x F] = sum_j W_ij X_{t-j} (W_ij =
// w[:, :, i, j] transposed; one small matrix product per (i, j), kernels/gemm.hpp), then Z_i is
// added to the output bins f*sf + i - pf. Frames are kept frame-major (frame_major.hpp).
#include <algorithm>
#include <cstring>
#include <memory>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "../kernels/gemm.hpp"
#include "complex_weight.hpp"
#include "families.hpp"
#include "frame_major.hpp"

namespace rill {
namespace {

struct ConvTranspose2dFtAttrs {
    int64_t cin = 0, cout = 0, kf = 1, kt = 1, sf = 1, pf = 0, pt = 0;
    int64_t bins = 0; // F, from the input port
    Tensor weight, bias;

    int64_t out_bins() const { return (bins - 1) * sf + kf - 2 * pf; }
    int64_t history() const { return kt - 1; }
};

ConvTranspose2dFtAttrs read_attrs(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    ConvTranspose2dFtAttrs a;
    a.weight = ctx.weight("weight");
    if (ctx.attr_int("complex", 0) != 0) // [2, Cin, Cout, kf, kt] -> [2Cin, 2Cout, kf, kt]
        a.weight = ops::expand_complex_weight(ctx, a.weight, true);
    if (a.weight.shape.size() != 4 || a.weight.numel() == 0)
        ctx.fail("weight must be 4-D [Cin, Cout, kf, kt], got " + a.weight.shape_string());
    a.cin = a.weight.shape[0];
    a.cout = a.weight.shape[1];
    a.kf = a.weight.shape[2];
    a.kt = a.weight.shape[3];
    if (ctx.attr_int("groups", 1) != 1)
        ctx.fail("only groups 1 is supported");
    const auto stride = ctx.attr_ints("stride", {1, 1});
    if (stride.size() != 2 || stride[0] < 1 || stride[0] > 4096 || stride[1] != 1)
        ctx.fail("stride must be [sf, 1]: a frequency stride >= 1, time stride 1");
    a.sf = stride[0];
    a.pf = ctx.attr_int("freq_padding", 0);
    a.pt = ctx.attr_int("time_padding", 0);
    if (a.pf < 0 || a.pt < 0 || a.pt > a.history())
        ctx.fail("freq_padding must be >= 0 and time_padding in [0, kt-1] = [0, " +
                 std::to_string(a.history()) + "]");
    if (const Tensor* b = ctx.optional_weight("bias", {a.cout}))
        a.bias = *b;
    return a;
}

class ConvTranspose2dFt final : public Op {
public:
    explicit ConvTranspose2dFt(const OpBuildContext& ctx)
        : a_(read_attrs(ctx)), where_(ctx.where()) {
        // Per tap (i, j) the [Cout x Cin] matrix w[:, :, i, j]^T.
        const int64_t taps = a_.kf * a_.kt;
        auto packed = std::make_shared<std::vector<float>>(static_cast<size_t>(a_.weight.numel()));
        for (int64_t c = 0; c < a_.cin; ++c)
            for (int64_t o = 0; o < a_.cout; ++o)
                for (int64_t tap = 0; tap < taps; ++tap)
                    (*packed)[static_cast<size_t>((tap * a_.cout + o) * a_.cin + c)] =
                        a_.weight.data[(c * a_.cout + o) * taps + tap];
        packed_ = std::move(packed);
    }

    std::unique_ptr<Op> clone() const override {
        return std::make_unique<ConvTranspose2dFt>(*this);
    }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        if (in[0].channels % a_.cin != 0)
            fail_format(where_ + ": input has " + std::to_string(in[0].channels) +
                        " channels, not a multiple of Cin = " + std::to_string(a_.cin));
        a_.bins = in[0].channels / a_.cin;
        if (a_.out_bins() < 1)
            fail_format(where_ + ": freq_padding leaves no output bins");
        preroll_.latency = in[0].latency;
        return {PortInfo{static_cast<uint32_t>(a_.cout * a_.out_bins()), in[0].rate,
                         a_.pt + in[0].latency}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        const size_t frame = frame_size(), hist = static_cast<size_t>(a_.history());
        max_frames_ = info.max_input_frames;
        frames_ = arena.state<float>(frame * (hist + max_frames_));
        preroll_.seen = arena.state<int64_t>(1);
        out_ = arena.scratch<float>(out_size() * max_frames_);
        z_ = arena.scratch<float>(static_cast<size_t>(a_.cout * a_.bins));
        gemm_ = &gemm_kernels();
        transpose_ = &transpose_kernels(gemm_->isa);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t frame = frame_size(), hist = static_cast<size_t>(a_.history());
        const size_t skip = preroll_.consume(n);
        float* base = frames_ + hist * frame; // the n new frames follow the history
        ops::gather_rows(*transpose_, in[0], 0, frame, n, base, frame);
        std::fill_n(base, skip * frame, 0.0f); // negative time: no frames offline
        for (size_t t = 0; t < n; ++t)
            output_frame(base + t * frame, out_ + t * out_size());
        ops::scatter_rows(*transpose_, out_, out_size(), out_size(), n, out[0]);
        std::memmove(frames_, frames_ + n * frame, hist * frame * sizeof(float));
    }

private:
    size_t frame_size() const { return static_cast<size_t>(a_.cin * a_.bins); }
    size_t out_size() const { return static_cast<size_t>(a_.cout * a_.out_bins()); }

    // x: the newest input frame of the window (earlier frames precede it in frames_).
    void output_frame(const float* x, float* y) const noexcept {
        const size_t cout = static_cast<size_t>(a_.cout), cin = static_cast<size_t>(a_.cin);
        const size_t bins = static_cast<size_t>(a_.bins), fo = static_cast<size_t>(a_.out_bins());
        for (size_t o = 0; o < cout; ++o)
            std::fill_n(y + o * fo, fo, a_.bias.data ? a_.bias.data[o] : 0.0f);
        for (int64_t i = 0; i < a_.kf; ++i) {
            for (int64_t j = 0; j < a_.kt; ++j) {
                const float* w = packed_->data() + static_cast<size_t>(i * a_.kt + j) * cout * cin;
                gemm_->gemm(cout, bins, cin, w, cin, x - static_cast<size_t>(j) * frame_size(),
                            bins, z_, bins, j > 0);
            }
            // Output bin f*sf + i - pf for the input bins f that land inside [0, F').
            const int64_t first = std::max<int64_t>(0, (a_.pf - i + a_.sf - 1) / a_.sf);
            for (size_t o = 0; o < cout; ++o) {
                const float* z = z_ + o * bins;
                float* row = y + o * fo;
                for (int64_t f = first; f < a_.bins; ++f) {
                    const int64_t at = f * a_.sf + i - a_.pf;
                    if (at >= static_cast<int64_t>(fo))
                        break;
                    row[at] += z[f];
                }
            }
        }
    }

    ConvTranspose2dFtAttrs a_;
    std::string where_;
    std::shared_ptr<const std::vector<float>> packed_;
    PreRoll preroll_;
    size_t max_frames_ = 0;
    float* frames_ = nullptr; // state: [history + block] frames of Cin x F
    float* out_ = nullptr;    // scratch: [block] frames of Cout x F'
    float* z_ = nullptr;      // scratch: one tap's [Cout x F] product
    const GemmKernels* gemm_ = nullptr;
    const TransposeKernels* transpose_ = nullptr;
};

} // namespace

std::unique_ptr<Op> make_conv_transpose2d_ft(const OpBuildContext& ctx) {
    return std::make_unique<ConvTranspose2dFt>(ctx);
}

} // namespace rill
