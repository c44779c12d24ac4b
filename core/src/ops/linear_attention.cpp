// linear_attention: the recurrent-state attention variants (docs/linear_attention.md) over the
// frames of a signal. Inputs are planar signals whose channels are heads x dims (q: H*K, k: H*K,
// v: HV*V, gates per value head); the output is HV*V channels. Each variant is turned, frame by
// frame, into the one state rule of kernels/linear_attention.hpp:
//   S_t = diag(exp(g_t)) S_{t-1} + x_t (y_t^T S_{t-1}) + k_t v_t^T,   o_t = S_t^T q_t
//   linear        g = 0; normalised: v gets a column of ones (z) and o = o / (o_z + 1e-10)
//   retention     g = log(1 - 2^(-5-h))
//   simple_gla    g per head; gla: g per key channel
//   delta family  x = -beta k, y = exp(g) k, written key beta k (beta in (0,1), or (0,2));
//                 delta_product: n such steps per frame, the decay on the first, q on the last
//   mamba2        g = -exp(A_log) dt, k = dt B, q = C, + D x;  dt = softplus(dt_raw + dt_bias)
//   mlstm         m_t = max(logsigmoid(f) + m, i); g = logsigmoid(f) + m - m_t;
//                 k = exp(i - m_t) k / sqrt(K); v gets a column of ones (n);
//                 h = o / (max(|o_n|, exp(-m_t)) + 1e-6)
//   rwkv5         g = -exp(time_decay), output read before the update, + (r . (u * k)) v
//   rwkv7         g = w, x = kk * a, y = -kk, + (r . (k * r_k)) v
// Blocks of at least `chunk_min_frames` frames use the chunkwise form, shorter ones the
// recurrent form; both update the same state. Pre-roll (preroll.hpp): frames before the input's
// latency leave the state alone and output 0.
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "../kernels/linear_attention.hpp"
#include "families.hpp"
#include "linear_attention_config.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

using la::Config;
using la::Variant;

float log_sigmoid(float x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }
float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void l2_normalise(float* x, size_t n) {
    float ss = 0;
    for (size_t i = 0; i < n; ++i)
        ss += x[i] * x[i];
    const float inv = 1.0f / std::sqrt(ss + 1e-6f);
    for (size_t i = 0; i < n; ++i)
        x[i] *= inv;
}

class LinearAttentionOp final : public Op {
public:
    explicit LinearAttentionOp(Config c) : c_(std::move(c)) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<LinearAttentionOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        ops::require_aligned(in);
        const size_t H = c_.heads, HV = c_.value_heads, n = c_.steps;
        if (in[0].channels % H != 0)
            fail_format("input 'q' has " + std::to_string(in[0].channels) +
                        " channels, not a multiple of heads " + std::to_string(H));
        K_ = in[0].channels / H;
        if (in[2].channels % (HV * n) != 0)
            fail_format("input 'v' has " + std::to_string(in[2].channels) +
                        " channels, not a multiple of value_heads * steps " +
                        std::to_string(HV * n));
        V_ = in[2].channels / (HV * n);
        if (K_ == 0 || V_ == 0 || K_ > 4096 || V_ > 4096)
            fail_format("head dimensions K = " + std::to_string(K_) + ", V = " +
                        std::to_string(V_) + " must be in 1..4096");
        Vx_ = V_ + ((c_.normalize || c_.variant == Variant::Mlstm) ? 1 : 0);
        Kg_ = c_.decay_per_channel() ? K_ : 1;
        if (!c_.scale_given)
            c_.scale = 1.0f / std::sqrt(static_cast<float>(K_));

