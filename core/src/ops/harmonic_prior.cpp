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
// exp(2 pi i r) in double, for 8 samples at once where the processor has AVX2 (the same
// operations per sample). The pre-roll (negative time) neither advances r nor outputs; a
// non-finite f0 outputs 0 and leaves r as it was (a NaN would otherwise stay in it).
#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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
        for (size_t t0 = skip; t0 < n; t0 += kLanes) {
            // the running phase and each sample's rotation, harmonic count and amplitude
            Lanes l;
            const size_t m = std::min(kLanes, n - t0);
            for (size_t i = 0; i < m; ++i) {
                const float f = f0[t0 + i];
                if (!std::isfinite(f))
                    continue; // silent, and the phase is kept (a NaN would stay in it)
                r += static_cast<double>(f) / sample_rate_;
                r -= std::floor(r);
                if (!(f > 0.0f))
                    continue;
                l.count[i] = harmonics(f, half);
                l.amp[i] = power_factor_ * std::sqrt(2.0f / (half / f));
                l.cos[i] = std::cos(kTwoPi * r);
                l.sin[i] = std::sin(kTwoPi * r);
            }
            sum_harmonics(l);
            for (size_t i = 0; i < m; ++i)
                y[t0 + i] = l.count[i] ? l.amp[i] * static_cast<float>(l.sum[i]) : 0.0f;
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

    // Up to kLanes samples at once: sum[i] = sum_{k=1..count[i]} float(sin(2 pi k r_i)), the
    // sines from powers of (cos[i], sin[i]) in double (a multiply, then an add or subtract: the
    // same operations whether a lane runs alone or beside others, so the same bits).
    static constexpr size_t kLanes = 8;
    struct Lanes {
        double cos[kLanes] = {}, sin[kLanes] = {}, sum[kLanes] = {};
        int64_t count[kLanes] = {};
        float amp[kLanes] = {};
    };
    static void sum_harmonics(Lanes& l) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx2"))
            return sum_harmonics_avx2(l);
#endif
        for (size_t i = 0; i < kLanes; ++i) {
            const double c = l.cos[i], s = l.sin[i];
            double re = c, im = s, sum = 0.0;
            for (int64_t k = 1; k <= l.count[i]; ++k) {
                sum += static_cast<float>(im);
                const double nre = re * c - im * s;
                im = re * s + im * c;
                re = nre;
            }
            l.sum[i] = sum;
        }
    }
#if defined(__x86_64__) && defined(__GNUC__)
    // Two vectors of 4 lanes side by side (their dependency chains overlap); a lane past its
    // count adds +0 (its sum is never -0: it starts at +0, and a sum of zero rounds to +0).
    __attribute__((target("avx2"))) static void sum_harmonics_avx2(Lanes& l) noexcept {
        const int64_t most = *std::max_element(l.count, l.count + kLanes);
        __m256d c[2], s[2], re[2], im[2], sum[2], count[2];
        for (size_t v = 0; v < 2; ++v) {
            c[v] = re[v] = _mm256_loadu_pd(l.cos + 4 * v);
            s[v] = im[v] = _mm256_loadu_pd(l.sin + 4 * v);
            sum[v] = _mm256_setzero_pd();
            count[v] = _mm256_setr_pd(double(l.count[4 * v]), double(l.count[4 * v + 1]),
                                      double(l.count[4 * v + 2]), double(l.count[4 * v + 3]));
        }
        for (int64_t k = 1; k <= most; ++k) {
            const __m256d kk = _mm256_set1_pd(double(k));
            for (size_t v = 0; v < 2; ++v) {
                const __m256d rounded = _mm256_cvtps_pd(_mm256_cvtpd_ps(im[v]));
                const __m256d live = _mm256_cmp_pd(kk, count[v], _CMP_LE_OQ);
                sum[v] = _mm256_add_pd(sum[v], _mm256_and_pd(rounded, live));
                const __m256d nre = _mm256_sub_pd(_mm256_mul_pd(re[v], c[v]),
                                                  _mm256_mul_pd(im[v], s[v]));
                im[v] = _mm256_add_pd(_mm256_mul_pd(re[v], s[v]), _mm256_mul_pd(im[v], c[v]));
                re[v] = nre;
            }
        }
        for (size_t v = 0; v < 2; ++v)
            _mm256_storeu_pd(l.sum + 4 * v, sum[v]);
    }
#endif

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
