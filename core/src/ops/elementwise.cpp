// Elementwise combinations of aligned inputs (same rate, same latency):
//   add   y = x0 + x1 + ... + xn      (n >= 2)
//   sub   y = x0 - x1
//   mul   y = x0 * x1
//   gate  2 inputs (x, g): y = x * sigmoid(g); 1 input of 2C channels: y = a * sigmoid(b) with
//         a = channels [0, C), b = channels [C, 2C) (F.glu over channels, Dauphin et al. 2017)
// Broadcast: every operand has the output's C channels or a divisor d of C; channel c then reads
// operand channel c / (C/d) (d = 1: one channel for all C; d = G groups of C/G consecutive
// channels, e.g. a per-channel scale over the F bins of each channel of a spectrogram).
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

enum class Combine { Add, Sub, Mul, Gate };

float combine(Combine k, float a, float b) {
    switch (k) {
    case Combine::Add:
        return a + b;
    case Combine::Sub:
        return a - b;
    case Combine::Mul:
        return a * b;
    case Combine::Gate:
        return a / (1.0f + std::exp(-b));
    }
    return 0.0f;
}

// y[t] = combine(k, a[t], b[t]), t < n (y may be a): the combination fixed per row, so the loop
// has no branch and vectorises.
template <Combine K>
void combine_row(float* y, const float* a, const float* b, size_t n) {
    for (size_t t = 0; t < n; ++t)
        y[t] = combine(K, a[t], b[t]);
}

void combine_row(Combine k, float* y, const float* a, const float* b, size_t n) {
    switch (k) {
    case Combine::Add: return combine_row<Combine::Add>(y, a, b, n);
    case Combine::Sub: return combine_row<Combine::Sub>(y, a, b, n);
    case Combine::Mul: return combine_row<Combine::Mul>(y, a, b, n);
    case Combine::Gate: return combine_row<Combine::Gate>(y, a, b, n);
    }
}

// One operand: output channel c reads its channel first_channel + c / repeat.
struct Operand {
    uint32_t input = 0;
    uint32_t first_channel = 0; // offset into the input (gate's 1-input form)
    uint32_t repeat = 1;        // output channels per operand channel (broadcast)
};

class ElementwiseOp final : public Op {
public:
    ElementwiseOp(Combine combine, size_t num_inputs) : combine_(combine), num_inputs_(num_inputs) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<ElementwiseOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        if (inputs.size() != num_inputs_)
            fail_format("expected " + std::to_string(num_inputs_) + " input ports, got " +
                        std::to_string(inputs.size()));
        operands_.clear();
        if (inputs.size() == 1) { // gate's F.glu form
            if (inputs[0].channels % 2 != 0)
                fail_format("gate with one input needs an even channel count (a, b halves), got " +
                            std::to_string(inputs[0].channels));
            channels_ = inputs[0].channels / 2;
            operands_ = {Operand{0, 0, 1}, Operand{0, channels_, 1}};
            return {ops::port_like(inputs[0], channels_)};
        }
        channels_ = 1;
        for (const auto& p : inputs)
            channels_ = std::max(channels_, p.channels);
        for (uint32_t i = 0; i < inputs.size(); ++i) {
            if (inputs[i].channels == 0 || channels_ % inputs[i].channels != 0)
                fail_format("input " + std::to_string(i) + " has " +
                            std::to_string(inputs[i].channels) + " channels, expected " +
                            std::to_string(channels_) + " or a divisor of it (broadcast)");
            operands_.push_back(Operand{i, 0, channels_ / inputs[i].channels});
        }
        return {ops::port_like(inputs[0], channels_)};
    }

    void prepare(Arena&, const PrepareInfo&) override {}

    std::optional<EpilogueStage> as_epilogue_stage() const override {
        if (combine_ != Combine::Add || operands_.size() != 2 || operands_[0].repeat != 1 ||
            operands_[1].repeat != 1)
            return std::nullopt;
        return EpilogueStage{EpilogueStage::Kind::AddOperand, {}};
    }

    void process(const ConstView* in, const View* out, size_t in_frames, size_t,
                 const ProcessContext&) noexcept override {
        for (uint32_t c = 0; c < channels_; ++c) { // operands_ has two or more
            float* y = out[0].channel(c);
            combine_row(combine_, y, channel_of(in, operands_[0], c),
                        channel_of(in, operands_[1], c), in_frames);
            for (size_t k = 2; k < operands_.size(); ++k)
                combine_row(combine_, y, y, channel_of(in, operands_[k], c), in_frames);
        }
    }

private:
    static const float* channel_of(const ConstView* in, const Operand& o, uint32_t c) {
        return in[o.input].channel(o.first_channel + c / o.repeat);
    }

    Combine combine_;
    size_t num_inputs_;
    uint32_t channels_ = 0;
    std::vector<Operand> operands_; // fixed at plan
};

void add_op(OpRegistry& r, const char* name, Combine combine, size_t lo, size_t hi) {
    r.add(name, [combine, lo, hi](const OpBuildContext& ctx) -> std::unique_ptr<Op> {
        ctx.expect_inputs(lo, hi);
        return std::make_unique<ElementwiseOp>(combine, ctx.node.inputs.size());
    });
}

} // namespace

void register_elementwise_ops(OpRegistry& r) {
    add_op(r, "add", Combine::Add, 2, 1024);
    add_op(r, "sub", Combine::Sub, 2, 2);
    add_op(r, "mul", Combine::Mul, 2, 2);
    add_op(r, "gate", Combine::Gate, 1, 2);
}

} // namespace rill
