// linear_attention step: the ONNX LinearAttention operator (opset 27) on Rill's linear-attention
// kernels (kernels/linear_attention.hpp). Per batch element and key/value head, a K x V state S,
// tokens t in order (q, k, v packed [B, T, H * D]; decay g [B, T, H_kv * K] or [B, T, H_kv];
// beta [B, T, H_kv] or [B, T, 1]):
//   linear       S = S + k v^T
//   gated        S = diag(exp g) S + k v^T
//   delta        S = S + beta k (v - S^T k)^T
//   gated_delta  S = diag(exp g) S + beta k (v - (diag(exp g) S)^T k)^T
//   o_t = scale S_t^T q_t (scale 0: 1 / sqrt(K)), for each query head of the key/value head's
//   group (q_num_heads / kv_num_heads query heads share one state, GQA).
// Inputs: q, k, v, past_state [B, H_kv, K, V] (absent: zeros), decay, beta. Outputs: o [B, T,
// H_q * V], present_state [B, H_kv, K, V]. With the general rule of the kernels,
// S_t = diag(e^g) S + x (y^T S) + k' v^T: x = -beta k, y = e^g k, k' = beta k.
#include <cmath>
#include <cstring>

#include "../kernels/linear_attention.hpp"
#include "kernel.hpp"

namespace rill::tensor {
namespace {

struct LaDims {
    int64_t b = 1, t = 1, hq = 1, hkv = 1, k = 1, v = 1;
    bool gated = false, delta = false, g_per_channel = false, beta_shared = false;
    float scale = 1;
};

class LinearAttentionKernel final : public TensorKernel {
public:
    explicit LinearAttentionKernel(const LaDims& d) : d_(d) {}

    size_t scratch_floats() const override {
        const auto t = static_cast<size_t>(d_.t), k = static_cast<size_t>(d_.k), v = static_cast<size_t>(d_.v);
        return 5 * t * k + 2 * t * v + k * v + k + v + t;
    }

    void run(const float* const* in, float* const* out, float* scratch) const noexcept override {
        const auto& d = d_;
        const int64_t group = d.hq / d.hkv, T = d.t, K = d.k, V = d.v;
        float* q = scratch;
        float* key = q + T * K;
        float* x = key + T * K;
        float* y = x + T * K;
        float* g = y + T * K;
        float* val = g + T * K;
        float* o = val + T * V;
        float* own_state = o + T * V;
        float* la_scratch = own_state + K * V;
        for (int64_t b = 0; b < d.b; ++b)
            for (int64_t h = 0; h < d.hkv; ++h) {
                float* S = out[1] ? out[1] + (b * d.hkv + h) * K * V : own_state;
                if (in[3])
                    std::memcpy(S, in[3] + (b * d.hkv + h) * K * V, static_cast<size_t>(K * V) * sizeof(float));
                else
                    std::fill_n(S, K * V, 0.0f);
                for (int64_t t = 0; t < T; ++t) {
                    const int64_t row = b * T + t;
                    const float* kt = in[1] + row * d.hkv * K + h * K;
                    std::copy_n(in[2] + row * d.hkv * V + h * V, V, val + t * V);
                    const float beta = d.delta ? in[5][row * (d.beta_shared ? 1 : d.hkv) + (d.beta_shared ? 0 : h)] : 1.0f;
                    for (int64_t c = 0; c < K; ++c) {
                        const float gc = !d.gated ? 0.0f
                                         : d.g_per_channel ? in[4][row * d.hkv * K + h * K + c]
                                                           : in[4][row * d.hkv + h];
                        g[t * K + c] = gc;
                        key[t * K + c] = beta * kt[c];
                        x[t * K + c] = -beta * kt[c];
                        y[t * K + c] = std::exp(gc) * kt[c];
                    }
                }
                LaSequence seq;
                seq.T = static_cast<size_t>(T);
                seq.K = static_cast<size_t>(K);
                seq.V = static_cast<size_t>(V);
                seq.k = key;
                seq.v = val;
                seq.g = d.gated ? g : nullptr;
                seq.g_per_channel = true;
                seq.x = d.delta ? x : nullptr;
                seq.y = d.delta ? y : nullptr;
                if (group == 1) {
                    gather_q(in[0], b, h, q);
                    seq.q = q;
                    la_recurrent(seq, S, o, la_scratch);
                    scatter_o(o, b, h, out[0]);
                    continue;
                }
                // Shared state: advance token by token, every query head of the group reads S_t.
                for (int64_t t = 0; t < T; ++t) {
                    LaSequence one = seq;
                    one.T = 1;
                    one.k = key + t * K;
                    one.v = val + t * V;
                    one.g = d.gated ? g + t * K : nullptr;
                    one.x = d.delta ? x + t * K : nullptr;
                    one.y = d.delta ? y + t * K : nullptr;
                    for (int64_t j = 0; j < group; ++j) {
                        const int64_t hq = h * group + j;
                        const float* qt = in[0] + (b * T + t) * d.hq * K + hq * K;
                        float* ot = out[0] + (b * T + t) * d.hq * V + hq * V;
                        if (j == 0) {
                            for (int64_t c = 0; c < K; ++c)
                                q[c] = qt[c] * d.scale;
                            one.q = q;
                            la_recurrent(one, S, o, la_scratch);
                            std::copy_n(o, V, ot);
                            continue;
                        }
                        for (int64_t c = 0; c < V; ++c) {
                            float acc = 0;
                            for (int64_t r = 0; r < K; ++r)
                                acc += S[r * V + c] * qt[r];
                            ot[c] = acc * d.scale;
                        }
                    }
                }
            }
    }

private:
    void gather_q(const float* q_in, int64_t b, int64_t h, float* q) const noexcept {
        for (int64_t t = 0; t < d_.t; ++t)
            for (int64_t c = 0; c < d_.k; ++c)
                q[t * d_.k + c] = q_in[(b * d_.t + t) * d_.hq * d_.k + h * d_.k + c] * d_.scale;
    }
    void scatter_o(const float* o, int64_t b, int64_t h, float* o_out) const noexcept {
        for (int64_t t = 0; t < d_.t; ++t)
            std::copy_n(o + t * d_.v, d_.v, o_out + (b * d_.t + t) * d_.hq * d_.v + h * d_.v);
    }

