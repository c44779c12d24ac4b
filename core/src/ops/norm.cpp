// Normalisations over channels, per channel c in group g (C channels in G groups of C/G):
//   group_norm  y[c,t] = (x[c,t] - m[g,t]) / sqrt(v[g,t] + eps) * weight[c] + bias[c]
//     mode "frame":      m, v = mean and biased variance of x over the channels of g at frame t
//                        (Wu & He 2018, GroupNorm applied per frame; G = 1 is LayerNorm(C)).
//     mode "cumulative": m, v over the channels of g and all frames 0..t, v = E[x^2] - E[x]^2
//                        (Luo & Mesgarani 2019, Conv-TasNet's cLN; asteroid CumLN). Sums are
//                        double-precision stream state, so it streams exactly.
//   layer_norm, channel_norm = group_norm (groups 1, frame); cumulative_layer_norm = group_norm
//   (groups 1, cumulative): aliases that only change the defaults.
//   batch_norm  y[c,t] = x[c,t] * s[c] + h[c], folded at load from running statistics:
//               s = weight / sqrt(running_var + eps), h = bias - running_mean * s (Ioffe 2015).
// Pre-roll: the cumulative mode neither accumulates nor outputs (0) on the input's first
// `latency` frames, which are negative time (preroll.hpp).
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "../kernels/norm_rows.hpp"
#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

double read_eps(const OpBuildContext& ctx, double fallback) {
    const double eps = ctx.attr_float("eps", fallback);
    if (!(eps >= 0.0) || !std::isfinite(eps))
        ctx.fail("attribute 'eps' must be a finite number >= 0, got " + std::to_string(eps));
    return eps;
}

class GroupNormOp final : public Op {
public:
    GroupNormOp(uint32_t groups, double eps, bool cumulative, const Tensor* weight,
                const Tensor* bias)
        : groups_(groups), eps_(eps), cumulative_(cumulative) {
        if (weight)
            weight_ = *weight;
        if (bias)
            bias_ = *bias;
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<GroupNormOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        const uint32_t c = inputs[0].channels;
        if (c % groups_ != 0)
            fail_format("attribute 'groups' (" + std::to_string(groups_) +
                        ") must divide the input's " + std::to_string(c) + " channels");
        if (weight_.data)
            ops::require_per_channel("weight", weight_.numel(), c);
        if (bias_.data)
            ops::require_per_channel("bias", bias_.numel(), c);
        preroll_.latency = inputs[0].latency;
        return {inputs[0]};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        channels_ = info.inputs.at(0).channels;
        if (cumulative_) {
            preroll_.seen = arena.state<int64_t>(1);
            frames_ = arena.state<int64_t>(1);
            sums_ = arena.state<double>(2 * groups_);
        }
        mean_ = arena.scratch<double>(info.max_input_frames);
        scale_ = arena.scratch<double>(info.max_input_frames);
        mean_hi_ = arena.scratch<float>(info.max_input_frames);
        mean_lo_ = arena.scratch<float>(info.max_input_frames);
        scale_f_ = arena.scratch<float>(info.max_input_frames);
        kernels_ = &norm_kernels();
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = cumulative_ ? preroll_.consume(n) : 0;
        const uint32_t per_group = channels_ / groups_;
        for (uint32_t g = 0; g < groups_; ++g) {
            const uint32_t c0 = g * per_group;
            if (cumulative_)
                cumulative_stats(in[0], c0, per_group, skip, n, sums_ + 2 * g);
            else
                frame_stats(in[0], c0, per_group, n);
            for (uint32_t c = c0; c < c0 + per_group; ++c)
                std::fill_n(out[0].channel(c), skip, 0.0f);
            NormKernels::split(mean_ + skip, scale_ + skip, n - skip, mean_hi_, mean_lo_,
                               scale_f_);
            kernels_->normalize(in[0].channel(c0) + skip, in[0].stride, out[0].channel(c0) + skip,
                                out[0].stride, per_group, n - skip, mean_hi_, mean_lo_, scale_f_,
                                weight_.data ? weight_.data + c0 : nullptr,
                                bias_.data ? bias_.data + c0 : nullptr);
        }
        if (cumulative_)
            *frames_ += static_cast<int64_t>(n - skip);
    }

private:
    // mean_[t], scale_[t] = 1 / sqrt(var + eps) over channels [c0, c0 + k) at each frame.
    void frame_stats(const ConstView& x, uint32_t c0, uint32_t k, size_t n) noexcept {
        std::fill_n(mean_, n, 0.0);
        kernels_->moments(x.channel(c0), x.stride, k, n, mean_, nullptr);
        for (size_t t = 0; t < n; ++t)
            mean_[t] /= k;
        std::fill_n(scale_, n, 0.0);
        kernels_->deviations(x.channel(c0), x.stride, k, n, mean_, scale_);
        for (size_t t = 0; t < n; ++t)
            scale_[t] = 1.0 / std::sqrt(scale_[t] / k + eps_);
    }

