// STFT / iSTFT: streamed frames against a naive DFT of the zero-padded signal, iSTFT of arbitrary
// spectra against a direct overlap-add / envelope formula (torch.istft), STFT -> iSTFT
// reconstruction, pre-roll frames ignored, chunk invariance, and attribute validation.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "strided_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

constexpr double kPi = 3.14159265358979323846;

struct StftCase {
    size_t channels = 1;
    int64_t n_fft = 16, hop = 4;
    std::string window = "hann";
    bool center = true;
    int64_t cd = 0;
};

std::vector<double> window_values(const std::string& kind, int64_t n) {
    std::vector<double> w(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
        const double c = std::cos(2 * kPi * double(j) / double(n)); // periodic windows
        w[j] = kind == "hann"        ? 0.5 - 0.5 * c
               : kind == "sqrt_hann" ? std::sqrt(0.5 - 0.5 * c)
               : kind == "hamming"   ? 0.54 - 0.46 * c
                                     : 1.0;
    }
    return w;
}

json stft_attrs(const StftCase& sc) {
    return {{"n_fft", sc.n_fft}, {"hop", sc.hop}, {"window", sc.window}, {"center", sc.center}};
}

std::string describe(const StftCase& sc) {
    return "C=" + std::to_string(sc.channels) + " n_fft=" + std::to_string(sc.n_fft) +
           " hop=" + std::to_string(sc.hop) + " " + sc.window + (sc.center ? " center" : "") +
           " cd=" + std::to_string(sc.cd);
}

// Offline X_c[f, t] = sum_j w[j] x[c, t*hop + j - left] e^{-2 pi i f j / n} (x zero outside).
void dft_reference(const StftCase& sc, const std::vector<double>& w, const std::vector<float>& x,
                   size_t frames, size_t c, int64_t t, size_t f, double& re, double& im) {
    const int64_t left = sc.center ? sc.n_fft / 2 : 0;
    re = im = 0;
    for (int64_t j = 0; j < sc.n_fft; ++j) {
        const int64_t i = t * sc.hop + j - left;
        if (i < 0 || i >= static_cast<int64_t>(frames))
            continue;
        const double v = w[j] * x[c * frames + i];
        const double a = -2 * kPi * double(f) * double(j) / double(sc.n_fft);
        re += v * std::cos(a);
        im += v * std::sin(a);
    }
}

void check_stft(const StftCase& sc) {
    SCOPED_TRACE(describe(sc));
    const size_t T = 157, F = static_cast<size_t>(sc.n_fft / 2 + 1);
    const size_t hop = static_cast<size_t>(sc.hop);
    auto x = random_signal(sc.channels * T, 21);
    auto op = build_op(node("stft", stft_attrs(sc)), {});
    const size_t total = (static_cast<size_t>(sc.cd + sc.n_fft) + T + 2 * hop) / hop * hop;
    auto input = with_preroll(x, sc.channels, T, static_cast<size_t>(sc.cd), total);
    OpRun r = run_chunked(*op, ports({uint32_t(sc.channels)}, sc.cd), input, total, hop);

    const int64_t left = sc.center ? sc.n_fft / 2 : 0;
    const int64_t L = (sc.n_fft - 1 - left + sc.cd) / sc.hop;
    ASSERT_EQ(r.out_ports[0].latency, L);
    ASSERT_EQ(r.out_ports[0].channels, sc.channels * 2 * F);
    ASSERT_EQ(r.out_ports[0].rate, Rate::make(1, sc.hop));
    const auto w = window_values(sc.window, sc.n_fft);
    const size_t M = r.out_frames;
    float worst = 0;
    for (size_t c = 0; c < sc.channels; ++c)
        for (size_t m = static_cast<size_t>(L); m < M; ++m)
            for (size_t f = 0; f < F; ++f) {
                double re, im;
                dft_reference(sc, w, x, T, c, int64_t(m) - L, f, re, im);
                const float got_re = r.outputs[0][(c * 2 * F + f) * M + m];
                const float got_im = r.outputs[0][(c * 2 * F + F + f) * M + m];
                worst =
                    std::max({worst, float(std::fabs(got_re - re)), float(std::fabs(got_im - im))});
            }
    EXPECT_LE(worst, 2e-5f); // float FFT vs double DFT of sums of n_fft unit-variance terms
}

TEST(StftOps, StftHannCentered) {
    check_stft({2, 16, 4, "hann", true, 0});
}
TEST(StftOps, StftHammingNotCentered) {
    check_stft({1, 32, 8, "hamming", false, 0});
}
TEST(StftOps, StftRectHopEqualsNfft) {
    check_stft({1, 8, 8, "rect", true, 0});
}
TEST(StftOps, StftSqrtHannOddHop) {
    check_stft({2, 16, 5, "sqrt_hann", true, 0});
}
TEST(StftOps, StftPreRoll) {
    for (int64_t cd : {1, 2, 3, 5, 9}) {
        check_stft({1, 16, 4, "hann", true, cd});
        check_stft({2, 32, 8, "hamming", false, cd});
        check_stft({1, 8, 3, "rect", true, cd});
    }
}

