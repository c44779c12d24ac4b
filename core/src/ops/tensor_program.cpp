// tensor_program: runs a tensor program (tensor/program.hpp) once per frame of its input ports.
// Input port i carries the elements of program input i as channels (row-major order), output
// port j those of program output j; all ports share one rate and latency. State tensors carry
// over from frame to frame (stream state: zeroed by reset, snapshotted by state get/set). Frames
// in the pre-roll (negative time, preroll.hpp) leave the state untouched and output zeros, so the
// stream equals offline shifted by the latency.
#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "../tensor/program.hpp"
#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class TensorProgramOp final : public Op {
public:
    explicit TensorProgramOp(const OpBuildContext& ctx) : where_(ctx.where()) {
        std::map<std::string, const Tensor*> constants;
        for (const auto& [role, name] : ctx.node.weights)
            constants[role] = &ctx.tensors.at(name);
        try {
            program_ = std::make_shared<const tensor::Program>(ctx.node.attrs, constants);
        } catch (const CoreError& e) {
            throw CoreError(e.kind(), ctx.where() + ": " + e.what());
        }
        ctx.expect_inputs(program_->input_count(), program_->input_count());
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<TensorProgramOp>(*this); }

    uint32_t num_outputs() const override { return static_cast<uint32_t>(program_->output_count()); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        for (size_t i = 0; i < in.size(); ++i)
            if (static_cast<int64_t>(in[i].channels) != program_->input_size(i))
                fail_format(where_ + ": input port " + std::to_string(i) + " has " +
                            std::to_string(in[i].channels) + " channels, the program input " +
                            tensor::to_string(program_->input_shape(i)) + " needs " +
                            std::to_string(program_->input_size(i)));
        preroll_.latency = in[0].latency;
        std::vector<PortInfo> out;
        for (size_t j = 0; j < program_->output_count(); ++j)
            out.push_back(ops::port_like(in[0], static_cast<uint32_t>(program_->output_size(j))));
        return out;
    }

    void prepare(Arena& arena, const PrepareInfo&) override {
        preroll_.seen = arena.state<int64_t>(1);
        program_->take(arena, buffers_);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        for (size_t j = 0; j < program_->output_count(); ++j)
            for (int64_t c = 0; c < program_->output_size(j); ++c)
                std::fill_n(out[j].channel(static_cast<uint32_t>(c)), skip, 0.0f);
        for (size_t t = skip; t < n; ++t) {
            for (size_t i = 0; i < program_->input_count(); ++i) {
                float* x = program_->input(buffers_, i);
                for (int64_t c = 0; c < program_->input_size(i); ++c)
                    x[c] = in[i].channel(static_cast<uint32_t>(c))[t];
            }
            program_->run(buffers_);
            for (size_t j = 0; j < program_->output_count(); ++j) {
                const float* y = program_->output(buffers_, j);
                for (int64_t c = 0; c < program_->output_size(j); ++c)
                    out[j].channel(static_cast<uint32_t>(c))[t] = y[c];
            }
        }
    }

private:
    std::string where_;
    std::shared_ptr<const tensor::Program> program_;
    tensor::Program::Buffers buffers_;
    PreRoll preroll_;
};

} // namespace

void register_tensor_program_ops(OpRegistry& r) {
    r.add("tensor_program", [](const OpBuildContext& ctx) { return std::make_unique<TensorProgramOp>(ctx); });
}

} // namespace rill
