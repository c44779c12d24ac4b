// Ops of token models (a frame = one token) that are also plain per-frame ops:
//   embedding  1 input channel holding the token id; y[:, t] = weight[id_t, :] (weight [V, D]);
//              an id that is not an integer in [0, V) gives zeros (never an out-of-range read)
//   affine     y[c, t] = x[c, t] * w[c] * scale + b[c]  (optional weight [C] or [1], optional
//              bias [C], attr scale (1)): per-channel mixing coefficients, scalings, offsets
//   l2_norm    per frame and group of C/groups channels: y = x / max(||x||_2, eps)
//              (torch F.normalize; attrs groups (1), eps (1e-12))
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class EmbeddingOp final : public Op {
public:
    explicit EmbeddingOp(Tensor table) : table_(std::move(table)) {}
    std::unique_ptr<Op> clone() const override { return std::make_unique<EmbeddingOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        if (in[0].channels != 1)
            fail_format("input has " + std::to_string(in[0].channels) +
                        " channels; embedding takes one channel of token ids");
        return {ops::port_like(in[0], static_cast<uint32_t>(table_.shape[1]))};
    }
    void prepare(Arena&, const PrepareInfo&) override {}

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const int64_t vocab = table_.shape[0], dim = table_.shape[1];
        for (size_t t = 0; t < n; ++t) {
            const float id = in[0].channel(0)[t];
            const bool valid = id >= 0 && id < float(vocab) && id == std::floor(id);
            const float* row = valid ? table_.data + int64_t(id) * dim : nullptr;
            for (int64_t c = 0; c < dim; ++c)
                out[0].channel(uint32_t(c))[t] = row ? row[c] : 0.0f;
        }
    }

private:
    Tensor table_;
};

class AffineOp final : public Op {
public:
    AffineOp(const Tensor* w, const Tensor* b, float scale) : scale_(scale) {
        if (w)
            weight_ = *w;
        if (b)
            bias_ = *b;
    }
    std::unique_ptr<Op> clone() const override { return std::make_unique<AffineOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        if (weight_.data)
            ops::require_per_channel("weight", weight_.numel(), in[0].channels, true);
        if (bias_.data)
            ops::require_per_channel("bias", bias_.numel(), in[0].channels);
        return {in[0]};
    }
    void prepare(Arena&, const PrepareInfo&) override {}

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        for (uint32_t c = 0; c < out[0].channels; ++c) {
            const float w =
                scale_ * (weight_.data ? weight_.data[weight_.numel() == 1 ? 0 : c] : 1.0f);
            const float b = bias_.data ? bias_.data[c] : 0.0f;
            const float* x = in[0].channel(c);
            float* y = out[0].channel(c);
            for (size_t t = 0; t < n; ++t)
                y[t] = x[t] * w + b;
        }
    }

private:
    Tensor weight_, bias_;
    float scale_;
};

class L2NormOp final : public Op {
public:
    L2NormOp(uint32_t groups, float eps) : groups_(groups), eps_(eps) {}
    std::unique_ptr<Op> clone() const override { return std::make_unique<L2NormOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        if (in[0].channels % groups_ != 0)
            fail_format("input has " + std::to_string(in[0].channels) +
                        " channels, not a multiple of groups " + std::to_string(groups_));
        return {in[0]};
    }
    void prepare(Arena& arena, const PrepareInfo& info) override {
        norm_ = arena.scratch<float>(std::max<size_t>(1, info.max_input_frames));
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const uint32_t per = in[0].channels / groups_;
        for (uint32_t g = 0; g < groups_; ++g) {
            std::fill_n(norm_, n, 0.0f);
            for (uint32_t c = g * per; c < (g + 1) * per; ++c) {
                const float* x = in[0].channel(c);
                for (size_t t = 0; t < n; ++t)
                    norm_[t] += x[t] * x[t];
            }
            for (size_t t = 0; t < n; ++t)
                norm_[t] = 1.0f / std::max(std::sqrt(norm_[t]), eps_);
            for (uint32_t c = g * per; c < (g + 1) * per; ++c) {
                const float* x = in[0].channel(c);
                float* y = out[0].channel(c);
                for (size_t t = 0; t < n; ++t)
                    y[t] = x[t] * norm_[t];
            }
        }
    }

private:
    uint32_t groups_;
    float eps_;
    float* norm_ = nullptr; // per frame (scratch)
};

std::unique_ptr<Op> make_embedding(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const Tensor& w = ctx.weight("weight", {-1, -1});
    if (w.shape[0] < 1 || w.shape[1] < 1 || w.shape[1] > 65536)
        ctx.fail("weight 'weight' must be [vocab, dim] with dim in 1..65536");
    return std::make_unique<EmbeddingOp>(w);
}

std::unique_ptr<Op> make_affine(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const double scale = ctx.attr_float("scale", 1.0);
    if (!std::isfinite(scale))
        ctx.fail("attribute 'scale' must be finite");
    return std::make_unique<AffineOp>(ctx.optional_weight("weight", {-1}),
                                      ctx.optional_weight("bias", {-1}), float(scale));
}

std::unique_ptr<Op> make_l2_norm(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const int64_t groups = ctx.attr_int("groups", 1);
    const double eps = ctx.attr_float("eps", 1e-12);
    if (groups < 1 || groups > 65536 || !(eps > 0))
        ctx.fail("attributes 'groups' (>= 1) and 'eps' (> 0) are out of range");
    return std::make_unique<L2NormOp>(uint32_t(groups), float(eps));
}

} // namespace

void register_token_ops(OpRegistry& r) {
    r.add("embedding", make_embedding);
    r.add("affine", make_affine);
    r.add("l2_norm", make_l2_norm);
}

} // namespace rill
