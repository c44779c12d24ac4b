// The AVX2 multiply-accumulate kernels against the scalar reference (ggml test-backend-ops
// style): random shapes, strides and dilations; normalised mean squared error below 1e-12 (with
// contraction off they agree to the bit, but the test does not rely on it).
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "../../core/src/kernels/mac.hpp"

namespace rill {
namespace {

double nmse(const std::vector<float>& a, const std::vector<float>& b) {
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += double(b[i]) * b[i];
    }
    return num / den;
}

TEST(MacKernels, Avx2MatchesScalar) {
    const MacKernels& ref = mac_kernels(Isa::Scalar);
    const MacKernels& fast = mac_kernels(Isa::Avx2);
    if (fast.isa != Isa::Avx2)
        GTEST_SKIP() << "this CPU has no AVX2";
    std::mt19937 rng(3);
    std::normal_distribution<float> noise;
    for (int trial = 0; trial < 200; ++trial) {
        const size_t k = 1 + rng() % 7, d = 1 + rng() % 9, s = 1 + rng() % 3, n = rng() % 300;
        const size_t cin = 1 + rng() % 5, xs = (n + 1) * s + k * d + 8;
        std::vector<float> x(cin * xs), w(cin * k), y0(n + 8), y1;
        for (auto& v : x)
            v = noise(rng);
        for (auto& v : w)
            v = noise(rng);
        for (auto& v : y0)
            v = noise(rng);
        y1 = y0;
        ref.taps(y0.data(), x.data(), xs, w.data(), cin, k, d, s, n);
        fast.taps(y1.data(), x.data(), xs, w.data(), cin, k, d, s, n);
        EXPECT_LT(nmse(y1, y0), 1e-12) << "taps k=" << k << " d=" << d << " s=" << s << " n=" << n;
        std::vector<float> z0(n * s + 8), z1;
        for (auto& v : z0)
            v = noise(rng);
        z1 = z0;
        ref.axpy(z0.data(), s, x.data(), w[0], n);
        fast.axpy(z1.data(), s, x.data(), w[0], n);
        EXPECT_LT(nmse(z1, z0), 1e-12) << "axpy s=" << s << " n=" << n;
        const size_t len = std::min(x.size() - 1, static_cast<size_t>(rng() % 100));
        EXPECT_EQ(ref.dot(x.data(), x.data() + 1, len), fast.dot(x.data(), x.data() + 1, len));
        double exact = 0;
        for (size_t i = 0; i < len; ++i)
            exact += double(x[i]) * x[i + 1];
        EXPECT_NEAR(ref.dot(x.data(), x.data() + 1, len), exact, 1e-4 * (1 + std::abs(exact)));
    }
}

TEST(MacKernels, ForcedScalarIsHonoured) {
    // mac_kernels() reads RILL_FORCE_ISA once; the ctest `golden_scalar` runs with it set.
    const MacKernels& chosen = mac_kernels();
    const char* force = std::getenv("RILL_FORCE_ISA");
    if (force && std::string(force) == "scalar")
        EXPECT_EQ(chosen.isa, Isa::Scalar);
    else
        EXPECT_EQ(chosen.isa, mac_kernels(Isa::Avx2).isa);
}

} // namespace
} // namespace rill
