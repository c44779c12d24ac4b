// conv1d as a cached streaming convolution (Caillon & Esling 2022, "Streamable neural audio
// synthesis with non-causal convolutions").
//
// Offline: y[o, t] = bias[o] + sum_{c in group(o)} sum_j w[o, c, j] * xp[c, t*s + j*d],
//          xp = [l zeros | x | r zeros]  (torch: F.conv1d(F.pad(x, (l, r)), w, b, s, 0, d, g)).
// Stream: the input carries latency cd (stream frame i = offline frame i - cd). The op keeps the
// last (k-1)d input frames and evaluates the windows that END at input frames u = m*s + phase,
// phase = D mod s, D = (k-1)d - l + cd. Then stream output m = offline output m - floor(D / s):
// the right padding r becomes latency instead of look-ahead we would wait for, and the phase
// plays the role of the stride-alignment delay line.
// Dense convolutions (groups 1, at least 16 output channels) gather the windows of up to
// kColumns outputs (im2col: row c*k + j holds x[c, m*s + j*d]) and multiply them with the weight
// packed at load (kernels/packed_linear.hpp); the sums run in the same order as the per-channel
// path (equal to rounding: the packed AVX2 product fuses each multiply-add). A pointwise one
// (k 1, stride 1) keeps no history and reads its input where it is: its pre-roll outputs are
// negative time, which every op with state discards itself (preroll.hpp), as after `linear`.
#include <algorithm>
#include <memory>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "../kernels/mac.hpp"
#include "../kernels/packed_linear.hpp"
#include "../kernels/slope.hpp"
#include "conv_attrs.hpp"
#include "sliding_input.hpp"

