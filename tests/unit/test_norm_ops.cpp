// Normalisations: frame and cumulative group norms against naive references, aliases, pre-roll,
// batch_norm folding, bad attributes and weights.
#include <gtest/gtest.h>

#include <cmath>

#include "op_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

// Naive group norm of planar x [C x T]: statistics over the group's channels at frame t, or
// (cumulative) over frames 0..t.
std::vector<float> reference_norm(const std::vector<float>& x, size_t c_count, size_t frames,
                                  size_t groups, bool cumulative, double eps,
                                  const std::vector<float>& w, const std::vector<float>& b) {
    std::vector<float> y(x.size());
    const size_t k = c_count / groups;
    for (size_t g = 0; g < groups; ++g)
        for (size_t t = 0; t < frames; ++t) {
            double s = 0, q = 0, n = 0;
            for (size_t u = cumulative ? 0 : t; u <= t; ++u)
                for (size_t c = g * k; c < (g + 1) * k; ++c) {
                    s += x[c * frames + u];
                    q += double(x[c * frames + u]) * x[c * frames + u];
                    n += 1;
                }
            const double m = s / n, v = q / n - m * m;
            for (size_t c = g * k; c < (g + 1) * k; ++c)
                y[c * frames + t] = float((x[c * frames + t] - m) / std::sqrt(v + eps) *
                                              (w.empty() ? 1.0 : w[c]) +
                                          (b.empty() ? 0.0 : b[c]));
        }
    return y;
}

TEST(NormOps, LayerNormHandChecked) {
    auto op = build_op(node("layer_norm", {{"eps", 0.0}}), {});
    // Two channels, frames (1, 3) and (2, 2): means 2 and 2, variances 1 and 0 (eps 0 -> only
    // the first frame is finite, so use eps 0 just there).
    OpRun r = run_op(*op, ports({2}), {{1.0f, 3.0f}}, 1, {1});
    EXPECT_FLOAT_EQ(r.outputs[0][0], -1.0f);
    EXPECT_FLOAT_EQ(r.outputs[0][1], 1.0f);
}

TEST(NormOps, GroupNormFrameMatchesReference) {
    const size_t C = 6, T = 700;
    TensorMap t;
    t["weight"] = make_tensor({6}, {1, 2, 0.5f, -1, 1.5f, 0.25f});
    t["bias"] = make_tensor({6}, {0, 0.1f, -0.2f, 0.3f, 0, 1});
    auto x = random_signal(C * T, 1, 2.0f, 0.5f);
    auto op = build_op(node("group_norm", {{"groups", 3}, {"eps", 1e-5}}, {"weight", "bias"}), t);
    OpRun r = expect_chunk_invariant(*op, ports({C}), {x}, T);
    auto ref = reference_norm(x, C, T, 3, false, 1e-5, {1, 2, 0.5f, -1, 1.5f, 0.25f},
                              {0, 0.1f, -0.2f, 0.3f, 0, 1});
    EXPECT_LE(max_abs_diff(r.outputs[0], ref), 1e-5f);
}

TEST(NormOps, CumulativeMatchesReferenceInAnyChunks) {
    const size_t C = 4, T = 1100;
    auto x = random_signal(C * T, 2, 1.0f, 3.0f); // a large mean tests E[x^2] - E[x]^2
    for (const char* name : {"cumulative_layer_norm", "group_norm"}) {
        json attrs = {{"eps", 1e-8}};
        if (std::string(name) == "group_norm")
            attrs["mode"] = "cumulative", attrs["groups"] = 2;
        auto op = build_op(node(name, attrs), {});
        OpRun r = expect_chunk_invariant(*op, ports({C}), {x}, T);
        auto ref = reference_norm(x, C, T, std::string(name) == "group_norm" ? 2 : 1, true, 1e-8,
                                  {}, {});
        EXPECT_LE(max_abs_diff(r.outputs[0], ref), 2e-5f) << name;
    }
}

TEST(NormOps, AliasesEqualGroupNorm) {
    const size_t C = 3, T = 50;
    auto x = random_signal(C * T, 3);
    auto base = build_op(node("group_norm"), {});
    const auto expected = run_op(*base, ports({C}), {x}, T, {T}).outputs[0];
    for (const char* alias : {"layer_norm", "channel_norm"}) {
        auto op = build_op(node(alias), {});
        EXPECT_EQ(run_op(*op, ports({C}), {x}, T, {T}).outputs[0], expected) << alias;
    }
    auto cum = build_op(node("group_norm", {{"mode", "cumulative"}}), {});
    auto cln = build_op(node("cumulative_layer_norm"), {});
    EXPECT_EQ(run_op(*cum, ports({C}), {x}, T, {T}).outputs[0],
              run_op(*cln, ports({C}), {x}, T, {T}).outputs[0]);
}

