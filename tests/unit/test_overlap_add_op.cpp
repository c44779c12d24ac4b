// overlap_add (offline windows): streamed output against the offline formula evaluated directly
// (double, window values written out independently), pre-roll frames ignored, chunk invariance,
// frame -> overlap_add reproducing its input exactly at latency size - hop, the constant-sum
// property of the tukey crossfade, source alignment of windows whose source order flips, and
// attribute / channel validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "strided_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

constexpr double kPi = 3.14159265358979323846;

struct OlaCase {
    uint32_t sources = 2;
    int64_t size = 16, hop = 8;
    std::string window = "tukey";
    int64_t cd = 0;
};

std::string describe(const OlaCase& oc) {
    return "S=" + std::to_string(oc.sources) + " W=" + std::to_string(oc.size) +
           " hop=" + std::to_string(oc.hop) + " " + oc.window + " cd=" + std::to_string(oc.cd);
}

double crossfade_value(const OlaCase& oc, int64_t j) {
    const int64_t w = oc.size;
    if (oc.window == "hann")
        return std::pow(std::sin(kPi * (double(j) + 0.5) / double(w)), 2);
    if (oc.window == "rect")
        return 1.0;
    const int64_t fade = std::min(w - oc.hop, w / 2), k = std::min(j, w - 1 - j);
    return k < fade ? std::pow(std::sin(kPi * (double(k) + 0.5) / double(2 * fade)), 2) : 1.0;
}

// y_s[u] = sum_f a[t - f hop] X_f[s, t - f hop] / sum_f a[t - f hop], t = u + pad, over frames
// 0..seen-1, X_f = 0 from f = frames on (X planar [S*W x frames]; the stream's zero frames after
// X count in the envelope).
double ola_reference(const OlaCase& oc, const std::vector<float>& X, size_t frames, size_t seen,
                     uint32_t s, int64_t u) {
    const int64_t t = u + oc.size - oc.hop;
    double num = 0, den = 0;
    for (int64_t f = 0; f < static_cast<int64_t>(seen); ++f) {
        const int64_t j = t - f * oc.hop;
        if (j < 0 || j >= oc.size)
            continue;
        const double a = crossfade_value(oc, j);
        if (f < static_cast<int64_t>(frames))
            num += a * X[(s * oc.size + j) * frames + f];
        den += a;
    }
    return den > 0 ? num / den : 0.0;
}

OpRun run_ola(const OlaCase& oc, const std::vector<float>& input, size_t total,
              const json& extra = json::object()) {
    json attrs = {{"size", oc.size}, {"hop", oc.hop}, {"window", oc.window}};
    attrs.update(extra);
    auto op = build_op(node("overlap_add", attrs), {});
    return run_chunked(*op, ports({uint32_t(oc.sources * oc.size)}, oc.cd), input, total, 1);
}

void check_formula(const OlaCase& oc) {
    SCOPED_TRACE(describe(oc));
    const size_t K = oc.sources * static_cast<size_t>(oc.size), frames = 23;
    const size_t cd = static_cast<size_t>(oc.cd), total = cd + frames + 3;
    auto X = random_signal(K * frames, 31);
    OpRun r = run_ola(oc, with_preroll(X, K, frames, cd, total), total);
    const int64_t L = oc.size - oc.hop + oc.cd * oc.hop;
    ASSERT_EQ(r.out_ports[0].latency, L);
    ASSERT_EQ(r.out_ports[0].channels, oc.sources);
    ASSERT_EQ(r.out_ports[0].rate, Rate::make(oc.hop, 1));
    float worst = 0;
    for (uint32_t s = 0; s < oc.sources; ++s)
        for (size_t u = static_cast<size_t>(L); u < r.out_frames; ++u) {
            const double ref = ola_reference(oc, X, frames, total - cd, s, int64_t(u) - L);
            worst = std::max(worst, float(std::fabs(r.outputs[0][s * r.out_frames + u] - ref)));
        }
    EXPECT_LE(worst, 1e-5f);
}

TEST(OverlapAddOp, MatchesFormula) {
    for (const char* window : {"tukey", "hann", "rect"})
        for (int64_t hop : {3, 4, 8, 12, 16}) {
            check_formula({2, 16, hop, window, 0});
            check_formula({1, 15, std::min<int64_t>(hop, 15), window, 0});
        }
}

TEST(OverlapAddOp, PreRollFramesAreNotCounted) {
    for (int64_t cd : {1, 2, 5}) {
        check_formula({2, 16, 8, "tukey", cd});
        check_formula({3, 12, 5, "hann", cd});
    }
}