    // Same over channels [c0, c0 + k) and all frames so far; sums = {sum x, sum x^2} (state).
    void cumulative_stats(const ConstView& x, uint32_t c0, uint32_t k, size_t skip, size_t n,
                          double* sums) noexcept {
        std::fill_n(mean_, n, 0.0);  // per-frame sum of x
        std::fill_n(scale_, n, 0.0); // per-frame sum of x^2
        kernels_->moments(x.channel(c0) + skip, x.stride, k, n - skip, mean_ + skip,
                          scale_ + skip);
        double count = static_cast<double>(*frames_) * k;
        for (size_t t = skip; t < n; ++t) {
            sums[0] += mean_[t];
            sums[1] += scale_[t];
            count += k;
            const double m = sums[0] / count;
            const double v = std::max(0.0, sums[1] / count - m * m);
            mean_[t] = m;
            scale_[t] = 1.0 / std::sqrt(v + eps_);
        }
    }

    uint32_t groups_;
    double eps_;
    bool cumulative_;
    Tensor weight_, bias_; // [C] each, or empty (1 and 0)
    uint32_t channels_ = 0;
    PreRoll preroll_;
    int64_t* frames_ = nullptr; // frames accumulated (state)
    double* sums_ = nullptr;    // [groups][2] (state)
    double* mean_ = nullptr;    // [frames] (scratch)
    double* scale_ = nullptr;   // [frames] (scratch)
    float* mean_hi_ = nullptr;  // the two split into floats for normalize (scratch)
    float* mean_lo_ = nullptr;
    float* scale_f_ = nullptr;
    const NormKernels* kernels_ = nullptr;
};

// Defaults of one group_norm spelling.
struct NormAlias {
    const char* name;
    const char* mode;
};

const NormAlias kNormAliases[] = {
    {"group_norm", "frame"},
    {"layer_norm", "frame"},
    {"channel_norm", "frame"},
    {"cumulative_layer_norm", "cumulative"},
};

std::unique_ptr<Op> make_group_norm(const OpBuildContext& ctx, const NormAlias& alias) {
    ctx.expect_inputs(1, 1);
    const int64_t groups = ctx.attr_int("groups", 1);
    if (groups < 1 || groups > (1 << 20))
        ctx.fail("attribute 'groups' must be >= 1, got " + std::to_string(groups));
    const std::string mode = ctx.attr_string("mode", alias.mode);
    if (mode != "frame" && mode != "cumulative")
        ctx.fail("attribute 'mode' must be \"frame\" or \"cumulative\", got \"" + mode +
                 "\" (utterance-level statistics cannot stream; export as \"cumulative\")");
    const double eps = read_eps(ctx, 1e-5);
    const Tensor* weight = ctx.optional_weight("weight", {-1});
    const Tensor* bias = ctx.optional_weight("bias", {-1});
    if (weight && bias && weight->numel() != bias->numel())
        ctx.fail("weights 'weight' " + weight->shape_string() + " and 'bias' " +
                 bias->shape_string() + " must have the same length");
    return std::make_unique<GroupNormOp>(static_cast<uint32_t>(groups), eps, mode == "cumulative",
                                         weight, bias);
}

// y = x * scale[c] + shift[c] (batch_norm after folding).
class ChannelAffineOp final : public Op {
public:
    ChannelAffineOp(Tensor scale, Tensor shift) : scale_(std::move(scale)), shift_(std::move(shift)) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<ChannelAffineOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        ops::require_per_channel("running_mean", scale_.numel(), inputs[0].channels);
        return {inputs[0]};
    }

    void prepare(Arena&, const PrepareInfo&) override {}

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        for (uint32_t c = 0; c < out[0].channels; ++c) {
            const float* x = in[0].channel(c);
            float* y = out[0].channel(c);
            const float s = scale_.data[c], h = shift_.data[c];
            for (size_t t = 0; t < n; ++t)
                y[t] = x[t] * s + h;
        }
    }

private:
    Tensor scale_, shift_; // [C]
};

std::unique_ptr<Op> make_batch_norm(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const double eps = read_eps(ctx, 1e-5);
    const Tensor& mean = ctx.weight("running_mean", {-1});
    const int64_t c = mean.numel();
    const Tensor& var = ctx.weight("running_var", {c});
    const Tensor* weight = ctx.optional_weight("weight", {c});
    const Tensor* bias = ctx.optional_weight("bias", {c});
    std::vector<float> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i) {
        if (!(var.data[i] >= 0.0f) || var.data[i] + eps <= 0.0)
            ctx.fail("weight 'running_var' must be >= 0 (with eps > 0), got " +
                     std::to_string(var.data[i]) + " at channel " + std::to_string(i));
        const double s = (weight ? weight->data[i] : 1.0) / std::sqrt(var.data[i] + eps);
        scale[static_cast<size_t>(i)] = static_cast<float>(s);
        shift[static_cast<size_t>(i)] =
            static_cast<float>((bias ? bias->data[i] : 0.0) - mean.data[i] * s);
    }
    return std::make_unique<ChannelAffineOp>(make_tensor({c}, std::move(scale)),
                                             make_tensor({c}, std::move(shift)));
}

} // namespace

void register_norm_ops(OpRegistry& r) {
    for (const NormAlias& alias : kNormAliases)
        r.add(alias.name,
              [&alias](const OpBuildContext& ctx) { return make_group_norm(ctx, alias); });
    r.add("batch_norm", make_batch_norm);
}

} // namespace rill
