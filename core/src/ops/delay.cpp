// delay: y[t] = x[t - D] (zeros before), D = attr frames >= 0.
// With attr align = true (inserted by the planner to line up parallel branches) the op is the
// identity of the offline model: the stream still shifts by D frames, which it reports as D more
// latency. Without align the shift is part of the model; the input's pre-roll frames (negative
// time, preroll.hpp) enter the line as zeros, as offline's zeros before the signal.
// A ring buffer of D frames per channel in the state region; cost O(frames) per call.
#include "delay.hpp"

#include <algorithm>

#include "rill/core/error.hpp"
#include "rill/core/preroll.hpp"

#include "port_checks.hpp"

namespace rill::ops {
namespace {

class DelayOp final : public Op {
public:
    DelayOp(int64_t frames, bool align) : frames_(static_cast<size_t>(frames)), align_(align) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<DelayOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        require_aligned(inputs);
        preroll_.latency = align_ ? 0 : inputs[0].latency;
        PortInfo out = inputs[0];
        if (align_)
            out.latency += static_cast<int64_t>(frames_);
        return {out};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        channels_ = info.inputs.at(0).channels;
        preroll_.seen = arena.state<int64_t>(1);
        head_ = arena.state<int64_t>(1);
        ring_ = arena.state<float>(channels_ * frames_);
    }

    void process(const ConstView* in, const View* out, size_t in_frames, size_t,
                 const ProcessContext&) noexcept override {
        const size_t zeros = preroll_.consume(in_frames);
        if (frames_ == 0) {
            for (uint32_t c = 0; c < channels_; ++c) {
                std::fill_n(out[0].channel(c), zeros, 0.0f);
                std::copy(in[0].channel(c) + zeros, in[0].channel(c) + in_frames,
                          out[0].channel(c) + zeros);
            }
            return;
        }
        const size_t head = static_cast<size_t>(*head_);
        for (uint32_t c = 0; c < channels_; ++c) {
            const float* x = in[0].channel(c);
            float* y = out[0].channel(c);
            float* ring = ring_ + c * frames_;
            size_t p = head;
            for (size_t t = 0; t < in_frames; ++t) {
                y[t] = ring[p];
                ring[p] = t < zeros ? 0.0f : x[t];
                p = p + 1 == frames_ ? 0 : p + 1;
            }
        }
        *head_ = static_cast<int64_t>((head + in_frames) % frames_);
    }

private:
    size_t frames_;
    bool align_;
    uint32_t channels_ = 0;
    PreRoll preroll_;
    int64_t* head_ = nullptr; // oldest frame of the ring (state)
    float* ring_ = nullptr;   // [channels][frames] (state)
};

} // namespace

std::unique_ptr<Op> make_delay(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const int64_t frames = ctx.attr_int_required("frames");
    if (frames < 0 || frames > (int64_t{1} << 26))
        ctx.fail("attribute 'frames' must be in 0..2^26, got " + std::to_string(frames));
    if (ctx.has_attr("align") && !ctx.node.attrs.at("align").is_boolean())
        ctx.fail("attribute 'align' must be true or false, got " + ctx.node.attrs.at("align").dump());
    return std::make_unique<DelayOp>(frames, ctx.attr_int("align", 0) != 0);
}

} // namespace rill::ops