// frame (default left_pad) -> overlap_add gives back the signal, delayed by size - hop.
TEST(OverlapAddOp, FrameThenOverlapAddIsTheIdentityAtItsLatency) {
    for (const char* window : {"tukey", "hann", "rect"})
        for (int64_t hop : {1, 5, 8, 11, 16}) {
            const OlaCase oc{1, 16, hop, window, 0};
            SCOPED_TRACE(describe(oc));
            const size_t T = static_cast<size_t>(40 * hop + 7) / hop * hop;
            auto x = random_signal(T, 41);
            auto frame = build_op(node("frame", {{"size", oc.size}, {"hop", oc.hop}}), {});
            OpRun windows = run_chunked(*frame, ports({1}), x, T, static_cast<size_t>(hop));
            ASSERT_EQ(windows.out_ports[0].latency, 0);
            auto ola = build_op(node("overlap_add", {{"size", oc.size}, {"hop", oc.hop}, {"window", window}}), {});
            OpRun y = run_chunked(*ola, windows.out_ports, windows.outputs[0], windows.out_frames, 1);
            const size_t L = static_cast<size_t>(y.out_ports[0].latency);
            ASSERT_EQ(L, static_cast<size_t>(oc.size - oc.hop));
            ASSERT_EQ(y.out_frames, T);
            float worst = 0;
            for (size_t u = 0; u < T; ++u)
                worst = std::max(worst, std::fabs(y.outputs[0][u] - (u >= L ? x[u - L] : 0.0f)));
            EXPECT_LE(worst, 1e-6f);
        }
}

// With hop >= size/2 the tukey fades sum to 1: a window of ones overlap-adds to exactly the
// crossfaded values with no normalisation, i.e. sum_f a = 1 away from the start.
TEST(OverlapAddOp, TukeyFadesSumToOne) {
    for (int64_t hop : {8, 10, 13, 16}) {
        const OlaCase oc{1, 16, hop, "tukey", 0};
        SCOPED_TRACE(describe(oc));
        double worst = 0;
        for (int64_t t = oc.size; t < 5 * oc.size; ++t) {
            double e = 0;
            for (int64_t f = 0; f * oc.hop <= t; ++f)
                if (t - f * oc.hop < oc.size)
                    e += crossfade_value(oc, t - f * oc.hop);
            worst = std::max(worst, std::fabs(e - 1.0));
        }
        EXPECT_LE(worst, 1e-12);
    }
}

// Two sources whose order flips on every odd window: align "permutation" restores them.
TEST(OverlapAddOp, PermutationAlignmentFollowsTheSources) {
    const int64_t W = 32, hop = 16;
    const size_t T = 40 * hop, M = T / hop;
    auto x = random_signal(2 * T, 51);
    auto frame = build_op(node("frame", {{"size", W}, {"hop", hop}}), {});
    OpRun windows = run_op(*frame, ports({2}), {x}, T, {T});
    std::vector<float> X = windows.outputs[0];
    for (size_t m = 1; m < M; m += 2)
        for (int64_t j = 0; j < W; ++j)
            std::swap(X[j * M + m], X[(W + j) * M + m]);
    for (bool align : {true, false}) {
        SCOPED_TRACE(align ? "align" : "no align");
        const OlaCase oc{2, W, hop, "tukey", 0};
        OpRun y = run_ola(oc, X, M, {{"align", align ? "permutation" : "none"}});
        const size_t L = static_cast<size_t>(y.out_ports[0].latency);
        float worst = 0;
        for (size_t s = 0; s < 2; ++s)
            for (size_t u = L; u < T; ++u)
                worst = std::max(worst, std::fabs(y.outputs[0][s * T + u] - x[s * T + u - L]));
        if (align)
            EXPECT_LE(worst, 1e-6f);
        else
            EXPECT_GE(worst, 0.5f);
    }
}

void expect_error(const json& attrs, const std::string& fragment, uint32_t channels = 0) {
    try {
        auto op = build_op(node("overlap_add", attrs), {});
        if (channels)
            op->plan(ports({channels}));
        ADD_FAILURE() << attrs.dump() << ": expected an error mentioning '" << fragment << "'";
    } catch (const CoreError& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(OverlapAddOp, BadAttrsAndChannelsThrow) {
    expect_error(json::object(), "size");
    expect_error({{"size", 8}}, "hop");
    expect_error({{"size", 8}, {"hop", 9}}, "hop <= size");
    expect_error({{"size", 8}, {"hop", 0}}, "hop");
    expect_error({{"size", 8}, {"hop", 4}, {"pad", 8}}, "pad");
    expect_error({{"size", 8}, {"hop", 4}, {"window", "kaiser"}}, "window");
    expect_error({{"size", 8}, {"hop", 4}, {"align", "sort"}}, "align");
    expect_error({{"size", 8}, {"hop", 4}}, "multiple of size = 8", 12);
    expect_error({{"size", 2}, {"hop", 1}, {"align", "permutation"}}, "at most 6 sources", 14);
    auto op = build_op(node("overlap_add", {{"size", 8}, {"hop", 2}}), {});
    EXPECT_EQ(op->plan(ports({24}))[0].channels, 3u);
}

} // namespace
} // namespace rill::test
