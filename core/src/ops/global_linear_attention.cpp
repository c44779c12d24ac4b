// global_linear_attention: non-causal linear attention over the N tokens of one frame (image
// tokens; LinFusion-style normalised linear attention, O(N)). Each frame is independent.
// Channel layout per frame: plane-major, channel = (h * D + d) * N + n for head h, feature d,
// token n (an NCHW image flattened per head). With phi the feature map (identity | elu: elu+1 |
// relu) applied to q and k:
//   S_h = sum_n phi(k_n) v_n^T (K x V),  z_h = sum_n phi(k_n)
//   normalize: o_n = S_h^T phi(q_n) / (phi(q_n) . z_h + eps)
//   otherwise: o_n = scale * S_h^T phi(q_n)
// Attrs: heads, tokens N, feature_map ("elu"), normalize (1), eps (1e-6), scale (1).
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "../kernels/gemm.hpp"
#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

enum class Phi { Identity, Elu, Relu };

class GlobalLinearAttentionOp final : public Op {
public:
    GlobalLinearAttentionOp(size_t heads, size_t tokens, Phi phi, bool normalize, float eps,
                            float scale)
        : H_(heads), N_(tokens), phi_(phi), normalize_(normalize), eps_(eps), scale_(scale) {}

    std::unique_ptr<Op> clone() const override {
        return std::make_unique<GlobalLinearAttentionOp>(*this);
    }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        auto dims = [&](size_t i, const char* name) {
            if (in[i].channels % (H_ * N_) != 0 || in[i].channels == 0)
                fail_format(std::string("input '") + name + "' has " +
                            std::to_string(in[i].channels) +
                            " channels, not a multiple of heads * tokens = " +
                            std::to_string(H_ * N_));
            return in[i].channels / (H_ * N_);
        };
        K_ = dims(0, "q");
        if (dims(1, "k") != K_)
            fail_format("inputs 'q' and 'k' differ in size");
        V_ = dims(2, "v");
        return {ops::port_like(in[0], static_cast<uint32_t>(H_ * V_ * N_))};
    }

    void prepare(Arena& arena, const PrepareInfo&) override {
        q_ = arena.scratch<float>(K_ * N_);
        k_ = arena.scratch<float>(K_ * N_);
        vt_ = arena.scratch<float>(N_ * V_);
        s_ = arena.scratch<float>(K_ * V_);
        st_ = arena.scratch<float>(V_ * K_);
        z_ = arena.scratch<float>(K_);
        o_ = arena.scratch<float>(V_ * N_);
        den_ = arena.scratch<float>(N_);
        gemm_ = &gemm_kernels();
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        for (size_t t = 0; t < n; ++t)
            for (size_t h = 0; h < H_; ++h)
                frame_head(in, out[0], t, h);
    }

private:
    void feature(float* x, size_t count) const noexcept {
        if (phi_ == Phi::Elu)
            for (size_t i = 0; i < count; ++i)
                x[i] = x[i] > 0 ? x[i] + 1.0f : std::exp(x[i]);
        else if (phi_ == Phi::Relu)
            for (size_t i = 0; i < count; ++i)
                x[i] = std::max(x[i], 0.0f);
    }

    void frame_head(const ConstView* in, const View& out, size_t t, size_t h) noexcept {
        const size_t K = K_, V = V_, N = N_;
        for (size_t e = 0; e < K * N; ++e) {
            q_[e] = in[0].channel(uint32_t(h * K * N + e))[t];
            k_[e] = in[1].channel(uint32_t(h * K * N + e))[t];
        }
        for (size_t j = 0; j < V; ++j)
            for (size_t m = 0; m < N; ++m)
                vt_[m * V + j] = in[2].channel(uint32_t((h * V + j) * N + m))[t];
        feature(q_, K * N);
        feature(k_, K * N);
        gemm_->gemm(K, V, N, k_, N, vt_, V, s_, V, false); // S = phi(K) V^T
        for (size_t i = 0; i < K; ++i)
            for (size_t j = 0; j < V; ++j)
                st_[j * K + i] = s_[i * V + j];
        gemm_->gemm(V, N, K, st_, K, q_, N, o_, N, false); // O = S^T phi(Q)
        if (normalize_) {
            for (size_t i = 0; i < K; ++i) {
                float acc = 0;
                for (size_t m = 0; m < N; ++m)
                    acc += k_[i * N + m];
                z_[i] = acc;
            }
            std::fill_n(den_, N, 0.0f);
            for (size_t i = 0; i < K; ++i)
                for (size_t m = 0; m < N; ++m)
                    den_[m] += q_[i * N + m] * z_[i];
            for (size_t m = 0; m < N; ++m)
                den_[m] = 1.0f / (den_[m] + eps_);
        } else {
            std::fill_n(den_, N, scale_);
        }
        for (size_t j = 0; j < V; ++j)
            for (size_t m = 0; m < N; ++m)
                out.channel(uint32_t((h * V + j) * N + m))[t] = o_[j * N + m] * den_[m];
    }

    size_t H_, N_;
    Phi phi_;
    bool normalize_;
    float eps_, scale_;
    size_t K_ = 0, V_ = 0;
    const GemmKernels* gemm_ = nullptr;
    float *q_ = nullptr, *k_ = nullptr, *vt_ = nullptr, *s_ = nullptr, *st_ = nullptr;
    float *z_ = nullptr, *o_ = nullptr, *den_ = nullptr; // scratch
};

std::unique_ptr<Op> make_global_linear_attention(const OpBuildContext& ctx) {
    ctx.expect_inputs(3, 3);
    const int64_t heads = ctx.attr_int_required("heads");
    const int64_t tokens = ctx.attr_int_required("tokens");
    if (heads < 1 || heads > 4096 || tokens < 1 || tokens > (1 << 22))
        ctx.fail("attributes 'heads' and 'tokens' must be positive");
    const std::string fm = ctx.attr_string("feature_map", "elu");
    Phi phi = Phi::Identity;
    if (fm == "elu")
        phi = Phi::Elu;
    else if (fm == "relu")
        phi = Phi::Relu;
    else if (fm != "identity")
        ctx.fail("attribute 'feature_map' is '" + fm + "'; expected identity, elu or relu");
    const double eps = ctx.attr_float("eps", 1e-6), scale = ctx.attr_float("scale", 1.0);
    if (!(eps >= 0) || !std::isfinite(scale))
        ctx.fail("attributes 'eps' (>= 0) and 'scale' must be finite");
    return std::make_unique<GlobalLinearAttentionOp>(
        size_t(heads), size_t(tokens), phi, ctx.attr_int("normalize", 1) != 0, float(eps),
        float(scale));
}

} // namespace

void register_global_linear_attention_ops(OpRegistry& r) {
    r.add("global_linear_attention", make_global_linear_attention);
}

} // namespace rill
