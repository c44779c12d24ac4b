// frame: overlapping windows of a signal as channels, for models that take fixed-size input
// windows (Silero VAD's 64 context samples + 512 new ones).
// hold: the inverse rate change for per-window results (a speech probability per window):
//   y[m*factor + j] = x[m], j < factor; rate times factor, latency cd * factor.
//   out[c*size + j][m] = xp_c[m*hop + j], j < size, xp = x with `left_pad` zeros in front
//   (default size - hop: window m ends with the last sample of hop m; causal). hop > size
//   decimates (size 1, left_pad 0: y[m] = x[m*hop], features held at the audio rate -> frames).
// Streamed like a strided convolution of kernel `size` (sliding_input.hpp): latency
// floor((size - 1 - left_pad + cd) / hop) output frames.
#include <algorithm>

#include "rill/core/op.hpp"

#include "families.hpp"
#include "sliding_input.hpp"

namespace rill {
namespace {

class Frame final : public Op {
public:
    explicit Frame(const OpBuildContext& ctx) {
        ctx.expect_inputs(1, 1);
        size_ = ctx.attr_int_required("size");
        hop_ = ctx.attr_int_required("hop");
        if (size_ < 1 || size_ > (1 << 20) || hop_ < 1 || hop_ > (1 << 20))
            ctx.fail("needs 1 <= size <= 2^20 and 1 <= hop <= 2^20");
        left_pad_ = ctx.attr_int("left_pad", std::max<int64_t>(0, size_ - hop_));
        if (left_pad_ < 0 || left_pad_ > size_ - 1)
            ctx.fail("left_pad must be in 0..size-1");
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<Frame>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        channels_ = in[0].channels;
        input_latency_ = in[0].latency;
        const int64_t d = size_ - 1 - left_pad_ + input_latency_;
        phase_ = d % hop_;
        return {PortInfo{static_cast<uint32_t>(channels_ * size_), in[0].rate.divided_by(hop_), d / hop_}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        input_.take(arena, channels_, static_cast<size_t>(size_ - 1), info.max_input_frames, input_latency_);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t n_out,
                 const ProcessContext&) noexcept override {
        input_.load(in[0], n);
        for (uint32_t c = 0; c < channels_; ++c) {
            const float* x = input_.channel(c) + phase_;
            for (int64_t j = 0; j < size_; ++j) {
                float* y = out[0].channel(static_cast<uint32_t>(c * size_ + j));
                for (size_t m = 0; m < n_out; ++m)
                    y[m] = x[static_cast<int64_t>(m) * hop_ + j];
            }
        }
        input_.commit();
    }

private:
    int64_t size_ = 0, hop_ = 0, left_pad_ = 0, input_latency_ = 0, phase_ = 0;
    uint32_t channels_ = 0;
    SlidingInput input_;
};

class Hold final : public Op {
public:
    explicit Hold(const OpBuildContext& ctx) {
        ctx.expect_inputs(1, 1);
        factor_ = ctx.attr_int_required("factor");
        if (factor_ < 1 || factor_ > (1 << 20))
            ctx.fail("factor must be in 1..2^20");
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<Hold>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        channels_ = in[0].channels;
        return {PortInfo{channels_, in[0].rate.times(factor_), in[0].latency * factor_}};
    }

    void prepare(Arena&, const PrepareInfo&) override {}

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const auto f = static_cast<size_t>(factor_);
        for (uint32_t c = 0; c < channels_; ++c) {
            const float* x = in[0].channel(c);
            float* y = out[0].channel(c);
            for (size_t m = 0; m < n; ++m)
                std::fill_n(y + m * f, f, x[m]);
        }
    }

private:
    int64_t factor_ = 1;
    uint32_t channels_ = 0;
};

} // namespace

void register_frame_ops(OpRegistry& r) {
    r.add("frame", [](const OpBuildContext& ctx) { return std::make_unique<Frame>(ctx); });
    r.add("hold", [](const OpBuildContext& ctx) { return std::make_unique<Hold>(ctx); });
}

} // namespace rill
