// harmonic_prior: the op against the recurrence it states (ops/harmonic_prior.cpp), bit for bit,
// whatever the block split; silence and a kept phase where f0 is not finite.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "op_checks.hpp"

namespace rill::test {
namespace {

constexpr double kRate = 16000.0;
constexpr float kPower = 0.1f;

// The stated recurrence, one sample at a time.
std::vector<float> expected_prior(const std::vector<float>& f0) {
    std::vector<float> y(f0.size(), 0.0f);
    const float half = static_cast<float>(kRate / 2);
    double r = 0.0;
    for (size_t t = 0; t < f0.size(); ++t) {
        const float f = f0[t];
        if (!std::isfinite(f))
            continue;
        r += static_cast<double>(f) / kRate;
        r -= std::floor(r);
        if (!(f > 0.0f))
            continue;
        int64_t count = 0;
        while (f * static_cast<float>(count + 1) <= half && count < 1000)
            ++count;
        const double c = std::cos(2 * M_PI * r), s = std::sin(2 * M_PI * r);
        double re = c, im = s, sum = 0.0;
        for (int64_t k = 1; k <= count; ++k) {
            sum += static_cast<float>(im);
            const double nre = re * c - im * s;
            im = re * s + im * c;
            re = nre;
        }
        y[t] = kPower * std::sqrt(2.0f / (half / f)) * static_cast<float>(sum);
    }
    return y;
}

TEST(HarmonicPriorOp, MatchesTheRecurrenceInAnyBlocks) {
    // f0 held for hops of 37 samples: voiced (60..1000 Hz, 133..8 harmonics), unvoiced, and a
    // NaN and an inf, which output silence and leave the phase as it was
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> hz(60.0f, 1000.0f);
    std::vector<float> f0;
    for (int hop = 0; hop < 40; ++hop) {
        const float f = hop % 7 == 3 ? 0.0f : hz(rng);
        f0.insert(f0.end(), 37, f);
    }
    f0[100] = NAN;
    f0[501] = INFINITY;
    const auto op = build_op(node("harmonic_prior", {{"sample_rate", kRate}}), {});
    const OpRun run = expect_chunk_invariant(*op, ports({1}), {f0}, f0.size());
    const auto want = expected_prior(f0);
    ASSERT_EQ(run.outputs[0].size(), want.size());
    for (size_t t = 0; t < want.size(); ++t)
        ASSERT_EQ(run.outputs[0][t], want[t]) << "t = " << t << ", f0 " << f0[t];
    EXPECT_EQ(run.outputs[0][100], 0.0f);
    EXPECT_TRUE(std::isfinite(run.outputs[0][102]));
}

} // namespace
} // namespace rill::test
