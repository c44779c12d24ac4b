// overlap_add: windows of S signals (a model's outputs per `frame` window) back to S audio
// channels at `hop` times the input rate, crossfaded where windows overlap (offline windows mode).
//
// Input frame f holds X_f[s, j] = channel s*W + j, s < S, j < W (W = `size`). Offline:
//   z_s[t] = sum_f a[t - f*hop] X_f[pi_f(s), t - f*hop],   e[t] = sum_f a[t - f*hop]
//   (sums over the frames f >= 0 whose window holds t: f*hop <= t < f*hop + W),
//   y_s[u] = z_s[u + p] / e[u + p],   p = `pad` (default W - hop: frame's default left_pad, so
//   `frame` -> per-window model -> `overlap_add` puts output u at input time u).
// Crossfade a (every value > 0, so e > 0 wherever a window lies; `window`):
//   "tukey" (default): fades of L = min(W - hop, floor(W/2)) samples, a[j] = sin^2(pi (j + 1/2) / (2L))
//     for j < L, a[W-1-j] = a[j], 1 between. For hop >= W/2 the overlapping fades sum to 1, so
//     e[t] = 1 for t >= W - hop (a plain crossfade); for hop < W/2 the division by e normalises.
//   "hann": a[j] = sin^2(pi (j + 1/2) / W) (e = 1 at hop = W/2, W even).   "rect": a[j] = 1 (mean).
// Source alignment (`align` "permutation", S <= 6; for separators whose source order may change
// between windows): pi_f maximises sum_s sum_{j < W - hop} z_s[f*hop + j] X_f[pi_f(s), j], the
// correlation of frame f with what the earlier frames left in its overlap; identity on ties
// (frame 0). Otherwise pi_f = identity.
// Stream: frame f adds at f*hop + j; after a block of n frames the first n*hop outputs are final,
// W - hop carry over (overlap_add.hpp). Stream output u = z[u - cd*hop] / e[...], so the latency
// is p + cd*hop; pre-roll frames add nothing (offline only has frames from f = 0).
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "families.hpp"
#include "overlap_add.hpp"

