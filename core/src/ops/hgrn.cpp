// hgrn: the gated elementwise recurrence of HGRN (Qin et al. 2023; fla naive_recurrent_hgrn):
//   h_t = exp(g_t) * h_{t-1} + x_t,  y_t = h_t        (per channel, h_0 = 0)
// inputs x, g (same channels). attr `gate`: "log" (g is the log forget gate, default) or
// "logsigmoid" (g is the raw forget logit: log f = logsigmoid(g)). Optional weight `lower_bound`
// lb [C] (gate "logsigmoid" only; fla's HGRN layers after the first):
//   f = lb + (1 - lb) sigmoid(g)   (fla: exp(logaddexp(log lb, log1p(-lb) + logsigmoid(g))))
// Pre-roll (preroll.hpp): frames before the input latency leave h alone and output 0.
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class HgrnOp final : public Op {
public:
    HgrnOp(bool logsigmoid, const Tensor* lower_bound) : logsigmoid_(logsigmoid) {
        if (lower_bound)
            lower_bound_ = *lower_bound;
    }
    std::unique_ptr<Op> clone() const override { return std::make_unique<HgrnOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        if (in[1].channels != in[0].channels)
            fail_format("gate input has " + std::to_string(in[1].channels) +
                        " channels, expected " + std::to_string(in[0].channels));
        if (lower_bound_.data)
            ops::require_per_channel("lower_bound", lower_bound_.numel(), in[0].channels);
        preroll_.latency = in[0].latency;
        return {in[0]};
    }
    void prepare(Arena& arena, const PrepareInfo& info) override {
        preroll_.seen = arena.state<int64_t>(1);
        h_ = arena.state<float>(info.inputs[0].channels);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        for (uint32_t c = 0; c < out[0].channels; ++c) {
            const float* x = in[0].channel(c);
            const float* g = in[1].channel(c);
            float* y = out[0].channel(c);
            std::fill_n(y, skip, 0.0f);
            float h = h_[c];
            if (lower_bound_.data) {
                const float lb = lower_bound_.data[c];
                for (size_t t = skip; t < n; ++t) {
                    h = (lb + (1.0f - lb) / (1.0f + std::exp(-g[t]))) * h + x[t];
                    y[t] = h;
                }
                h_[c] = h;
                continue;
            }
            for (size_t t = skip; t < n; ++t) {
                const float lg = logsigmoid_ ? (g[t] >= 0 ? -std::log1p(std::exp(-g[t]))
                                                          : g[t] - std::log1p(std::exp(g[t])))
                                             : g[t];
                h = std::exp(lg) * h + x[t];
                y[t] = h;
            }
            h_[c] = h;
        }
    }

private:
    bool logsigmoid_;
    Tensor lower_bound_; // [C] or empty
    PreRoll preroll_;
    float* h_ = nullptr; // per channel (state)
};

std::unique_ptr<Op> make_hgrn(const OpBuildContext& ctx) {
    ctx.expect_inputs(2, 2);
    const std::string gate = ctx.attr_string("gate", "log");
    if (gate != "log" && gate != "logsigmoid")
        ctx.fail("attribute 'gate' is '" + gate + "'; expected log or logsigmoid");
    const Tensor* lower_bound = ctx.optional_weight("lower_bound", {-1});
    if (lower_bound && gate != "logsigmoid")
        ctx.fail("weight 'lower_bound' needs gate 'logsigmoid'");
    return std::make_unique<HgrnOp>(gate == "logsigmoid", lower_bound);
}

} // namespace

void register_hgrn_ops(OpRegistry& r) { r.add("hgrn", make_hgrn); }

} // namespace rill