TEST(NormOps, CumulativeSkipsPreRoll) {
    // With input latency L the first L frames are negative time: output 0, not accumulated;
    // afterwards the output equals the op run from the start on the rest of the signal.
    const size_t C = 2, T = 300, L = 37;
    auto x = random_signal(C * T, 4);
    auto op = build_op(node("cumulative_layer_norm"), {});
    OpRun delayed = expect_chunk_invariant(*op, ports({C}, L), {x}, T);
    EXPECT_EQ(delayed.out_ports[0].latency, int64_t(L));
    std::vector<float> tail(C * (T - L));
    for (size_t c = 0; c < C; ++c)
        std::copy_n(x.begin() + c * T + L, T - L, tail.begin() + c * (T - L));
    OpRun plain = run_op(*op, ports({C}), {tail}, T - L, {T - L});
    for (size_t c = 0; c < C; ++c) {
        for (size_t t = 0; t < L; ++t)
            EXPECT_EQ(delayed.outputs[0][c * T + t], 0.0f);
        for (size_t t = L; t < T; ++t)
            EXPECT_FLOAT_EQ(delayed.outputs[0][c * T + t], plain.outputs[0][c * (T - L) + t - L]);
    }
}

TEST(NormOps, BatchNormFoldsRunningStatistics) {
    TensorMap t;
    t["weight"] = make_tensor({2}, {2.0f, 1.0f});
    t["bias"] = make_tensor({2}, {0.5f, -1.0f});
    t["running_mean"] = make_tensor({2}, {1.0f, -2.0f});
    t["running_var"] = make_tensor({2}, {4.0f, 0.25f});
    auto op = build_op(
        node("batch_norm", {{"eps", 0.0}}, {"weight", "bias", "running_mean", "running_var"}), t);
    OpRun r = expect_chunk_invariant(*op, ports({2}), {{3.0f, 1.0f, -2.0f, 0.0f}}, 2);
    // (x - mean) / sqrt(var) * w + b
    EXPECT_FLOAT_EQ(r.outputs[0][0], (3 - 1) / 2.0f * 2 + 0.5f);
    EXPECT_FLOAT_EQ(r.outputs[0][1], (1 - 1) / 2.0f * 2 + 0.5f);
    EXPECT_FLOAT_EQ(r.outputs[0][2], (-2 + 2) / 0.5f - 1);
    EXPECT_FLOAT_EQ(r.outputs[0][3], (0 + 2) / 0.5f - 1);
}

TEST(NormOps, RejectsBadAttributesAndWeights) {
    TensorMap t;
    EXPECT_THROW(build_op(node("group_norm", {{"mode", "utterance"}}), t), CoreError);
    EXPECT_THROW(build_op(node("group_norm", {{"groups", 0}}), t), CoreError);
    EXPECT_THROW(build_op(node("layer_norm", {{"eps", -1.0}}), t), CoreError);
    auto g3 = build_op(node("group_norm", {{"groups", 3}}), t);
    EXPECT_THROW(g3->plan(ports({4})), CoreError); // 3 does not divide 4
    t["weight"] = make_tensor({3}, {1, 1, 1});
    t["bias"] = make_tensor({4}, {0, 0, 0, 0});
    EXPECT_THROW(build_op(node("layer_norm", {}, {"weight", "bias"}), t), CoreError);
    auto ln = build_op(node("layer_norm", {}, {"weight"}), t);
    EXPECT_THROW(ln->plan(ports({4})), CoreError); // 3 gains, 4 channels
    EXPECT_THROW(build_op(node("batch_norm", {}, {"running_mean"}), t), CoreError); // no running_var
    t["running_mean"] = make_tensor({2}, {0, 0});
    t["running_var"] = make_tensor({3}, {1, 1, 1});
    EXPECT_THROW(build_op(node("batch_norm", {}, {"running_mean", "running_var"}), t), CoreError);
    t["running_var"] = make_tensor({2}, {1, -1});
    EXPECT_THROW(build_op(node("batch_norm", {}, {"running_mean", "running_var"}), t), CoreError);
    t["running_var"] = make_tensor({2}, {1, 1});
    auto bn = build_op(node("batch_norm", {}, {"running_mean", "running_var"}), t);
    EXPECT_THROW(bn->plan(ports({3})), CoreError);
}

} // namespace
} // namespace rill::test