namespace rill {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kMaxAlignedSources = 6;

std::vector<float> crossfade(const std::string& kind, int64_t size, int64_t hop) {
    std::vector<float> a(static_cast<size_t>(size), 1.0f);
    const auto sin2 = [](double v) { return static_cast<float>(std::sin(v) * std::sin(v)); };
    if (kind == "hann") {
        for (int64_t j = 0; j < size; ++j)
            a[j] = sin2(kPi * (double(j) + 0.5) / double(size));
    } else if (kind == "tukey") {
        const int64_t fade = std::min(size - hop, size / 2);
        for (int64_t j = 0; j < fade; ++j)
            a[j] = a[size - 1 - j] = sin2(kPi * (double(j) + 0.5) / double(2 * fade));
    }
    return a;
}

class OverlapAddOp final : public Op {
public:
    explicit OverlapAddOp(const OpBuildContext& ctx) : where_(ctx.where()) {
        ctx.expect_inputs(1, 1);
        size_ = ctx.attr_int_required("size");
        hop_ = ctx.attr_int_required("hop");
        if (size_ < 1 || size_ > (1 << 20) || hop_ < 1 || hop_ > size_)
            ctx.fail("needs 1 <= size <= 2^20 and 1 <= hop <= size");
        pad_ = ctx.attr_int("pad", size_ - hop_);
        if (pad_ < 0 || pad_ > size_ - 1)
            ctx.fail("pad must be in 0..size-1");
        const std::string window = ctx.attr_string("window", "tukey");
        if (window != "tukey" && window != "hann" && window != "rect")
            ctx.fail("window must be tukey, hann or rect, got \"" + window + "\"");
        window_ = crossfade(window, size_, hop_);
        const std::string align = ctx.attr_string("align", "none");
        if (align != "none" && align != "permutation")
            ctx.fail("align must be none or permutation, got \"" + align + "\"");
        align_ = align == "permutation";
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<OverlapAddOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        if (in[0].channels % size_ != 0)
            fail_format(where_ + ": input has " + std::to_string(in[0].channels) +
                        " channels, expected a multiple of size = " + std::to_string(size_));
        sources_ = static_cast<uint32_t>(in[0].channels / size_);
        if (align_ && sources_ > kMaxAlignedSources)
            fail_format(where_ + ": align permutation supports at most " +
                        std::to_string(kMaxAlignedSources) + " sources, got " + std::to_string(sources_));
        input_latency_ = in[0].latency;
        return {PortInfo{sources_, in[0].rate.times(hop_), pad_ + input_latency_ * hop_}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        const size_t tail = static_cast<size_t>(size_ - hop_);
        signal_.take(arena, sources_, tail, info.max_output_frames);
        envelope_.take(arena, 1, tail, info.max_output_frames);
        preroll_.latency = input_latency_;
        preroll_.seen = arena.state<int64_t>(1);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t n_out,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        const size_t w = static_cast<size_t>(size_), hop = static_cast<size_t>(hop_);
        signal_.begin(n_out);
        envelope_.begin(n_out);
        float* env = envelope_.channel(0);
        std::array<uint32_t, kMaxAlignedSources> perm{};
        for (size_t t = skip; t < n; ++t) {
            for (size_t j = 0; j < w; ++j)
                env[t * hop + j] += window_[j];
            if (align_)
                choose_permutation(in[0], t, perm);
            for (uint32_t s = 0; s < sources_; ++s) {
                const uint32_t from = align_ ? perm[s] : s;
                float* acc = signal_.channel(s) + t * hop;
                for (size_t j = 0; j < w; ++j)
                    acc[j] += window_[j] * in[0].channel(static_cast<uint32_t>(from * w + j))[t];
            }
        }
        for (uint32_t s = 0; s < sources_; ++s) {
            const float* acc = signal_.channel(s);
            float* y = out[0].channel(s);
            for (size_t u = 0; u < n_out; ++u)
                y[u] = env[u] > 0.0f ? acc[u] / env[u] : 0.0f; // e = 0 only before frame 0
        }
        signal_.end();
        envelope_.end();
    }

private:
    // perm[s] = the frame's source added to output s (see the top of the file).
    void choose_permutation(const ConstView& x, size_t t, std::array<uint32_t, kMaxAlignedSources>& perm) noexcept {
        const size_t overlap = static_cast<size_t>(size_ - hop_), w = static_cast<size_t>(size_);
        const size_t at = t * static_cast<size_t>(hop_);
        std::array<double, kMaxAlignedSources * kMaxAlignedSources> corr{};
        for (uint32_t s = 0; s < sources_; ++s) {
            const float* acc = signal_.channel(s) + at;
            for (uint32_t k = 0; k < sources_; ++k) {
                double c = 0;
                for (size_t j = 0; j < overlap; ++j)
                    c += double(acc[j]) * x.channel(static_cast<uint32_t>(k * w + j))[t];
                corr[s * kMaxAlignedSources + k] = c;
            }
        }
        std::array<uint32_t, kMaxAlignedSources> p{};
        std::iota(p.begin(), p.begin() + sources_, 0u);
        double best = -1.0;
        bool first = true;
        do {
            double score = 0;
            for (uint32_t s = 0; s < sources_; ++s)
                score += corr[s * kMaxAlignedSources + p[s]];
            if (first || score > best) {
                best = score;
                perm = p;
                first = false;
            }
        } while (std::next_permutation(p.begin(), p.begin() + sources_));
    }

    std::string where_;
    int64_t size_ = 0, hop_ = 0, pad_ = 0, input_latency_ = 0;
    bool align_ = false;
    std::vector<float> window_;
    uint32_t sources_ = 0;
    OverlapAdd signal_, envelope_;
    PreRoll preroll_;
};

} // namespace

void register_overlap_add_ops(OpRegistry& r) {
    r.add("overlap_add", [](const OpBuildContext& ctx) { return std::make_unique<OverlapAddOp>(ctx); });
}

} // namespace rill