TEST(StftOps, StftWindowWeight) {
    // A window given as a weight replaces the attribute.
    const int64_t n = 8;
    std::vector<float> win = {0.1f, 0.5f, 0.9f, 1.0f, 1.0f, 0.7f, 0.3f, 0.05f};
    TensorMap t;
    t["window"] = make_tensor({n}, win);
    auto op = build_op(node("stft", {{"n_fft", n}, {"hop", 2}, {"center", false}}, {"window"}), t);
    const size_t T = 64;
    auto x = random_signal(T, 22);
    OpRun r = run_chunked(*op, ports({1}), x, T, 2);
    const size_t F = 5, M = r.out_frames;
    const int64_t L = r.out_ports[0].latency;
    ASSERT_EQ(L, 3);
    float worst = 0;
    for (size_t m = static_cast<size_t>(L); m < M; ++m)
        for (size_t f = 0; f < F; ++f) {
            double re = 0, im = 0;
            for (int64_t j = 0; j < n; ++j) {
                const int64_t i = (int64_t(m) - L) * 2 + j;
                if (i >= int64_t(T))
                    continue;
                const double a = -2 * kPi * double(f) * double(j) / double(n);
                re += win[j] * x[i] * std::cos(a);
                im += win[j] * x[i] * std::sin(a);
            }
            worst = std::max({worst, float(std::fabs(r.outputs[0][f * M + m] - re)),
                              float(std::fabs(r.outputs[0][(F + f) * M + m] - im))});
        }
    EXPECT_LE(worst, 1e-5f);
}

// torch.istft of frames X[0..frames) (layout of the stft output, planar [C*2F x frames]):
// yf[t*hop + j] = sum_t w[j] irfft(X_t)[j], env likewise with w[j]^2, y[u] = yf[u + trim] / env
// (0 where env < 1e-11). irfft ignores the imaginary parts of DC and Nyquist. The stream goes on
// after X with `zero_frames` frames of zeros: they add nothing to yf but count in the envelope.
double istft_reference(const StftCase& sc, const std::vector<double>& w,
                       const std::vector<float>& X, size_t frames, size_t zero_frames, size_t c,
                       int64_t u) {
    const size_t F = static_cast<size_t>(sc.n_fft / 2 + 1);
    const int64_t pos = u + (sc.center ? sc.n_fft / 2 : 0);
    double num = 0, env = 0;
    for (int64_t t = 0; t < static_cast<int64_t>(frames + zero_frames); ++t) {
        const int64_t j = pos - t * sc.hop;
        if (j < 0 || j >= sc.n_fft)
            continue;
        env += w[j] * w[j];
        if (t >= static_cast<int64_t>(frames))
            continue;
        const auto re = [&](size_t f) { return double(X[(c * 2 * F + f) * frames + t]); };
        const auto im = [&](size_t f) { return double(X[(c * 2 * F + F + f) * frames + t]); };
        double v = re(0) + re(F - 1) * ((j % 2) ? -1.0 : 1.0);
        for (size_t f = 1; f + 1 < F; ++f) {
            const double a = 2 * kPi * double(f) * double(j) / double(sc.n_fft);
            v += 2 * (re(f) * std::cos(a) - im(f) * std::sin(a));
        }
        num += w[j] * v / double(sc.n_fft);
    }
    return env < 1e-11 ? 0.0 : num / env;
}

void check_istft(const StftCase& sc) {
    SCOPED_TRACE("istft " + describe(sc));
    const size_t F = static_cast<size_t>(sc.n_fft / 2 + 1), K = sc.channels * 2 * F;
    const size_t frames = 41, cd = static_cast<size_t>(sc.cd);
    auto X = random_signal(K * frames, 23, 2.0f);
    const size_t total = cd + frames + 3;
    auto input = with_preroll(X, K, frames, cd, total);
    auto op = build_op(node("istft", stft_attrs(sc)), {});
    OpRun r = run_chunked(*op, ports({uint32_t(K)}, sc.cd), input, total, 1);
    const int64_t L = (sc.center ? sc.n_fft / 2 : 0) + sc.cd * sc.hop;
    ASSERT_EQ(r.out_ports[0].latency, L);
    ASSERT_EQ(r.out_ports[0].channels, sc.channels);
    ASSERT_EQ(r.out_ports[0].rate, Rate::make(sc.hop, 1));
    ASSERT_EQ(r.out_frames, total * static_cast<size_t>(sc.hop));
    const auto w = window_values(sc.window, sc.n_fft);
    float worst = 0;
    for (size_t c = 0; c < sc.channels; ++c)
        for (size_t u = static_cast<size_t>(L); u < r.out_frames; ++u) {
            const double ref =
                istft_reference(sc, w, X, frames, total - cd - frames, c, int64_t(u) - L);
            worst = std::max(worst, float(std::fabs(r.outputs[0][c * r.out_frames + u] - ref)));
        }
    EXPECT_LE(worst, 2e-5f);
}

