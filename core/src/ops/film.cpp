// film: feature-wise linear modulation by the model's parameters (Perez et al. 2018, FiLM).
//   p = values of the parameters named by attr `params` (default: all model parameters, in order)
//   gamma = W[:C] p + b[:C],  beta = W[C:] p + b[C:]     (weight W [2C, P], optional bias b [2C])
//   y[c,t] = gamma[c] x[c,t] + beta[c]
// p is read once per block, so a parameter change takes effect at the next block.
#include <algorithm>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class FilmOp final : public Op {
public:
    FilmOp(std::vector<uint32_t> param_index, Tensor weight, const Tensor* bias)
        : param_index_(std::move(param_index)), weight_(std::move(weight)) {
        if (bias)
            bias_ = *bias;
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<FilmOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        const int64_t c = weight_.shape[0] / 2;
        if (inputs[0].channels != c)
            fail_format("input has " + std::to_string(inputs[0].channels) +
                        " channels but weight 'weight' " + weight_.shape_string() +
                        " modulates " + std::to_string(c) + " (shape [2C, P])");
        return {inputs[0]};
    }

    void prepare(Arena&, const PrepareInfo&) override {}

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext& ctx) noexcept override {
        const uint32_t channels = out[0].channels;
        for (uint32_t c = 0; c < channels; ++c) {
            const float gamma = row(c, ctx.params), beta = row(c + channels, ctx.params);
            const float* x = in[0].channel(c);
            float* y = out[0].channel(c);
            for (size_t t = 0; t < n; ++t)
                y[t] = gamma * x[t] + beta;
        }
    }

private:
    // (W p + b)[r]
    float row(uint32_t r, const float* params) const noexcept {
        const size_t p = param_index_.size();
        float acc = bias_.data ? bias_.data[r] : 0.0f;
        for (size_t j = 0; j < p; ++j)
            acc += weight_.data[r * p + j] * params[param_index_[j]];
        return acc;
    }

    std::vector<uint32_t> param_index_; // model parameter index of column j of W
    Tensor weight_;                     // [2C, P]
    Tensor bias_;                       // [2C] or empty
};

std::unique_ptr<Op> make_film(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    std::vector<uint32_t> index;
    if (ctx.has_attr("params")) {
        const auto& names = ctx.node.attrs.at("params");
        if (!names.is_array())
            ctx.fail("attribute 'params' must be a list of parameter names, got " + names.dump());
        for (const auto& name : names) {
            if (!name.is_string())
                ctx.fail("attribute 'params' must be a list of parameter names, got " +
                         names.dump());
            index.push_back(ctx.param_index(name.get<std::string>(), "params"));
        }
    } else {
        for (uint32_t i = 0; i < ctx.graph.params.size(); ++i)
            index.push_back(i);
    }
    if (index.empty())
        ctx.fail("needs at least one model parameter (the graph declares none, or 'params' is empty)");
    const Tensor& weight = ctx.weight("weight", {-1, static_cast<int64_t>(index.size())});
    if (weight.shape[0] < 2 || weight.shape[0] % 2 != 0)
        ctx.fail("weight 'weight' has shape " + weight.shape_string() +
                 ", expected [2C, P] with an even first axis");
    const Tensor* bias = ctx.optional_weight("bias", {weight.shape[0]});
    return std::make_unique<FilmOp>(std::move(index), weight, bias);
}

} // namespace

void register_film_ops(OpRegistry& r) { r.add("film", make_film); }

} // namespace rill
