// group_mean: the mean of each group of consecutive channels, per frame or running over time
// (the squeeze of a squeeze-excitation layer over spectrogram-like frames, channel c*F + f: the
// groups are the channels, the members their F bins; Hu et al. 2018, "Squeeze-and-Excitation
// Networks"; FRCRN's README suggests the running form for a causal SE).
//
//   input C = G*K channels, output G channels, group g = input channels g*K .. g*K + K-1
//   mode "frame":      y[g, t] = (1/K) sum_k x[g*K + k, t]
//   mode "cumulative": y[g, t] = (1/(K (t+1))) sum_{t' <= t} sum_k x[g*K + k, t']
// The cumulative sums are stream state (double precision). Pre-roll: the cumulative mode neither
// accumulates nor outputs (0) on the input's first `latency` frames, which are negative time
// (preroll.hpp), so the running mean starts with offline frame 0.
#include <algorithm>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class GroupMean final : public Op {
public:
    GroupMean(uint32_t groups, bool cumulative, std::string where)
        : groups_(groups), cumulative_(cumulative), where_(std::move(where)) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<GroupMean>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        if (in[0].channels % groups_ != 0)
            fail_format(where_ + ": " + std::to_string(in[0].channels) +
                        " input channels are not a multiple of groups " + std::to_string(groups_));
        per_group_ = in[0].channels / groups_;
        preroll_.latency = in[0].latency;
        return {ops::port_like(in[0], groups_)};
    }

    void prepare(Arena& arena, const PrepareInfo&) override {
        if (!cumulative_)
            return;
        sums_ = arena.state<double>(groups_);
        frames_ = arena.state<int64_t>(1);
        preroll_.seen = arena.state<int64_t>(1);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = cumulative_ ? preroll_.consume(n) : 0;
        const double k = static_cast<double>(per_group_);
        for (uint32_t g = 0; g < groups_; ++g) {
            float* y = out[0].channel(g);
            std::fill_n(y, skip, 0.0f);
            double sum = cumulative_ ? sums_[g] : 0.0;
            int64_t frames = cumulative_ ? *frames_ : 0;
            for (size_t t = skip; t < n; ++t) {
                double frame = 0.0;
                for (uint32_t c = 0; c < per_group_; ++c)
                    frame += in[0].channel(g * per_group_ + c)[t];
                if (!cumulative_) {
                    y[t] = static_cast<float>(frame / k);
                    continue;
                }
                sum += frame;
                ++frames;
                y[t] = static_cast<float>(sum / (k * static_cast<double>(frames)));
            }
            if (cumulative_)
                sums_[g] = sum;
        }
        if (cumulative_)
            *frames_ += static_cast<int64_t>(n - skip);
    }

private:
    uint32_t groups_;
    bool cumulative_;
    std::string where_;
    uint32_t per_group_ = 1;
    PreRoll preroll_;
    double* sums_ = nullptr;    // state: per group, the sum over the frames seen
    int64_t* frames_ = nullptr; // state: frames accumulated
};

} // namespace

void register_group_mean_ops(OpRegistry& r) {
    r.add("group_mean", [](const OpBuildContext& ctx) -> std::unique_ptr<Op> {
        ctx.expect_inputs(1, 1);
        const int64_t groups = ctx.attr_int_required("groups");
        if (groups < 1 || groups > (int64_t{1} << 24))
            ctx.fail("groups must be >= 1");
        const std::string mode = ctx.attr_string("mode", "frame");
        if (mode != "frame" && mode != "cumulative")
            ctx.fail("attribute 'mode' must be \"frame\" or \"cumulative\", got \"" + mode +
                     "\" (a mean over the whole utterance cannot stream)");
        return std::make_unique<GroupMean>(static_cast<uint32_t>(groups), mode == "cumulative",
                                           ctx.where());
    });
}

} // namespace rill