namespace rill {
namespace {

class Conv1d final : public Op {
public:
    explicit Conv1d(const OpBuildContext& ctx) : a_(ConvAttrs::read(ctx, false)) {
        auto pad = ctx.attr_ints("padding", {0, 0});
        if (pad.size() == 1)
            pad.push_back(pad[0]);
        if (pad.size() != 2 || pad[0] < 0 || pad[1] < 0)
            ctx.fail("padding must be [left, right] with non-negative values");
        left_ = pad[0];
        if (left_ > (a_.kernel - 1) * a_.dilation)
            ctx.fail("left padding " + std::to_string(left_) +
                     " exceeds the receptive field (k-1)*d = " +
                     std::to_string((a_.kernel - 1) * a_.dilation));
        const int64_t cout = a_.out_channels(false), span = a_.weight.shape[1] * a_.kernel;
        if (a_.groups == 1 && cout >= static_cast<int64_t>(PackedMatrix::kRows))
            packed_ = std::make_shared<const PackedMatrix>(
                pack_matrix(a_.weight.data, static_cast<size_t>(cout), static_cast<size_t>(span),
                            static_cast<size_t>(span), a_.bias_data()));
        where_ = ctx.where();
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<Conv1d>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        a_.check_input(in[0], false, where_);
        input_latency_ = in[0].latency;
        const int64_t d = (a_.kernel - 1) * a_.dilation - left_ + input_latency_;
        phase_ = d % a_.stride;
        return {PortInfo{static_cast<uint32_t>(a_.out_channels(false)),
                         in[0].rate.divided_by(a_.stride), d / a_.stride}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        packed_kernels_ = &packed_linear_kernels();
        if (pointwise()) {
            pack_ = arena.scratch<float>(
                PackedLinearKernels::pack_floats(packed_->cols, info.max_input_frames));
            return;
        }
        input_.take(arena, static_cast<uint32_t>(a_.in_channels(false)),
                    static_cast<size_t>((a_.kernel - 1) * a_.dilation), info.max_input_frames,
                    input_latency_);
        mac_ = &mac_kernels();
        const size_t span = static_cast<size_t>(a_.weight.shape[1] * a_.kernel);
        col_ = arena.scratch<float>(span * (packed_ ? kColumns : 1));
    }

    // A following prelu / leaky_relu (Op::absorb): applied to each output row as it is computed.
    bool absorb(const EpilogueStage& stage) override {
        const size_t count = static_cast<size_t>(stage.slope.numel());
        if (stage.kind != EpilogueStage::Kind::Slope || slope_.data ||
            (count != 1 && count != static_cast<size_t>(a_.out_channels(false))))
            return false;
        slope_ = stage.slope;
        return true;
    }

    // The block straight into the cached history (a pointwise conv keeps none).
    View input_destination(uint32_t, size_t frames) noexcept override {
        return pointwise() ? View{} : input_.destination(frames);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t n_out,
                 const ProcessContext&) noexcept override {
        if (pointwise()) {
            LinearEpilogue e;
            e.slope = slope_.data;
            e.slope_count = static_cast<size_t>(slope_.numel());
            packed_kernels_->apply(*packed_, in[0].data, in[0].stride, out[0].data, out[0].stride,
                                   n, pack_, e);
            return;
        }
        if (correlate(in[0], out[0], n, n_out) && slope_.data)
            for (uint32_t o = 0; o < out[0].channels; ++o)
                slope_row(out[0].channel(o), n_out, slope_.data[slope_.numel() > 1 ? o : 0]);
    }

private:
    static constexpr size_t kColumns = 96; // outputs gathered per im2col pass

    // The convolution of the cached input with the block (every path but pointwise); false when
    // the folded slope was applied on the way (depthwise), true when it is still to apply.
    bool correlate(const ConstView& in, const View& out, size_t n, size_t n_out) noexcept {
        input_.load(in, n);
        const int64_t cout = a_.out_channels(false), cin_g = a_.weight.shape[1];
        const int64_t cout_g = cout / a_.groups, k = a_.kernel;
        const size_t s = static_cast<size_t>(a_.stride), d = static_cast<size_t>(a_.dilation);
        if (packed_) {
            correlate_packed(out, n_out, static_cast<size_t>(cin_g), static_cast<size_t>(k), d,
                             s);
            input_.commit();
            return true;
        }
        if (cin_g == 1 && cout == a_.groups && s == 1) { // depthwise
            mac_->depthwise(out.data, out.stride, input_.channel(0) + phase_,
                            input_.channel_stride(), a_.weight.data, a_.bias_data(),
                            static_cast<size_t>(cout), static_cast<size_t>(k), d, n_out,
                            slope_.data, static_cast<size_t>(slope_.numel()));
            input_.commit();
            return false;
        }
        if (n_out < kShortBlock) {
            correlate_by_frame(*mac_, out.data, out.stride, input_.channel(0) + phase_,
                               input_.channel_stride(), a_.weight.data, a_.bias_data(),
                               static_cast<size_t>(cout), static_cast<size_t>(cin_g),
                               static_cast<size_t>(a_.groups), static_cast<size_t>(k), d, s, n_out,
                               col_);
            input_.commit();
            return true;
        }
        for (int64_t o = 0; o < cout; ++o) {
            float* y = out.channel(static_cast<uint32_t>(o));
            const float b = a_.bias_data() ? a_.bias_data()[o] : 0.0f;
            std::fill_n(y, n_out, b);
            const int64_t g = o / cout_g;
            mac_->taps(y, input_.channel(static_cast<uint32_t>(g * cin_g)) + phase_,
                       input_.channel_stride(), a_.weight.data + o * cin_g * k,
                       static_cast<size_t>(cin_g), static_cast<size_t>(k), d, s, n_out);
        }
        input_.commit();
        return true;
    }

    bool pointwise() const noexcept { return packed_ && a_.kernel == 1 && a_.stride == 1; }

    void correlate_packed(const View& out, size_t n_out, size_t cin, size_t k, size_t d,
                          size_t s) noexcept {
        const float* x = input_.channel(0) + phase_;
        const size_t xs = input_.channel_stride();
        if (k == 1 && s == 1) {
            packed_kernels_->apply(*packed_, x, xs, out.data, out.stride, n_out, pack_, {});
            return;
        }
        for (size_t m0 = 0; m0 < n_out; m0 += kColumns) {
            const size_t len = std::min(kColumns, n_out - m0);
            for (size_t c = 0; c < cin; ++c)
                for (size_t j = 0; j < k; ++j) {
                    const float* xj = x + c * xs + m0 * s + j * d;
                    float* row = col_ + (c * k + j) * len;
                    for (size_t m = 0; m < len; ++m)
                        row[m] = xj[m * s];
                }
            packed_kernels_->apply(*packed_, col_, len, out.data + m0, out.stride, len, nullptr,
                                   {});
        }
    }

    ConvAttrs a_;
    int64_t left_ = 0;
    int64_t input_latency_ = 0;
    int64_t phase_ = 0;
    std::string where_;
    SlidingInput input_;
    const MacKernels* mac_ = nullptr;
    std::shared_ptr<const PackedMatrix> packed_; // dense convolutions
    const PackedLinearKernels* packed_kernels_ = nullptr;
    float* col_ = nullptr; // im2col columns (dense) or one frame's receptive field (short blocks)
    float* pack_ = nullptr; // the pointwise product's regrouped inputs (scratch)
    Tensor slope_;          // a folded prelu's slopes, or none
};

} // namespace

std::unique_ptr<Op> make_conv1d(const OpBuildContext& ctx) { return std::make_unique<Conv1d>(ctx); }

} // namespace rill