    LaDims d_;
};

} // namespace

BuiltStep build_linear_attention(const StepSpec& s) {
    expect_step_inputs(s, 3, 6);
    auto present = [&](size_t i) { return i < s.present.size() && s.present[i]; };
    LaDims d;
    d.hq = attr_int(s.attrs, "q_num_heads", 0);
    d.hkv = attr_int(s.attrs, "kv_num_heads", 0);
    if (d.hq < 1 || d.hkv < 1 || d.hq % d.hkv != 0)
        fail_format("linear_attention: q_num_heads must be a positive multiple of kv_num_heads");
    const std::string rule = attr_string(s.attrs, "update_rule", "gated_delta");
    if (rule != "linear" && rule != "gated" && rule != "delta" && rule != "gated_delta")
        fail_format("linear_attention: update_rule \"" + rule + "\"");
    d.gated = rule == "gated" || rule == "gated_delta";
    d.delta = rule == "delta" || rule == "gated_delta";
    const Shape &q = s.in_shapes[0], &k = s.in_shapes[1], &v = s.in_shapes[2];
    if (q.size() != 3 || k.size() != 3 || v.size() != 3 || k[0] != q[0] || v[0] != q[0] ||
        k[1] != q[1] || v[1] != q[1] || q[2] % d.hq != 0 || v[2] % d.hkv != 0)
        fail_format("linear_attention: query, key, value must be [B, T, H * D] with matching B and T");
    d.b = q[0], d.t = q[1], d.k = q[2] / d.hq, d.v = v[2] / d.hkv;
    if (k[2] != d.hkv * d.k)
        fail_format("linear_attention: key " + to_string(k) + " must hold kv_num_heads x " + std::to_string(d.k));
    if (d.gated != present(4) || d.delta != present(5))
        fail_format("linear_attention: update_rule " + rule + " needs " + (d.gated ? "a" : "no") +
                    " decay and " + (d.delta ? "a" : "no") + " beta input");
    if (present(3) && s.in_shapes[3] != Shape{d.b, d.hkv, d.k, d.v})
        fail_format("linear_attention: past_state " + to_string(s.in_shapes[3]) + " must be [B, H_kv, K, V]");
    if (d.gated) {
        const Shape& g = s.in_shapes[4];
        d.g_per_channel = g.size() == 3 && g[2] == d.hkv * d.k;
        if (g.size() != 3 || g[0] != d.b || g[1] != d.t || (!d.g_per_channel && g[2] != d.hkv))
            fail_format("linear_attention: decay " + to_string(g) + " must be [B, T, H_kv * K] or [B, T, H_kv]");
    }
    if (d.delta) {
        const Shape& be = s.in_shapes[5];
        d.beta_shared = be.size() == 3 && be[2] == 1 && d.hkv != 1;
        if (be.size() != 3 || be[0] != d.b || be[1] != d.t || (be[2] != d.hkv && be[2] != 1))
            fail_format("linear_attention: beta " + to_string(be) + " must be [B, T, H_kv] or [B, T, 1]");
    }
    const double scale = attr_float(s.attrs, "scale", 0.0);
    d.scale = static_cast<float>(scale == 0.0 ? 1.0 / std::sqrt(static_cast<double>(d.k)) : scale);
    return {std::make_shared<LinearAttentionKernel>(d),
            {{d.b, d.t, d.hq * d.v}, {d.b, d.hkv, d.k, d.v}}};
}

} // namespace rill::tensor
