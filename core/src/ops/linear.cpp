// linear: nn.Linear applied to every frame (a 1x1 convolution).
//   y[o, t] = bias[o] + sum_c W[o, c] x[c, t],   W [Cout, Cin], bias [Cout] (optional).
#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "../kernels/mac.hpp"
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
        where_ = ctx.where();
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<Linear>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        if (in[0].channels != weight_.shape[1])
            fail_format(where_ + ": input has " + std::to_string(in[0].channels) +
                        " channels, the weight expects " + std::to_string(weight_.shape[1]));
        return {PortInfo{static_cast<uint32_t>(weight_.shape[0]), in[0].rate, in[0].latency}};
    }

    void prepare(Arena& arena, const PrepareInfo&) override {
        mac_ = &mac_kernels();
        col_ = arena.scratch<float>(static_cast<size_t>(weight_.shape[1]));
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const int64_t cout = weight_.shape[0], cin = weight_.shape[1];
        if (n < kShortBlock) {
            correlate_by_frame(*mac_, out[0].data, out[0].stride, in[0].data, in[0].stride,
                               weight_.data, bias_.data, static_cast<size_t>(cout),
                               static_cast<size_t>(cin), 1, 1, 1, 1, n, col_);
            return;
        }
        for (int64_t o = 0; o < cout; ++o) {
            float* y = out[0].channel(static_cast<uint32_t>(o));
            std::fill_n(y, n, bias_.data ? bias_.data[o] : 0.0f);
            const float* w = weight_.data + o * cin;
            mac_->taps(y, in[0].data, in[0].stride, w, static_cast<size_t>(cin), 1, 1, 1, n);
        }
    }

private:
    Tensor weight_, bias_;
    const MacKernels* mac_ = nullptr;
    float* col_ = nullptr; // one input frame (short blocks)
    std::string where_;
};

} // namespace

void register_linear_ops(OpRegistry& r) {
    r.add("linear", [](const OpBuildContext& ctx) { return std::make_unique<Linear>(ctx); });
}

} // namespace rill
