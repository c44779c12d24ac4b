// The block kernels behind linear / dense conv1d (kernels/packed_linear), depthwise conv1d
// (MacKernels::depthwise) and the channel norms (kernels/norm_rows): each set against a plain
// double-precision loop, and the AVX2 set equal to the scalar reference bit for bit (both sum in
// the same order without fused multiply-add). Shapes cover row counts that are not multiples of
// the 16-row panels, every frame-group remainder and blocks longer than one frame chunk.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "../../core/src/kernels/mac.hpp"
#include "../../core/src/kernels/norm_rows.hpp"
#include "../../core/src/kernels/packed_linear.hpp"
#include "../../core/src/kernels/slope.hpp"

namespace rill {
namespace {

std::vector<float> random_vector(std::mt19937& rng, size_t n) {
    std::normal_distribution<float> noise;
    std::vector<float> v(n);
    for (auto& x : v)
        x = noise(rng);
    return v;
}

bool avx2_available() { return mac_kernels(Isa::Avx2).isa == Isa::Avx2; }

TEST(PackedLinear, MatchesDirectSumInBothSets) {
    // The scalar set multiplies then adds, the AVX2 set fuses each multiply-add: both within
    // rounding of the double sum, each the same bits with its inputs regrouped, and the AVX2
    // set the same bits on 8- and 16-lane vectors (frame groups of up to 6 and 16).
    std::mt19937 rng(5);
    const size_t shapes[][3] = {{1, 1, 1},     {16, 8, 8},   {17, 3, 7},    {40, 33, 13},
                                {512, 128, 8}, {5, 64, 150}, {33, 20, 250}, {48, 70, 16},
                                {20, 9, 17},   {64, 512, 32}, {18, 5, 31}};
    for (const auto& sh : shapes) {
        // odd row counts: channels adjacent (a block of one group is then read in place)
        const size_t rows = sh[0], cols = sh[1], n = sh[2], xs = n + (rows % 2 ? 0 : 3);
        const size_t ys = n + 5;
        const auto w = random_vector(rng, rows * cols), b = random_vector(rng, rows);
        const auto x = random_vector(rng, cols * xs);
        for (bool with_bias : {true, false}) {
            const PackedMatrix m = pack_matrix(w.data(), rows, cols, cols,
                                               with_bias ? b.data() : nullptr);
            std::vector<float> y0(rows * ys, -7.0f), y1 = y0, y2 = y0, y3 = y0;
            std::vector<float> pack(PackedLinearKernels::pack_floats(cols, n), -3.0f);
            const auto& scalar = packed_linear_kernels(Isa::Scalar);
            const auto& avx2 = packed_linear_kernels(Isa::Avx2);
            scalar.apply(m, x.data(), xs, y0.data(), ys, n, nullptr, {});
            avx2.apply(m, x.data(), xs, y1.data(), ys, n, nullptr, {});
            // inputs regrouped into scratch: the same bits
            scalar.apply(m, x.data(), xs, y2.data(), ys, n, pack.data(), {});
            avx2.apply(m, x.data(), xs, y3.data(), ys, n, pack.data(), {});
            EXPECT_EQ(y0, y2) << rows << "x" << cols << " n=" << n;
            EXPECT_EQ(y1, y3) << rows << "x" << cols << " n=" << n;
            // the AVX2 set on 8-lane vectors only (where it would use 16-lane ones): same bits
            std::vector<float> y4 = y0, y5 = y0;
            packed_linear_kernels(Isa::Avx2, false).apply(m, x.data(), xs, y4.data(), ys, n,
                                                          nullptr, {});
            packed_linear_kernels(Isa::Avx2, false).apply(m, x.data(), xs, y5.data(), ys, n,
                                                          pack.data(), {});
            EXPECT_EQ(y1, y4) << rows << "x" << cols << " n=" << n;
            EXPECT_EQ(y1, y5) << rows << "x" << cols << " n=" << n;
            for (size_t o = 0; o < rows; ++o)
                for (size_t t = 0; t < ys; ++t) {
                    const size_t i = o * ys + t;
                    if (t >= n) { // past the block: untouched
                        EXPECT_EQ(y0[i], -7.0f);
                        continue;
                    }
                    double exact = with_bias ? b[o] : 0.0;
                    for (size_t c = 0; c < cols; ++c)
                        exact += double(w[o * cols + c]) * x[c * xs + t];
                    for (const auto* y : {&y0, &y1})
                        EXPECT_NEAR((*y)[i], exact, 1e-4 * (1 + std::abs(exact)))
                            << rows << "x" << cols << " n=" << n << " o=" << o << " t=" << t;
                }
        }
    }
}

TEST(PackedLinear, EpilogueMatchesTheSeparateStepsInBothSets) {
    // y = slope(Wx + b + add, a): the same bits as the linear, then the add, then slope(), in
    // both sets (memcmp: the sign of a zero and NaN count), with zeros, -0, NaN and inf among
    // the inputs and frame counts around the 8-frame transposes.
    std::mt19937 rng(7);
    const size_t shapes[][3] = {{16, 8, 8}, {17, 3, 7}, {40, 33, 13}, {24, 16, 150}, {9, 5, 1}};
    for (const auto& sh : shapes) {
        const size_t rows = sh[0], cols = sh[1], n = sh[2], xs = n + 1, ys = n + 2, as = n + 3;
        auto w = random_vector(rng, rows * cols), b = random_vector(rng, rows);
        auto x = random_vector(rng, cols * xs), add = random_vector(rng, rows * as);
        auto slopes = random_vector(rng, rows);
        // row 0: -0 + sum of -0 * x (x >= 0) is -0, plus a -0 from the add, into a positive slope
        b[0] = -0.0f;
        slopes[0] = 0.5f;
        for (size_t c = 0; c < cols; ++c)
            w[c] = -0.0f;
        for (float& v : x)
            v = std::abs(v);
        for (size_t t = 0; t < n; ++t)
            add[t] = t % 3 == 0 ? -0.0f : t % 3 == 1 ? NAN : -INFINITY;
        const PackedMatrix m = pack_matrix(w.data(), rows, cols, cols, b.data());
        for (size_t count : {rows, size_t{1}})
            for (Isa isa : {Isa::Scalar, Isa::Avx2}) {
                std::vector<float> expected(rows * ys, -7.0f);
                packed_linear_kernels(isa).apply(m, x.data(), xs, expected.data(), ys, n, nullptr,
                                                 {});
                for (size_t o = 0; o < rows; ++o)
                    for (size_t t = 0; t < n; ++t) {
                        float& v = expected[o * ys + t];
                        v = slope(v + add[o * as + t], slopes[count > 1 ? o : 0]);
                    }
                const LinearEpilogue e{add.data(), as, slopes.data(), count};
                std::vector<float> y(rows * ys, -7.0f);
                std::vector<float> pack(PackedLinearKernels::pack_floats(cols, n));
                packed_linear_kernels(isa).apply(m, x.data(), xs, y.data(), ys, n, pack.data(), e);
                EXPECT_EQ(std::memcmp(y.data(), expected.data(), y.size() * sizeof(float)), 0)
                    << rows << "x" << cols << " n=" << n << " slopes " << count;
            }
    }
}

TEST(PackedLinear, FramesDoNotDependOnTheBlockSplit) {
    // A stream in blocks of 1 and one block of 37 frames give the same bits.
    std::mt19937 rng(6);
    const size_t rows = 20, cols = 9, n = 37;
    const auto w = random_vector(rng, rows * cols), x = random_vector(rng, cols * n);
    const PackedMatrix m = pack_matrix(w.data(), rows, cols, cols, nullptr);
    const auto& k = packed_linear_kernels();
    std::vector<float> whole(rows * n), split(rows * n);
    std::vector<float> pack(PackedLinearKernels::pack_floats(cols, n));
    k.apply(m, x.data(), n, whole.data(), n, n, pack.data(), {});
    for (size_t t = 0; t < n; ++t)
        k.apply(m, x.data() + t, n, split.data() + t, n, 1, nullptr, {});
    EXPECT_EQ(whole, split);
}

TEST(Depthwise, MatchesTapsOrderAndScalar) {
    // bias, taps in order, then a folded slope (one or one per channel) as slope() computes it
    std::mt19937 rng(7);
    for (size_t n : {1u, 7u, 8u, 9u, 31u, 100u})
        for (size_t k : {1u, 3u, 5u})
            for (size_t d : {1u, 4u})
                for (size_t slopes : {0u, 1u, 5u}) {
                    const size_t channels = 5, xs = n + (k - 1) * d + 2, ys = n + 1;
                    const auto x = random_vector(rng, channels * xs);
                    const auto w = random_vector(rng, channels * k);
                    const auto b = random_vector(rng, channels), a = random_vector(rng, 5);
                    const float* slope = slopes ? a.data() : nullptr;
                    std::vector<float> y0(channels * ys, 3.0f), y1 = y0;
                    mac_kernels(Isa::Scalar).depthwise(y0.data(), ys, x.data(), xs, w.data(),
                                                       b.data(), channels, k, d, n, slope, slopes);
                    mac_kernels(Isa::Avx2).depthwise(y1.data(), ys, x.data(), xs, w.data(),
                                                     b.data(), channels, k, d, n, slope, slopes);
                    for (size_t c = 0; c < channels; ++c)
                        for (size_t m = 0; m < ys; ++m) {
                            float expect = 3.0f; // past the block: untouched
                            if (m < n) {
                                expect = b[c];
                                for (size_t j = 0; j < k; ++j)
                                    expect += w[c * k + j] * x[c * xs + m + j * d];
                                if (slope)
                                    expect = rill::slope(expect, slope[slopes > 1 ? c : 0]);
                            }
                            EXPECT_EQ(y0[c * ys + m], expect) << "n=" << n << " k=" << k;
                            if (avx2_available())
                                EXPECT_EQ(y1[c * ys + m], expect) << "n=" << n << " k=" << k;
                        }
                }
}

TEST(NormRows, SetsAgreeBitForBit) {
    std::mt19937 rng(8);
    // frame counts around the AVX2 set's slices of 8, 16 and 32 frames
    for (size_t n : {1u, 5u, 8u, 13u, 16u, 17u, 24u, 31u, 32u, 33u, 64u, 131u}) {
        const size_t channels = 7, xs = n + 3;
        const auto x = random_vector(rng, channels * xs);
        const auto w = random_vector(rng, channels), b = random_vector(rng, channels);
        std::vector<double> s1[2], s2[2], dev[2];
        std::vector<float> y[2];
        const Isa isas[2] = {Isa::Scalar, Isa::Avx2};
        for (int i = 0; i < 2; ++i) {
            const NormKernels& k = norm_kernels(isas[i]);
            s1[i].assign(n, 0.5);
            s2[i].assign(n, 0.25);
            k.moments(x.data(), xs, channels, n, s1[i].data(), s2[i].data());
            dev[i].assign(n, 0.0);
            k.deviations(x.data(), xs, channels, n, s1[i].data(), dev[i].data());
            y[i].assign(channels * xs, 0.0f);
            std::vector<float> hi(n), lo(n), scale(n);
            NormKernels::split(s1[i].data(), s2[i].data(), n, hi.data(), lo.data(), scale.data());
            k.normalize(x.data(), xs, y[i].data(), xs, channels, n, hi.data(), lo.data(),
                        scale.data(), w.data(), b.data());
            // sums only, no gain or bias: the rows after the first written over
            k.moments(x.data(), xs, channels, n, s1[i].data(), nullptr);
            k.normalize(x.data() + xs, xs, y[i].data() + xs, xs, channels - 1, n, hi.data(),
                        lo.data(), scale.data(), nullptr, nullptr);
        }
        for (size_t t = 0; t < n; ++t) {
            double e1 = 0.5, e2 = 0.25;
            for (size_t c = 0; c < channels; ++c) {
                e1 += x[c * xs + t];
                e2 += double(x[c * xs + t]) * x[c * xs + t];
            }
            EXPECT_NEAR(s1[0][t], 2 * e1 - 0.5, 1e-9);
            EXPECT_NEAR(s2[0][t], e2, 1e-9);
            const float y00 = float((x[t] - e1) * e2 * w[0] + b[0]);
            EXPECT_NEAR(y[0][t], y00, 1e-5 * (1 + std::abs(y00)));
            const float y10 = float((x[xs + t] - e1) * e2);
            EXPECT_NEAR(y[0][xs + t], y10, 1e-5 * (1 + std::abs(y10)));
        }
        if (avx2_available()) {
            EXPECT_EQ(s1[0], s1[1]);
            EXPECT_EQ(s2[0], s2[1]);
            EXPECT_EQ(dev[0], dev[1]);
            EXPECT_EQ(y[0], y[1]);
        }
    }
}

} // namespace
} // namespace rill
