// rms_norm: root-mean-square norm per frame over groups of channels (per head), with an optional
// output gate (fla RMSNorm / FusedRMSNormGated, Zhang & Sennrich 2019):
//   y[c, t] = x[c, t] / sqrt(mean_{c' in group(c)} x[c', t]^2 + eps) * w[c]   (* act(g[c, t]))
// attrs: groups (1), eps (1e-5), activation of the gate ("swish": g sigmoid(g), the default, or
// "sigmoid"), gate_first (0; 1: the gate multiplies x before the norm, mamba's RMSNormGated with
// norm_before_gate=False: y = rms(x act(g)) w); weight `weight` [C] or [C / groups] (shared by
// the groups, as a per-head norm's weight); optional second input g (C channels).
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class RmsNormOp final : public Op {
public:
    RmsNormOp(uint32_t groups, float eps, const Tensor* weight, bool gated, bool swish,
              bool gate_first)
        : groups_(groups), eps_(eps), gated_(gated), swish_(swish), gate_first_(gate_first) {
        if (weight)
            weight_ = *weight;
    }
    std::unique_ptr<Op> clone() const override { return std::make_unique<RmsNormOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        const uint32_t C = in[0].channels;
        if (C % groups_ != 0)
            fail_format("input has " + std::to_string(C) + " channels, not a multiple of groups " +
                        std::to_string(groups_));
        if (gated_ && in[1].channels != C)
            fail_format("gate input has " + std::to_string(in[1].channels) +
                        " channels, expected " + std::to_string(C));
        if (weight_.data && weight_.numel() != C && weight_.numel() != C / groups_)
            fail_format("weight 'weight' has " + std::to_string(weight_.numel()) +
                        " values, expected " + std::to_string(C) + " or " +
                        std::to_string(C / groups_));
        return {in[0]};
    }
    void prepare(Arena& arena, const PrepareInfo& info) override {
        scale_ = arena.scratch<float>(std::max<size_t>(1, info.max_input_frames));
        gated_x_ = gate_first_ ? arena.scratch<float>(size_t(info.inputs[0].channels) *
                                                      std::max<size_t>(1, info.max_input_frames))
                               : nullptr;
    }

    float act(float g) const noexcept { return (swish_ ? g : 1.0f) / (1.0f + std::exp(-g)); }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const uint32_t per = in[0].channels / groups_;
        // The normalised input: x, or x act(g) when the gate comes first.
        auto source = [&](uint32_t c) -> const float* {
            if (!gate_first_)
                return in[0].channel(c);
            return gated_x_ + size_t(c) * n;
        };
        if (gate_first_)
            for (uint32_t c = 0; c < in[0].channels; ++c) {
                const float* x = in[0].channel(c);
                const float* g = in[1].channel(c);
                float* d = gated_x_ + size_t(c) * n;
                for (size_t t = 0; t < n; ++t)
                    d[t] = x[t] * act(g[t]);
            }
        for (uint32_t g = 0; g < groups_; ++g) {
            std::fill_n(scale_, n, 0.0f);
            for (uint32_t c = g * per; c < (g + 1) * per; ++c) {
                const float* x = source(c);
                for (size_t t = 0; t < n; ++t)
                    scale_[t] += x[t] * x[t];
            }
            for (size_t t = 0; t < n; ++t)
                scale_[t] = 1.0f / std::sqrt(scale_[t] / float(per) + eps_);
            for (uint32_t c = g * per; c < (g + 1) * per; ++c) {
                const float w = weight_.data
                                    ? weight_.data[weight_.numel() == int64_t(per) ? c - g * per : c]
                                    : 1.0f;
                const float* x = source(c);
                float* y = out[0].channel(c);
                for (size_t t = 0; t < n; ++t)
                    y[t] = x[t] * scale_[t] * w;
                if (gated_ && !gate_first_) {
                    const float* gt = in[1].channel(c);
                    for (size_t t = 0; t < n; ++t)
                        y[t] *= act(gt[t]);
                }
            }
        }
    }

private:
    uint32_t groups_;
    float eps_;
    bool gated_, swish_, gate_first_;
    Tensor weight_;
    float* scale_ = nullptr;   // per frame (scratch)
    float* gated_x_ = nullptr; // x act(g) when the gate comes first (scratch)
};

std::unique_ptr<Op> make_rms_norm(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 2);
    const int64_t groups = ctx.attr_int("groups", 1);
    const double eps = ctx.attr_float("eps", 1e-5);
    if (groups < 1 || groups > 65536 || !(eps >= 0))
        ctx.fail("attributes 'groups' (>= 1) and 'eps' (>= 0) are out of range");
    const std::string act = ctx.attr_string("activation", "swish");
    if (ctx.attr_int("gate_first", 0) != 0 && ctx.node.inputs.size() != 2)
        ctx.fail("attribute 'gate_first' needs the gate input");
    if (act != "swish" && act != "sigmoid")
        ctx.fail("attribute 'activation' is '" + act + "'; expected swish or sigmoid");
    return std::make_unique<RmsNormOp>(uint32_t(groups), float(eps),
                                       ctx.optional_weight("weight", {-1}),
                                       ctx.node.inputs.size() == 2, act == "swish",
                                       ctx.attr_int("gate_first", 0) != 0);
}

} // namespace

void register_rms_norm_ops(OpRegistry& r) { r.add("rms_norm", make_rms_norm); }

} // namespace rill