        const auto names = c_.input_names();
        auto expect = [&](size_t i, size_t channels) {
            if (in[i].channels != channels)
                fail_format("input " + std::to_string(i) + " '" + names[i] + "' has " +
                            std::to_string(in[i].channels) + " channels, expected " +
                            std::to_string(channels));
        };
        expect(1, n * H * K_);
        size_t next = 3;
        if (c_.variant == Variant::Mlstm) {
            expect(3, HV);
            expect(4, HV);
        } else if (c_.variant == Variant::Rwkv7) {
            expect(3, H * K_);
            expect(4, H * K_);
            expect(5, H * K_);
        } else {
            if (c_.has_decay_input())
                expect(next++, HV * Kg_);
            if (c_.has_beta_input())
                expect(next++, n * HV);
        }
        auto expect_weight = [&](const char* role, const Tensor& t, size_t a, size_t b) {
            if (t.data && t.numel() != static_cast<int64_t>(a) &&
                t.numel() != static_cast<int64_t>(b))
                fail_format(std::string("weight '") + role + "' has " +
                            std::to_string(t.numel()) + " values, expected " + std::to_string(a) +
                            (a == b ? "" : " or " + std::to_string(b)));
        };
        expect_weight("dt_bias", c_.dt_bias, HV, HV * Kg_);
        expect_weight("time_decay", c_.time_decay, H * K_, H * K_);
        expect_weight("time_first", c_.time_first, H * K_, H * K_);
        expect_weight("r_k", c_.r_k, H * K_, H * K_);
        preroll_.latency = in[0].latency;
        return {ops::port_like(in[0], static_cast<uint32_t>(HV * V_))};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        preroll_.seen = arena.state<int64_t>(1);
        state_ = arena.state<float>(c_.value_heads * K_ * Vx_);
        m_ = arena.state<float>(c_.value_heads);
        const size_t C = c_.chunk_size;
        segment_ = std::max<size_t>(1, std::min(info.max_input_frames, std::max<size_t>(C, 256)));
        const size_t tokens = segment_ * c_.steps;
        q_ = arena.scratch<float>(tokens * K_);
        k_ = arena.scratch<float>(tokens * K_);
        x_ = arena.scratch<float>(tokens * K_);
        y_ = arena.scratch<float>(tokens * K_);
        g_ = arena.scratch<float>(tokens * Kg_);
        v_ = arena.scratch<float>(tokens * Vx_);
        o_ = arena.scratch<float>(tokens * Vx_);
        m_token_ = arena.scratch<float>(segment_);
        work_ = arena.scratch<float>(std::max(la_chunk_scratch_floats(C, K_, Vx_), Vx_));
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        for (uint32_t c = 0; c < out[0].channels; ++c)
            std::fill_n(out[0].channel(c), skip, 0.0f);
        const bool chunked = n - skip >= c_.chunk_min_frames;
        for (size_t t = skip; t < n; t += segment_) {
            const size_t len = std::min(segment_, n - t);
            for (size_t hv = 0; hv < c_.value_heads; ++hv)
                run_head(hv, in, out[0], t, len, chunked);
        }
    }

