// The AVX2 exp/log (kernels/vmath) against std::exp/std::log over their whole range and at the
// special values, and the matrix product kernels (kernels/gemm) of both sets against a double
// precision product on random shapes, strides and the accumulate flag; the 8-channel
// gather/scatter transposes of both sets.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "../../core/src/kernels/gemm.hpp"
#include "../../core/src/kernels/transpose.hpp"
#include "../../core/src/kernels/vmath.hpp"

namespace rill {
namespace {

TEST(VecMath, ExpAndLogMatchTheLibraryToAFewUlp) {
    const VecMath& vm = vec_math(Isa::Avx2);
    if (vm.isa != Isa::Avx2)
        GTEST_SKIP() << "this CPU has no AVX2/FMA";
    std::vector<float> x;
    for (float v = -100.0f; v <= 100.0f; v += 0.0137f)
        x.push_back(v);
    std::vector<float> y(x.size());
    vm.exp(y.data(), x.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double want = std::exp(double(x[i]));
        if (want < 1.2e-38) { // flushed towards 0 below the normal range
            EXPECT_LE(y[i], 1.2e-38f) << x[i];
            continue;
        }
        if (want > 3.4e38) {
            EXPECT_GE(y[i], 3.3e38f) << x[i];
            continue;
        }
        EXPECT_LE(std::fabs(y[i] - want) / want, 4e-7) << "exp(" << x[i] << ")";
    }
    std::vector<float> pos;
    for (float v = 1e-30f; v < 1e30f; v *= 1.37f)
        pos.push_back(v);
    y.resize(pos.size());
    vm.log(y.data(), pos.data(), pos.size());
    for (size_t i = 0; i < pos.size(); ++i)
        EXPECT_LE(std::fabs(y[i] - std::log(double(pos[i]))), 4e-7 * std::max(1.0, std::fabs(std::log(double(pos[i]))))) << pos[i];
    const float special[8] = {0.0f, -1.0f, std::numeric_limits<float>::infinity(), NAN,
                              1e-40f, 1.0f, 2.0f, 0.5f};
    float out[8];
    vm.log(out, special, 8);
    EXPECT_EQ(out[0], -std::numeric_limits<float>::infinity());
    EXPECT_TRUE(std::isnan(out[1]));
    EXPECT_EQ(out[2], std::numeric_limits<float>::infinity());
    EXPECT_TRUE(std::isnan(out[3]));
    EXPECT_NEAR(out[4], std::log(1e-40), 1e-4);
    EXPECT_EQ(out[5], 0.0f);
    const float big[8] = {NAN, 1000.0f, -1000.0f, 88.7f, -87.0f, 0.0f, 1.0f, -1.0f};
    vm.exp(out, big, 8);
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_EQ(out[1], std::numeric_limits<float>::infinity());
    EXPECT_EQ(out[2], 0.0f);
    EXPECT_EQ(out[5], 1.0f);
}

TEST(VecMath, ErfMatchesTheLibraryWithinTheFittedError) {
    // Every 2^-12 over [-8, 8] and the specials; the fit's figures (vmath.cpp) with headroom.
    std::vector<float> x;
    for (int i = -8 * 4096; i <= 8 * 4096; ++i)
        x.push_back(static_cast<float>(i) / 4096.0f);
    const float inf = std::numeric_limits<float>::infinity();
    for (float v : {-0.0f, 1e-30f, -1e-38f, 3.9f, 10.0f, 1e30f, inf, -inf})
        x.push_back(v);
    x.push_back(std::numeric_limits<float>::quiet_NaN());
    for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
        const VecMath& vm = vec_math(isa);
        std::vector<float> y(x.size());
        vm.erf(y.data(), x.data(), x.size());
        double worst_abs = 0, worst_rel = 0;
        for (size_t i = 0; i + 1 < x.size(); ++i) {
            const double ref = std::erf(static_cast<double>(x[i]));
            worst_abs = std::max(worst_abs, std::abs(y[i] - ref));
            if (std::abs(x[i]) < 0.75f && x[i] != 0.0f)
                worst_rel = std::max(worst_rel, std::abs(y[i] - ref) / std::abs(ref));
            EXPECT_EQ(std::signbit(y[i]), std::signbit(x[i])) << x[i];
        }
        EXPECT_LE(worst_abs, 2.5e-7) << "isa " << int(isa);
        EXPECT_LE(worst_rel, 3e-7) << "isa " << int(isa);
        EXPECT_TRUE(std::isnan(y.back()));
        std::vector<float> g(x.size());
        gelu(vm, x.data(), g.data(), x.size() - 1);
        for (size_t i = 0; i + 1 < x.size(); ++i) {
            const double v = x[i];
            if (!std::isfinite(v))
                continue;
            const double ref = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
            EXPECT_NEAR(g[i], ref, 3e-7 * std::max(1.0, std::abs(v))) << v;
        }
    }
}

TEST(VecMath, GateTransformsAreStableAtTheExtremes) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
        const VecMath& vm = vec_math(isa);
        std::vector<float> x{-200.0f, -30.0f, -1.0f, 0.0f, 1.0f, 30.0f, 200.0f, 1e-3f, -20.0f};
        std::vector<float> ls = x, sp = x;
        log_sigmoid_inplace(vm, ls.data(), ls.size());
        softplus_inplace(vm, sp.data(), sp.size());
        for (size_t i = 0; i < x.size(); ++i) {
            const double xd = x[i];
            const double want_sp = xd > 0 ? xd + std::log1p(std::exp(-xd)) : std::log1p(std::exp(xd));
            EXPECT_NEAR(sp[i], want_sp, 1e-6 * std::max(1.0, std::fabs(want_sp))) << x[i];
            EXPECT_LE(std::fabs(sp[i] - want_sp), 2e-6 * want_sp + 1e-30) << "relative, " << x[i];
            EXPECT_NEAR(ls[i], -(want_sp - xd), 1e-6 * std::max(1.0, std::fabs(xd))) << x[i];
        }
    }
}