TEST(StftOps, IstftHannCentered) {
    check_istft({2, 16, 4, "hann", true, 0});
}
TEST(StftOps, IstftHammingNotCentered) {
    check_istft({1, 32, 8, "hamming", false, 0});
}
TEST(StftOps, IstftSqrtHannHalfOverlap) {
    check_istft({1, 16, 8, "sqrt_hann", true, 0});
}
TEST(StftOps, IstftPreRollFramesAreNotCounted) {
    for (int64_t cd : {1, 2, 7}) {
        check_istft({1, 16, 4, "hann", true, cd});
        check_istft({2, 8, 3, "rect", false, cd});
    }
}

void check_roundtrip(const StftCase& sc) {
    SCOPED_TRACE("roundtrip " + describe(sc));
    const size_t T = 300, hop = static_cast<size_t>(sc.hop);
    auto x = random_signal(sc.channels * T, 24);
    auto stft = build_op(node("stft", stft_attrs(sc)), {});
    auto istft = build_op(node("istft", stft_attrs(sc)), {});
    const size_t total = (static_cast<size_t>(sc.cd + 2 * sc.n_fft) + T) / hop * hop;
    auto input = with_preroll(x, sc.channels, T, static_cast<size_t>(sc.cd), total);
    OpRun spec = run_chunked(*stft, ports({uint32_t(sc.channels)}, sc.cd), input, total, hop);
    OpRun y = run_chunked(*istft, spec.out_ports, spec.outputs[0], spec.out_frames, 1);
    ASSERT_EQ(y.out_frames, total);
    ASSERT_EQ(y.out_ports[0].rate, Rate{});
    const int64_t L = y.out_ports[0].latency;
    EXPECT_GE(L, sc.cd);
    float worst = 0;
    size_t compared = 0;
    for (size_t c = 0; c < sc.channels; ++c)
        for (size_t u = static_cast<size_t>(L); u < total; ++u) {
            const size_t i = u - static_cast<size_t>(L);
            const float ref = i < T ? x[c * T + i] : 0.0f;
            worst = std::max(worst, std::fabs(y.outputs[0][c * total + u] - ref));
            compared += i < T;
        }
    EXPECT_EQ(compared, sc.channels * T);
    EXPECT_LE(worst, 1e-5f);
}

TEST(StftOps, RoundTripHann) {
    check_roundtrip({2, 16, 4, "hann", true, 0});
}
TEST(StftOps, RoundTripSqrtHannHalfOverlap) {
    check_roundtrip({1, 32, 16, "sqrt_hann", true, 0});
}
TEST(StftOps, RoundTripHammingNotCentered) {
    check_roundtrip({1, 16, 4, "hamming", false, 0});
}
TEST(StftOps, RoundTripPreRoll) {
    for (int64_t cd : {1, 3, 6})
        check_roundtrip({1, 16, 4, "hann", true, cd});
}

// --- validation -----------------------------------------------------------------------------

void expect_build_error(const std::string& op, const json& attrs, const TensorMap& t,
                        const std::vector<std::string>& roles, const std::string& fragment) {
    try {
        build_op(node(op, attrs, roles), t);
        ADD_FAILURE() << op << " " << attrs.dump() << ": expected an error mentioning '" << fragment
                      << "'";
    } catch (const CoreError& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(StftOps, BadAttrsThrow) {
    TensorMap t;
    t["window"] = make_tensor({7}, std::vector<float>(7, 1.0f));
    for (const char* op : {"stft", "istft"}) {
        expect_build_error(op, json::object(), {}, {}, "n_fft");
        expect_build_error(op, {{"n_fft", 15}}, {}, {}, "n_fft");
        expect_build_error(op, {{"n_fft", 0}}, {}, {}, "n_fft");
        expect_build_error(op, {{"n_fft", 16}, {"hop", 0}}, {}, {}, "hop");
        expect_build_error(op, {{"n_fft", 16}, {"hop", 17}}, {}, {}, "hop");
        expect_build_error(op, {{"n_fft", 16}, {"window", "kaiser"}}, {}, {}, "window");
        expect_build_error(op, {{"n_fft", 8}}, t, {"window"}, "window");
        expect_build_error(op, {{"n_fft", 8}, {"hop", "two"}}, {}, {}, "integer");
    }
}

TEST(StftOps, IstftInputChannelsMustMatchBins) {
    auto op = build_op(node("istft", {{"n_fft", 8}, {"hop", 2}}), {});
    EXPECT_THROW(op->plan(ports({9})), CoreError);
    EXPECT_EQ(op->plan(ports({20}))[0].channels, 2u); // 2 channels of 2 * 5 bins
}

} // namespace
} // namespace rill::test
