// Epilogue folding: an elementwise step (Op::as_epilogue_stage: an add of two inputs, a prelu)
// whose input is read by nothing else runs inside the step that produces that input (Op::absorb),
// on each result while it is in registers, instead of as a pass of its own over memory. In
// Conv-TasNet every TCN block's 1x1 convs take their PReLU and their residual or skip add.
//
// Conditions, per candidate step C reading buffer b from step P:
//   - b has no other reader and is not a graph output;
//   - for an add, C's other operand is ready before P runs (a graph input or an earlier step's
//     output), so P can read it as an extra last input;
//   - P takes the stage (its own rules: e.g. a linear takes an add only before an activation).
// P then writes C's output buffer and C leaves the schedule. Chains fold in schedule order
// (linear -> add -> prelu becomes one step "linear+add+prelu").
#include <vector>

#include "rill/core/model.hpp"

namespace rill {

void Model::fold_epilogues() {
    constexpr int kNone = -1;
    std::vector<int> readers(buffers_.size(), 0), producer(buffers_.size(), kNone);
    for (size_t s = 0; s < steps_.size(); ++s) {
        for (uint32_t b : steps_[s].in_buffers)
            ++readers[b];
        for (uint32_t b : steps_[s].out_buffers)
            producer[b] = static_cast<int>(s);
    }
    for (const OutputBinding& o : outputs_)
        ++readers[o.buffer];

    std::vector<bool> folded(steps_.size(), false);
    for (size_t c = 0; c < steps_.size(); ++c) {
        const std::optional<EpilogueStage> stage = steps_[c].proto->as_epilogue_stage();
        if (!stage)
            continue;
        const bool add = stage->kind == EpilogueStage::Kind::AddOperand;
        const std::vector<uint32_t>& in = steps_[c].in_buffers;
        if (in.size() != (add ? 2u : 1u) || steps_[c].out_buffers.size() != 1)
            continue;
        for (size_t i = 0; i < in.size(); ++i) {
            const uint32_t b = in[i];
            const int p = producer[b];
            if (p == kNone || readers[b] != 1 || steps_[p].out_buffers.size() != 1)
                continue;
            const uint32_t other = add ? in[1 - i] : 0;
            if (add && (other == b || producer[other] >= p))
                continue;
            PlanStep& into = steps_[p];
            if (!into.proto->absorb(*stage))
                continue;
            if (add) {
                into.in_buffers.push_back(other);
                into.ports.inputs.push_back(steps_[c].ports.inputs[1 - i]);
            }
            into.out_buffers[0] = steps_[c].out_buffers[0];
            into.ports.outputs[0] = steps_[c].ports.outputs[0];
            into.op += "+" + steps_[c].op;
            producer[into.out_buffers[0]] = p;
            readers[b] = 0;
            folded[c] = true;
            break;
        }
    }
    std::vector<PlanStep> kept;
    for (size_t s = 0; s < steps_.size(); ++s)
        if (!folded[s])
            kept.push_back(std::move(steps_[s]));
    steps_ = std::move(kept);
}

} // namespace rill
