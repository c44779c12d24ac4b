// linear_attention: the recurrent-state attention variants (docs/linear_attention.md) over the
// frames of a signal. Inputs are planar signals whose channels are heads x dims (q: H*K, k: H*K,
// v: HV*V, gates per value head); the output is HV*V channels. Each variant is turned, frame by
// frame, into the one state rule of kernels/linear_attention.hpp:
//   S_t = diag(exp(g_t)) S_{t-1} + x_t (y_t^T S_{t-1}) + k_t v_t^T,   o_t = S_t^T q_t
//   linear        g = 0; normalised: v gets a column of ones (z) and o = o / (o_z + 1e-10);
//                 feature maps on q, k: elu+1, relu, hedgehog softmax([2x, -2x]) (K doubles)
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
#include "../kernels/mac.hpp"
#include "../kernels/transpose.hpp"
#include "../kernels/vmath.hpp"
#include "families.hpp"
#include "linear_attention_config.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

using la::Config;
using la::Variant;

float log_sigmoid(float x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }
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
        Kin_ = in[0].channels / H;
        K_ = c_.feature_map == la::FeatureMap::Hedgehog ? 2 * Kin_ : Kin_;
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
        expect(1, n * H * Kin_);
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
        if (c_.variant == Variant::Rwkv5) {
            rwkv5_decay_.resize(H * K_);
            for (size_t e = 0; e < H * K_; ++e)
                rwkv5_decay_[e] = -std::exp(c_.time_decay.data[e]);
        }
        preroll_.latency = in[0].latency;
        return {ops::port_like(in[0], static_cast<uint32_t>(HV * V_))};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        // The kernel sets (gemm, vmath, transpose) follow mac_kernels(), whose one-time choice
        // reads the environment: make it here, never on the audio thread's first process().
        (void)mac_kernels();
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
        div_ = arena.scratch<float>(segment_);
        bonus_ = arena.scratch<float>(segment_);
        work_ = arena.scratch<float>(std::max(la_chunk_scratch_floats(C, K_, Vx_), Vx_ + K_));
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
    // Frames [t0, t0 + len) of value head hv: gather the head's tokens (channel by channel,
    // reading contiguous frames), transform gates in bulk, run the kernel, write the outputs.
    void run_head(size_t hv, const ConstView* in, const View& out, size_t t0, size_t len,
                  bool chunked) noexcept {
        const size_t H = c_.heads, steps = c_.steps, K = K_;
        const size_t h = hv / (c_.value_heads / H);
        const size_t T = len * steps;
        const bool rank1 = c_.delta_rule() || c_.variant == Variant::Rwkv7;
        gather(in, hv, h, t0, len);
        for (size_t tok = 0; tok < T; ++tok) {
            float* q = q_ + tok * K;
            float* k = k_ + tok * K;
            feature_map(q);
            feature_map(k);
            if (c_.qk_l2) {
                l2_normalise(q, K);
                l2_normalise(k, K);
            }
            for (size_t i = 0; i < K; ++i)
                q[i] *= c_.scale;
        }
        decays(in, hv, t0, len);
        if (c_.delta_rule())
            delta_transitions(in, hv, t0, len);
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
        emit(hv, h, t0, len, out);
    }

    // dst[f * ld + c] = channel (first + c) of view at frame t0 + f, for c < count, f < len:
    // planar channels into token-major rows, eight channels at a time.
    static void gather_rows(const ConstView& view, size_t first, size_t count, size_t t0,
                            float* dst, size_t ld, size_t len) noexcept {
        const TransposeKernels& tk = transpose_kernels();
        for (size_t c0 = 0; c0 < count; c0 += 8) {
            const size_t n = std::min<size_t>(8, count - c0);
            const float* src[8];
            for (size_t c = 0; c < n; ++c)
                src[c] = view.channel(uint32_t(first + c0 + c)) + t0;
            tk.gather(src, n, len, dst + c0, ld);
        }
    }

    void gather(const ConstView* in, size_t hv, size_t h, size_t t0, size_t len) noexcept {
        const size_t H = c_.heads, HV = c_.value_heads, steps = c_.steps, K = K_, V = V_;
        const size_t last = steps - 1, rowk = steps * K, rowv = steps * Vx_;
        if (steps > 1) { // q only on the last sub-step; the decay only on the first
            std::fill_n(q_, len * steps * K, 0.0f);
            std::fill_n(g_, len * steps * Kg_, 0.0f);
        }
        const size_t Kin = Kin_; // input channels per head (K, or K / 2 before hedgehog)
        gather_rows(in[0], h * Kin, Kin, t0, q_ + last * K, rowk, len);
        for (size_t j = 0; j < steps; ++j) {
            gather_rows(in[1], (j * H + h) * Kin, Kin, t0, k_ + j * K, rowk, len);
            gather_rows(in[2], (j * HV + hv) * V, V, t0, v_ + j * Vx_, rowv, len);
            if (Vx_ > V)
                for (size_t f = 0; f < len; ++f)
                    v_[f * rowv + j * Vx_ + V] = 1.0f;
        }
        if (c_.variant == Variant::Rwkv7) { // g = w; y = kk and x = a for now
            gather_rows(in[3], h * K, K, t0, g_, K, len);
            gather_rows(in[4], h * K, K, t0, y_, K, len);
            gather_rows(in[5], h * K, K, t0, x_, K, len);
            for (size_t e = 0; e < len * K; ++e) {
                x_[e] *= y_[e]; // x = kk * a
                y_[e] = -y_[e]; // y = -kk
            }
        } else if (c_.has_decay_input()) { // raw gate of the first sub-step
            gather_rows(in[3], hv * Kg_, Kg_, t0, g_, steps * Kg_, len);
        }
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
        case la::FeatureMap::Hedgehog: { // x[0, Kin) -> softmax([2x, -2x]) over 2 Kin
            const size_t n = Kin_;
            float top = 0;
            for (size_t i = 0; i < n; ++i)
                top = std::max(top, std::fabs(2.0f * x[i]));
            float sum = 0;
            for (size_t i = 0; i < n; ++i) {
                x[n + i] = std::exp(-2.0f * x[i] - top);
                x[i] = std::exp(2.0f * x[i] - top);
                sum += x[i] + x[n + i];
            }
            const float inv = 1.0f / sum;
            for (size_t i = 0; i < 2 * n; ++i)
                x[i] *= inv;
            break;
        }
        case la::FeatureMap::Identity:
            break;
        }
    }

    // Log decays of the segment's tokens (g_, Kg_ per token); mlstm and mamba2 also scale the
    // written keys.
    void decays(const ConstView* in, size_t hv, size_t t0, size_t len) noexcept {
        const size_t K = K_, steps = c_.steps, T = len * steps;
        switch (c_.variant) {
        case Variant::Retention:
            std::fill_n(g_, T, std::log1p(-std::exp2(-5.0f - static_cast<float>(hv))));
            return;
        case Variant::Rwkv5:
            for (size_t t = 0; t < T; ++t)
                std::copy_n(rwkv5_decay_.data() + hv * K, K, g_ + t * K);
            return;
        case Variant::Mlstm:
            for (size_t f = 0; f < len; ++f) {
                const float lf = log_sigmoid(in[4].channel(uint32_t(hv))[t0 + f]);
                const float ig = in[3].channel(uint32_t(hv))[t0 + f];
                const float m_new = std::max(lf + m_[hv], ig);
                g_[f] = lf + m_[hv] - m_new;
                const float w = std::exp(ig - m_new) / std::sqrt(static_cast<float>(K));
                for (size_t i = 0; i < K; ++i)
                    k_[f * K + i] *= w;
                m_[hv] = m_new;
                m_token_[f] = m_new;
            }
            return;
        default:
            break;
        }
        if (!c_.has_decay_input() || c_.variant == Variant::Rwkv7)
            return;
        const VecMath& vm = vec_math();
        const size_t row = steps * Kg_;
        // The first sub-step's gates: contiguous when there is one step per frame.
        const size_t pieces = steps == 1 ? 1 : len, piece = steps == 1 ? len * Kg_ : Kg_;
        for (size_t p = 0; p < pieces; ++p) {
            float* g = g_ + p * row;
            switch (c_.decay) {
            case la::DecayTransform::Log:
                break;
            case la::DecayTransform::LogSigmoid:
                log_sigmoid_inplace(vm, g, piece);
                for (size_t e = 0; e < piece; ++e)
                    g[e] = std::max(g[e] / c_.gate_normalizer, c_.gate_clamp_min);
                break;
            case la::DecayTransform::Softplus: {
                const bool per_head_bias = c_.dt_bias.numel() == int64_t(c_.value_heads);
                for (size_t e = 0; e < piece; ++e)
                    g[e] += c_.dt_bias.data[per_head_bias ? hv : hv * Kg_ + e % Kg_];
                softplus_inplace(vm, g, piece); // dt
                if (c_.variant == Variant::Mamba2)
                    for (size_t t = 0; t < piece; ++t)
                        for (size_t i = 0; i < K; ++i)
                            k_[(p + t) * K + i] *= g[t];
                const float a = -std::exp(c_.a_log.data[hv]);
                for (size_t e = 0; e < piece; ++e)
                    g[e] *= a;
                break;
            }
            }
        }
    }

    // Delta rules: x = -beta k, y = exp(g) k, written key beta k.
    void delta_transitions(const ConstView* in, size_t hv, size_t t0, size_t len) noexcept {
        const size_t K = K_, steps = c_.steps;
        const size_t beta_input = c_.has_decay_input() ? 4 : 3;
        const bool decays = has_decay();
        const VecMath& vm = vec_math();
        for (size_t f = 0; f < len; ++f)
            for (size_t j = 0; j < steps; ++j) {
                const size_t tok = f * steps + j;
                float beta = in[beta_input].channel(uint32_t(j * c_.value_heads + hv))[t0 + f];
                if (c_.beta == la::BetaTransform::Sigmoid)
                    beta = sigmoid(beta);
                if (c_.allow_neg_eigval)
                    beta *= 2.0f;
                float* k = k_ + tok * K;
                float* x = x_ + tok * K;
                float* y = y_ + tok * K;
                if (!decays)
                    std::fill_n(y, K, 1.0f);
                else if (Kg_ == K)
                    vm.exp(y, g_ + tok * K, K);
                else
                    std::fill_n(y, K, std::exp(g_[tok]));
                for (size_t i = 0; i < K; ++i) {
                    y[i] *= k[i];
                    x[i] = -beta * k[i];
                    k[i] *= beta;
                }
            }
    }

    // Outputs of the segment's frames (their last tokens) with the variant's read-out terms.
    void emit(size_t hv, size_t h, size_t t0, size_t len, const View& out) noexcept {
        const size_t K = K_, V = V_, steps = c_.steps, rowv = steps * Vx_;
        const size_t last = (steps - 1) * Vx_;
        float* div = div_;
        float* bonus = bonus_;
        for (size_t f = 0; f < len; ++f) {
            const size_t tok = f * steps + steps - 1;
            const float* o = o_ + tok * Vx_;
            div[f] = 1.0f;
            bonus[f] = 0.0f;
            if (c_.normalize)
                div[f] = o[V] + 1e-10f;
            if (c_.variant == Variant::Mlstm)
                div[f] = std::max(std::fabs(o[V]), std::exp(-m_token_[f])) + 1e-6f;
            if (c_.variant == Variant::Rwkv5 || (c_.variant == Variant::Rwkv7 && c_.r_k.data)) {
                const float* w = c_.variant == Variant::Rwkv5 ? c_.time_first.data : c_.r_k.data;
                for (size_t i = 0; i < K; ++i)
                    bonus[f] += q_[tok * K + i] * k_[tok * K + i] * w[h * K + i];
            }
            if (c_.variant == Variant::Mamba2 && c_.d_skip.data)
                bonus[f] = c_.d_skip.data[hv];
            div[f] = 1.0f / div[f];
        }
        // In place in o_: o = o / div + bonus v, then the token rows back into planar channels.
        for (size_t f = 0; f < len; ++f) {
            float* o = o_ + f * rowv + last;
            const float* v = v_ + f * rowv + last;
            for (size_t i = 0; i < V; ++i)
                o[i] = o[i] * div[f] + bonus[f] * v[i];
        }
        const TransposeKernels& tk = transpose_kernels();
        for (size_t i0 = 0; i0 < V; i0 += 8) {
            const size_t n = std::min<size_t>(8, V - i0);
            float* y[8];
            for (size_t c = 0; c < n; ++c)
                y[c] = out.channel(uint32_t(hv * V + i0 + c)) + t0;
            tk.scatter(o_ + last + i0, rowv, n, len, y);
        }
    }

    Config c_;
    size_t K_ = 0, Kin_ = 0, V_ = 0, Vx_ = 0, Kg_ = 1; // K_: the kernel's key size
    size_t segment_ = 1;
    PreRoll preroll_;
    float* state_ = nullptr;  // [HV, K, Vx] (state)
    float* m_ = nullptr;      // mlstm stabiliser per value head (state)
    float *q_ = nullptr, *k_ = nullptr, *x_ = nullptr, *y_ = nullptr, *g_ = nullptr; // scratch
    float *v_ = nullptr, *o_ = nullptr, *m_token_ = nullptr, *work_ = nullptr;
    float *div_ = nullptr, *bonus_ = nullptr;          // per frame of a segment (scratch)
    std::vector<float> rwkv5_decay_;                   // -exp(time_decay), made at plan
};

} // namespace

void register_linear_attention_ops(OpRegistry& r) {
    r.add("linear_attention", [](const OpBuildContext& ctx) -> std::unique_ptr<Op> {
        return std::make_unique<LinearAttentionOp>(la::read_config(ctx));
    });
}

} // namespace rill
