// softmax across channels, per frame (Bridle 1990). The C channels are viewed as a [G, C/G] grid
// (attr `groups` G, group-major: channel c = g * (C/G) + i) and each set of the grid along `axis`
// is normalised on its own:
//   axis 1 (default): over the C/G channels of each group g   (G = 1: over all channels)
//   axis 0:           over the G groups, for each index i      (asteroid's Conv-TasNet softmax
//                                                               over sources: G = n_src)
//   y[c,t] = exp(x[c,t] - m[t]) / sum_{c' in set(c)} exp(x[c',t] - m[t]),  m[t] = max over the set
// Per frame, so it streams as it is (no state, no latency).
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class SoftmaxOp final : public Op {
public:
    SoftmaxOp(uint32_t groups, int axis) : groups_(groups), axis_(axis) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<SoftmaxOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        if (inputs[0].channels % groups_ != 0)
            fail_format("attribute 'groups' (" + std::to_string(groups_) +
                        ") must divide the input's " + std::to_string(inputs[0].channels) +
                        " channels");
        return {inputs[0]};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        const uint32_t c = info.inputs.at(0).channels, per_group = c / groups_;
        sets_ = axis_ == 0 ? per_group : groups_;
        members_ = axis_ == 0 ? groups_ : per_group;
        step_ = axis_ == 0 ? per_group : 1;
        max_ = arena.scratch<float>(info.max_input_frames);
        sum_ = arena.scratch<float>(info.max_input_frames);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        for (uint32_t j = 0; j < sets_; ++j) {
            const uint32_t base = axis_ == 0 ? j : j * members_;
            std::copy_n(in[0].channel(base), n, max_);
            for (uint32_t k = 1; k < members_; ++k) {
                const float* x = in[0].channel(base + k * step_);
                for (size_t t = 0; t < n; ++t)
                    max_[t] = std::max(max_[t], x[t]);
            }
            std::fill_n(sum_, n, 0.0f);
            for (uint32_t k = 0; k < members_; ++k) {
                const float* x = in[0].channel(base + k * step_);
                float* y = out[0].channel(base + k * step_);
                for (size_t t = 0; t < n; ++t) {
                    y[t] = std::exp(x[t] - max_[t]);
                    sum_[t] += y[t];
                }
            }
            for (size_t t = 0; t < n; ++t)
                sum_[t] = 1.0f / sum_[t];
            for (uint32_t k = 0; k < members_; ++k) {
                float* y = out[0].channel(base + k * step_);
                for (size_t t = 0; t < n; ++t)
                    y[t] *= sum_[t];
            }
        }
    }

private:
    uint32_t groups_;
    int axis_;
    uint32_t sets_ = 0, members_ = 0, step_ = 1;
    float* max_ = nullptr; // [frames] (scratch)
    float* sum_ = nullptr; // [frames] (scratch)
};

std::unique_ptr<Op> make_softmax(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const int64_t groups = ctx.attr_int("groups", 1);
    if (groups < 1 || groups > (1 << 20))
        ctx.fail("attribute 'groups' must be >= 1, got " + std::to_string(groups));
    const int64_t axis = ctx.attr_int("axis", 1);
    if (axis != 0 && axis != 1)
        ctx.fail("attribute 'axis' must be 0 (across groups) or 1 (within each group), got " +
                 std::to_string(axis));
    return std::make_unique<SoftmaxOp>(static_cast<uint32_t>(groups), static_cast<int>(axis));
}

} // namespace

void register_softmax_ops(OpRegistry& r) {
    r.add("softmax", make_softmax);
}

} // namespace rill