private:
    // Frames [t0, t0 + len) of value head hv.
    void run_head(size_t hv, const ConstView* in, const View& out, size_t t0, size_t len,
                  bool chunked) noexcept {
        const size_t H = c_.heads, HV = c_.value_heads, steps = c_.steps, K = K_, V = V_;
        const size_t h = hv / (HV / H);
        const size_t T = len * steps;
        const bool rank1 = c_.delta_rule() || c_.variant == Variant::Rwkv7;
        for (size_t f = 0; f < len; ++f) {
            const size_t frame = t0 + f;
            for (size_t j = 0; j < steps; ++j) {
                const size_t tok = f * steps + j;
                float* q = q_ + tok * K;
                float* k = k_ + tok * K;
                float* v = v_ + tok * Vx_;
                float* g = g_ + tok * Kg_;
                for (size_t i = 0; i < K; ++i) {
                    q[i] = j + 1 == steps ? in[0].channel(uint32_t(h * K + i))[frame] : 0.0f;
                    k[i] = in[1].channel(uint32_t((j * H + h) * K + i))[frame];
                }
                for (size_t i = 0; i < V; ++i)
                    v[i] = in[2].channel(uint32_t((j * HV + hv) * V + i))[frame];
                if (Vx_ > V)
                    v[V] = 1.0f;
                feature_map(q);
                feature_map(k);
                if (c_.qk_l2) {
                    l2_normalise(q, K);
                    l2_normalise(k, K);
                }
                for (size_t i = 0; i < K; ++i)
                    q[i] *= c_.scale;
                decay(in, hv, h, frame, j, f, g, k);
                if (rank1)
                    transition(in, hv, h, frame, j, g, k, x_ + tok * K, y_ + tok * K);
            }
        }
        LaSequence s;
        s.T = T;
        s.K = K;
        s.V = Vx_;
        s.q = q_;
        s.k = k_;
        s.v = v_;
        s.g = has_decay() ? g_ : nullptr;
        s.g_per_channel = Kg_ == K;
        s.x = rank1 ? x_ : nullptr;
        s.y = rank1 ? y_ : nullptr;
        s.exclusive = c_.variant == Variant::Rwkv5;
        float* S = state_ + hv * K * Vx_;
        if (chunked)
            la_chunkwise(s, c_.chunk_size, S, o_, work_);
        else
            la_recurrent(s, S, o_, work_);
        for (size_t f = 0; f < len; ++f)
            emit(hv, h, t0 + f, f, out);
    }

    bool has_decay() const {
        return c_.has_decay_input() || c_.variant == Variant::Retention ||
               c_.variant == Variant::Rwkv5 || c_.variant == Variant::Mlstm;
    }

    void feature_map(float* x) const noexcept {
        switch (c_.feature_map) {
        case la::FeatureMap::Elu:
            for (size_t i = 0; i < K_; ++i)
                x[i] = x[i] > 0 ? x[i] + 1.0f : std::exp(x[i]);
            break;
        case la::FeatureMap::Relu:
            for (size_t i = 0; i < K_; ++i)
                x[i] = std::max(x[i], 0.0f);
            break;
        case la::FeatureMap::Identity:
            break;
        }
    }

    // Log decay of sub-step j of a frame (g: Kg_ values); may rescale the written key k.
    void decay(const ConstView* in, size_t hv, size_t h, size_t frame, size_t j, size_t f,
               float* g, float* k) noexcept {
        const size_t K = K_;
        switch (c_.variant) {
        case Variant::Retention:
            g[0] = std::log1p(-std::exp2(-5.0f - static_cast<float>(hv)));
            return;
        case Variant::Rwkv5:
            for (size_t i = 0; i < K; ++i)
                g[i] = -std::exp(c_.time_decay.data[h * K + i]);
            return;
        case Variant::Rwkv7:
            for (size_t i = 0; i < K; ++i)
                g[i] = in[3].channel(uint32_t(h * K + i))[frame];
            return;
        case Variant::Mlstm: {
            const float lf = log_sigmoid(in[4].channel(uint32_t(hv))[frame]);
            const float ig = in[3].channel(uint32_t(hv))[frame];
            const float m_new = std::max(lf + m_[hv], ig);
            g[0] = lf + m_[hv] - m_new;
            const float w = std::exp(ig - m_new) / std::sqrt(static_cast<float>(K));
            for (size_t i = 0; i < K; ++i)
                k[i] *= w;
            m_[hv] = m_new;
            m_token_[f] = m_new;
            return;
        }
        default:
            break;
        }
        if (!c_.has_decay_input())
            return;
        if (j > 0) { // DeltaProduct: the decay acts once per frame, on the first step
            std::fill_n(g, Kg_, 0.0f);
            return;
        }
        const size_t gate_input = 3;
        for (size_t i = 0; i < Kg_; ++i) {
            const float raw = in[gate_input].channel(uint32_t(hv * Kg_ + i))[frame];
            switch (c_.decay) {
            case la::DecayTransform::Log:
                g[i] = raw;
                break;
            case la::DecayTransform::LogSigmoid:
                g[i] = std::max(log_sigmoid(raw) / c_.gate_normalizer, c_.gate_clamp_min);
                break;
            case la::DecayTransform::Softplus: {
                const size_t bias_index = c_.dt_bias.numel() == int64_t(c_.value_heads)
                                              ? hv
                                              : hv * Kg_ + i;
                const float dt = softplus(raw + c_.dt_bias.data[bias_index]);
                g[i] = -std::exp(c_.a_log.data[hv]) * dt;
                if (c_.variant == Variant::Mamba2)
                    for (size_t r = 0; r < K; ++r)
                        k[r] *= dt;
                break;
            }
            }
        }
    }

    // Rank-one transition x, y and the written key (in place in k).
    void transition(const ConstView* in, size_t hv, size_t h, size_t frame, size_t j,
                    const float* g, float* k, float* x, float* y) const noexcept {
        const size_t K = K_;
        if (c_.variant == Variant::Rwkv7) {
            for (size_t i = 0; i < K; ++i) {
                const float kk = in[4].channel(uint32_t(h * K + i))[frame];
                const float a = in[5].channel(uint32_t(h * K + i))[frame];
                x[i] = kk * a;
                y[i] = -kk;
            }
            return;
        }
        const size_t beta_input = c_.has_decay_input() ? 4 : 3;
        float beta = in[beta_input].channel(uint32_t(j * c_.value_heads + hv))[frame];
        if (c_.beta == la::BetaTransform::Sigmoid)
            beta = sigmoid(beta);
        if (c_.allow_neg_eigval)
            beta *= 2.0f;
        const bool decays = has_decay();
        for (size_t i = 0; i < K; ++i) {
            const float ki = k[i];
            y[i] = decays ? std::exp(g[Kg_ == K ? i : 0]) * ki : ki;
            x[i] = -beta * ki;
            k[i] = beta * ki;
        }
    }

    // Output of frame f (its last token) with the variant's read-out terms.
    void emit(size_t hv, size_t h, size_t frame, size_t f,
              const View& out) const noexcept {
        const size_t K = K_, V = V_;
        const size_t tok = f * c_.steps + c_.steps - 1;
        const float* o = o_ + tok * Vx_;
        const float* v = v_ + tok * Vx_;
        float div = 1.0f, bonus = 0.0f;
        if (c_.normalize)
            div = o[V] + 1e-10f;
        if (c_.variant == Variant::Mlstm)
            div = std::max(std::fabs(o[V]), std::exp(-m_token_[f])) + 1e-6f;
        if (c_.variant == Variant::Rwkv5 || (c_.variant == Variant::Rwkv7 && c_.r_k.data)) {
            const float* bonus_w = c_.variant == Variant::Rwkv5 ? c_.time_first.data : c_.r_k.data;
            for (size_t i = 0; i < K; ++i)
                bonus += q_[tok * K + i] * k_[tok * K + i] * bonus_w[h * K + i];
        }
        for (size_t i = 0; i < V; ++i) {
            float y = o[i] / div + bonus * v[i];
            if (c_.variant == Variant::Mamba2 && c_.d_skip.data)
                y += c_.d_skip.data[hv] * v[i];
            out.channel(uint32_t(hv * V + i))[frame] = y;
        }
    }

    Config c_;
    size_t K_ = 0, V_ = 0, Vx_ = 0, Kg_ = 1;
    size_t segment_ = 1;
    PreRoll preroll_;
    float* state_ = nullptr;  // [HV, K, Vx] (state)
    float* m_ = nullptr;      // mlstm stabiliser per value head (state)
    float *q_ = nullptr, *k_ = nullptr, *x_ = nullptr, *y_ = nullptr, *g_ = nullptr; // scratch
    float *v_ = nullptr, *o_ = nullptr, *m_token_ = nullptr, *work_ = nullptr;
};

} // namespace

void register_linear_attention_ops(OpRegistry& r) {
    r.add("linear_attention", [](const OpBuildContext& ctx) -> std::unique_ptr<Op> {
        return std::make_unique<LinearAttentionOp>(la::read_config(ctx));
    });
}

} // namespace rill
