// linear: nn.Linear applied to every frame (a 1x1 convolution).
//   y[o, t] = bias[o] + sum_c W[o, c] x[c, t],   W [Cout, Cin], bias [Cout] (optional).
// The weight is packed once at load (kernels/packed_linear.hpp) and shared by every stream. It
// takes a following add and prelu into its stores when the planner folds them (Op::absorb):
//   y[o, t] = slope(bias[o] + sum_c W[o, c] x[c, t] + r[o, t], a_o)
#include <memory>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "../kernels/packed_linear.hpp"
#include "families.hpp"

namespace rill {
namespace {

class Linear final : public Op {
public:
    explicit Linear(const OpBuildContext& ctx) {
        ctx.expect_inputs(1, 1);
        weight_ = ctx.weight("weight");
        if (weight_.shape.size() != 2 || weight_.numel() == 0)
            ctx.fail("weight must be 2-D [Cout, Cin], got " + weight_.shape_string());
        if (const Tensor* b = ctx.optional_weight("bias", {weight_.shape[0]}))
            bias_ = *b;
        packed_ = std::make_shared<const PackedMatrix>(
            pack_matrix(weight_.data, static_cast<size_t>(weight_.shape[0]),
                        static_cast<size_t>(weight_.shape[1]),
                        static_cast<size_t>(weight_.shape[1]), bias_.data));
        where_ = ctx.where();
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<Linear>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        if (in[0].channels != weight_.shape[1])
            fail_format(where_ + ": input has " + std::to_string(in[0].channels) +
                        " channels, the weight expects " + std::to_string(weight_.shape[1]));
        return {PortInfo{static_cast<uint32_t>(weight_.shape[0]), in[0].rate, in[0].latency}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        kernels_ = &packed_linear_kernels();
        pack_ = arena.scratch<float>(
            PackedLinearKernels::pack_floats(packed_->cols, info.max_input_frames));
    }

    // An add (its operand arrives as input 1), then a slope; nothing after the slope.
    bool absorb(const EpilogueStage& stage) override {
        if (epilogue_.slope)
            return false;
        if (stage.kind == EpilogueStage::Kind::AddOperand) {
            if (adds_)
                return false;
            adds_ = true;
            return true;
        }
        const size_t count = static_cast<size_t>(stage.slope.numel());
        if (count != 1 && count != static_cast<size_t>(weight_.shape[0]))
            return false;
        slope_ = stage.slope;
        epilogue_.slope = slope_.data;
        epilogue_.slope_count = count;
        return true;
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        LinearEpilogue e = epilogue_;
        if (adds_) {
            e.add = in[1].data;
            e.add_stride = in[1].stride;
        }
        kernels_->apply(*packed_, in[0].data, in[0].stride, out[0].data, out[0].stride, n, pack_,
                        e);
    }

private:
    Tensor weight_, bias_;
    std::shared_ptr<const PackedMatrix> packed_;
    const PackedLinearKernels* kernels_ = nullptr;
    float* pack_ = nullptr; // scratch
    bool adds_ = false;     // a folded add: y += input 1
    Tensor slope_;          // a folded prelu's slopes (kept alive for epilogue_)
    LinearEpilogue epilogue_;
    std::string where_;
};

} // namespace

void register_linear_ops(OpRegistry& r) {
    r.add("linear", [](const OpBuildContext& ctx) { return std::make_unique<Linear>(ctx); });
}

} // namespace rill
