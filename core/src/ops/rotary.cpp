// rotary: rotary position embedding (RoPE, Su et al. 2021, RoFormer) of the frames of a signal,
// as fla's RotaryEmbedding applies it to q and k (MultiScaleRetention):
//   input C = heads * D channels, head h holding channels [h D, (h + 1) D); R = rotary_dim (D)
//   theta_i = inv_freq[i] = 1 / base^(2i / R)  (float32, i < R/2; or weight `inv_freq` [R/2])
//   angle = float(p) * theta_i (float32 product), p = frames since the stream start (0-based)
//   pairs (a, b) = (i, i + R/2) (GPT-NeoX style, default) or (2i, 2i + 1) (attr interleaved 1):
//   y_a = x_a cos(angle) - x_b sin(angle),  y_b = x_b cos(angle) + x_a sin(angle)
//   channels R..D-1 of each head pass through.
// The position is stream state (reset to 0); as in fla, positions past 2^24 are rounded to float32
// before the product. Pre-roll (preroll.hpp): frames before the input latency are negative time,
// output 0 and do not advance the position.
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

class RotaryOp final : public Op {
public:
    RotaryOp(uint32_t heads, uint32_t rotary_dim, bool interleaved, float base,
             std::vector<float> inv_freq)
        : heads_(heads), rotary_dim_(rotary_dim), interleaved_(interleaved), base_(base),
          inv_freq_(std::move(inv_freq)) {}
    std::unique_ptr<Op> clone() const override { return std::make_unique<RotaryOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        const uint32_t C = in[0].channels;
        if (C % heads_ != 0)
            fail_format("input has " + std::to_string(C) + " channels, not a multiple of heads " +
                        std::to_string(heads_));
        head_dim_ = C / heads_;
        if (rotary_dim_ == 0)
            rotary_dim_ = head_dim_;
        if (rotary_dim_ > head_dim_ || rotary_dim_ % 2 != 0)
            fail_format("rotary_dim " + std::to_string(rotary_dim_) +
                        " must be even and at most the head size " + std::to_string(head_dim_));
        if (inv_freq_.empty()) // as torch computes it: 1 / base ** (arange(0, R, 2) / R), float32
            for (uint32_t i = 0; i < rotary_dim_ / 2; ++i)
                inv_freq_.push_back(1.0f / std::pow(base_, float(2 * i) / float(rotary_dim_)));
        if (inv_freq_.size() != rotary_dim_ / 2)
            fail_format("weight 'inv_freq' has " + std::to_string(inv_freq_.size()) +
                        " values, expected rotary_dim / 2 = " + std::to_string(rotary_dim_ / 2));
        preroll_.latency = in[0].latency;
        return {in[0]};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        preroll_.seen = arena.state<int64_t>(1);
        position_ = arena.state<int64_t>(1);
        const size_t frames = std::max<size_t>(1, info.max_input_frames);
        cos_ = arena.scratch<float>(size_t(rotary_dim_ / 2) * frames);
        sin_ = arena.scratch<float>(size_t(rotary_dim_ / 2) * frames);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        const size_t m = n - skip; // frames with a position
        const uint32_t half = rotary_dim_ / 2;
        for (uint32_t i = 0; i < half; ++i)
            for (size_t t = 0; t < m; ++t) {
                const float angle = float(*position_ + int64_t(t)) * inv_freq_[i];
                cos_[i * m + t] = float(std::cos(double(angle)));
                sin_[i * m + t] = float(std::sin(double(angle)));
            }
        *position_ += int64_t(m);
        for (uint32_t h = 0; h < heads_; ++h) {
            const uint32_t base = h * head_dim_;
            for (uint32_t c = base; c < base + head_dim_; ++c)
                std::fill_n(out[0].channel(c), skip, 0.0f);
            for (uint32_t i = 0; i < half; ++i) {
                const uint32_t a = base + (interleaved_ ? 2 * i : i);
                const uint32_t b = base + (interleaved_ ? 2 * i + 1 : i + half);
                const float* xa = in[0].channel(a) + skip;
                const float* xb = in[0].channel(b) + skip;
                float* ya = out[0].channel(a) + skip;
                float* yb = out[0].channel(b) + skip;
                const float* cs = cos_ + size_t(i) * m;
                const float* sn = sin_ + size_t(i) * m;
                for (size_t t = 0; t < m; ++t) {
                    const float u = xa[t], v = xb[t];
                    ya[t] = u * cs[t] - v * sn[t];
                    yb[t] = v * cs[t] + u * sn[t];
                }
            }
            for (uint32_t c = base + rotary_dim_; c < base + head_dim_; ++c)
                std::copy_n(in[0].channel(c) + skip, m, out[0].channel(c) + skip);
        }
    }

private:
    uint32_t heads_, rotary_dim_, head_dim_ = 0;
    bool interleaved_;
    float base_;
    std::vector<float> inv_freq_; // [R/2], from `base` at plan when not given
    PreRoll preroll_;
    int64_t* position_ = nullptr; // frames since the start (state)
    float* cos_ = nullptr;        // [R/2][frames] (scratch)
    float* sin_ = nullptr;
};

std::unique_ptr<Op> make_rotary(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const int64_t heads = ctx.attr_int_required("heads");
    const int64_t rotary_dim = ctx.attr_int("rotary_dim", 0);
    const double base = ctx.attr_float("base", 10000.0);
    if (heads < 1 || heads > 65536 || rotary_dim < 0 || rotary_dim > 65536 || !(base > 0) ||
        !std::isfinite(base))
        ctx.fail(
            "attributes 'heads' (>= 1), 'rotary_dim' (>= 0) and 'base' (> 0) are out of range");
    std::vector<float> inv_freq;
    if (const Tensor* w = ctx.optional_weight("inv_freq", {-1}))
        inv_freq.assign(w->data, w->data + w->numel());
    return std::make_unique<RotaryOp>(uint32_t(heads), uint32_t(rotary_dim),
                                      ctx.attr_int("interleaved", 0) != 0, float(base),
                                      std::move(inv_freq));
}

} // namespace

void register_rotary_ops(OpRegistry& r) {
    r.add("rotary", make_rotary);
}

} // namespace rill