TEST(Gemm, BothSetsMatchADoubleProduct) {
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> dim(1, 70);
    std::normal_distribution<float> nd;
    for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
        const GemmKernels& gk = gemm_kernels(isa);
        for (int trial = 0; trial < 100; ++trial) {
            const size_t M = dim(rng), N = dim(rng), P = dim(rng);
            const size_t lda = P + trial % 3, ldb = N + trial % 5, ldc = N + trial % 2;
            std::vector<float> a(M * lda), b(P * ldb), c(M * ldc);
            for (auto& v : a) v = nd(rng);
            for (auto& v : b) v = nd(rng);
            for (auto& v : c) v = nd(rng);
            const bool acc = trial % 2 == 0;
            std::vector<float> c0 = c;
            gk.gemm(M, N, P, a.data(), lda, b.data(), ldb, c.data(), ldc, acc);
            for (size_t m = 0; m < M; ++m)
                for (size_t n = 0; n < N; ++n) {
                    double want = acc ? c0[m * ldc + n] : 0.0;
                    for (size_t p = 0; p < P; ++p)
                        want += double(a[m * lda + p]) * b[p * ldb + n];
                    ASSERT_NEAR(c[m * ldc + n], want, 1e-4 * (1 + std::sqrt(double(P))))
                        << M << "x" << N << "x" << P << " at " << m << "," << n;
                }
        }
    }
}

TEST(Transpose, GatherAndScatterRoundTripInBothSets) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
        const TransposeKernels& tk = transpose_kernels(isa);
        for (size_t n : {size_t(3), size_t(8)})
            for (size_t len : {size_t(1), size_t(7), size_t(8), size_t(29)}) {
                std::vector<std::vector<float>> ch(n, std::vector<float>(len));
                const float* src[8];
                for (size_t c = 0; c < n; ++c) {
                    for (size_t f = 0; f < len; ++f)
                        ch[c][f] = float(c * 1000 + f);
                    src[c] = ch[c].data();
                }
                const size_t ld = 11;
                std::vector<float> rows(len * ld, -1.0f);
                tk.gather(src, n, len, rows.data(), ld);
                for (size_t f = 0; f < len; ++f)
                    for (size_t c = 0; c < n; ++c)
                        ASSERT_EQ(rows[f * ld + c], float(c * 1000 + f));
                std::vector<std::vector<float>> back(n, std::vector<float>(len, 0.0f));
                float* dst[8];
                for (size_t c = 0; c < n; ++c)
                    dst[c] = back[c].data();
                tk.scatter(rows.data(), ld, n, len, dst);
                for (size_t c = 0; c < n; ++c)
                    ASSERT_EQ(back[c], ch[c]);
            }
    }
}

} // namespace
} // namespace rill
