// harmonic_prior: Wavehax's pseudo-constant-power harmonic prior (Yoneyama et al. 2024,
// "Wavehax: aliasing-free neural waveform synthesis based on 2D convolution and harmonic prior",
// `generate_pcph`), deterministic form (no noise, no random initial phase), from an f0 signal in
// Hz at the audio rate (the frame f0 held for hop samples, as Wavehax repeats it):
//   r[n]   = sum_{i <= n} f0[i] / sr                          (double; running phase, in cycles)
//   y[n]   = a(f0[n]) * sum_{k >= 1, fl(k f0[n]) <= sr/2} fl(sin(2 pi k r[n]))
//   a(f0)  = f0 > 0 ? power_factor * sqrt(2 / ((sr/2) / f0)) : 0   (float, as upstream)
// Upstream sums harmonics 1 .. int((sr/2) / min voiced f0 of the utterance) and masks those above
// Nyquist per sample; the mask alone decides, so a per-sample count gives the same values
// (capped at max_harmonics, 1000 by default: f0 >= sr / 2000 is exact). r is kept modulo 1
// (integer cycles do not change any sin(2 pi k r)); the harmonics come from powers of
// exp(2 pi i r) in double. The pre-roll (negative time) neither advances r nor outputs.
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "families.hpp"

namespace rill {
namespace {

constexpr double kTwoPi = 6.28318530717958647692;

class HarmonicPrior final : public Op {
public:
    explicit HarmonicPrior(const OpBuildContext& ctx) {
        ctx.expect_inputs(1, 1);
        sample_rate_ = ctx.attr_float("sample_rate", 0.0);
        if (!(sample_rate_ > 0.0 && sample_rate_ <= 1e7))
            ctx.fail("attribute 'sample_rate' (Hz of the f0 signal) is required, in (0, 1e7]");
        power_factor_ = static_cast<float>(ctx.attr_float("power_factor", 0.1));
        max_harmonics_ = ctx.attr_int("max_harmonics", 1000);
        if (max_harmonics_ < 1 || max_harmonics_ > 100000)
            ctx.fail("max_harmonics must be in 1..100000");
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<HarmonicPrior>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        if (in[0].channels != 1)
            fail_format("harmonic_prior takes one f0 channel, got " +
                        std::to_string(in[0].channels));
        preroll_.latency = in[0].latency;
        return {in[0]};
    }

    void prepare(Arena& arena, const PrepareInfo&) override {
        phase_ = arena.state<double>(1);
        preroll_.seen = arena.state<int64_t>(1);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        const float* f0 = in[0].channel(0);
        float* y = out[0].channel(0);
        const float half = static_cast<float>(sample_rate_ / 2.0);
        double r = *phase_;
        for (size_t t = 0; t < skip; ++t)
            y[t] = 0.0f;
        for (size_t t = skip; t < n; ++t) {
            const float f = f0[t];
            r += static_cast<double>(f) / sample_rate_;
            r -= std::floor(r);
            if (!(f > 0.0f) || !std::isfinite(f)) {
                y[t] = 0.0f;
                continue;
            }
            const int64_t count = harmonics(f, half);
            const double c = std::cos(kTwoPi * r), s = std::sin(kTwoPi * r);
            double re = c, im = s, sum = 0.0;
            for (int64_t k = 1; k <= count; ++k) {
                sum += static_cast<float>(im);
                const double nre = re * c - im * s;
                im = re * s + im * c;
                re = nre;
            }
            const float amp = power_factor_ * std::sqrt(2.0f / (half / f));
            y[t] = amp * static_cast<float>(sum);
        }
        *phase_ = r;
    }

private:
    // Number of k >= 1 with float(k * f) <= half (upstream compares in float32).
    int64_t harmonics(float f, float half) const noexcept {
        int64_t k = static_cast<int64_t>(
            std::min<double>(static_cast<double>(half) / f, static_cast<double>(max_harmonics_)));
        while (k < max_harmonics_ && f * static_cast<float>(k + 1) <= half)
            ++k;
        while (k > 0 && f * static_cast<float>(k) > half)
            --k;
        return k;
    }

    double sample_rate_ = 0.0;
    float power_factor_ = 0.1f;
    int64_t max_harmonics_ = 1000;
    double* phase_ = nullptr; // state: r modulo 1
    PreRoll preroll_;
};

} // namespace

void register_harmonic_prior_ops(OpRegistry& r) {
    r.add("harmonic_prior",
          [](const OpBuildContext& ctx) { return std::make_unique<HarmonicPrior>(ctx); });
}

} // namespace rill
