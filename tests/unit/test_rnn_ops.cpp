// LSTM and GRU: hand-computed single-unit steps (PyTorch gate orders, both GRU reset forms),
// chunk invariance, pre-roll with input latency, bad shapes.
#include <gtest/gtest.h>

#include <cmath>

#include "op_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

float sig(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TensorMap rnn_weights(size_t gates, size_t h, size_t in, unsigned seed) {
    TensorMap t;
    t["weight_ih"] = make_tensor({int64_t(gates * h), int64_t(in)}, random_signal(gates * h * in, seed, 0.5f));
    t["weight_hh"] = make_tensor({int64_t(gates * h), int64_t(h)}, random_signal(gates * h * h, seed + 1, 0.5f));
    t["bias_ih"] = make_tensor({int64_t(gates * h)}, random_signal(gates * h, seed + 2, 0.3f));
    t["bias_hh"] = make_tensor({int64_t(gates * h)}, random_signal(gates * h, seed + 3, 0.3f));
    return t;
}

const std::vector<std::string> kRoles = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};

TEST(RnnOps, LstmSingleUnitByHand) {
    TensorMap t = rnn_weights(4, 1, 1, 10);
    auto op = build_op(node("lstm", {{"hidden_size", 1}}, kRoles), t);
    const std::vector<float> x = {0.5f, -1.0f, 2.0f, 0.0f};
    OpRun r = expect_chunk_invariant(*op, ports({1}), {x}, x.size());
    const float *wi = t["weight_ih"].data, *wh = t["weight_hh"].data, *bi = t["bias_ih"].data,
                *bh = t["bias_hh"].data;
    float h = 0, c = 0;
    for (size_t s = 0; s < x.size(); ++s) {
        auto pre = [&](int k) { return wi[k] * x[s] + bi[k] + wh[k] * h + bh[k]; };
        const float i = sig(pre(0)), f = sig(pre(1)), g = std::tanh(pre(2)), o = sig(pre(3));
        c = f * c + i * g;
        h = o * std::tanh(c);
        EXPECT_NEAR(r.outputs[0][s], h, 1e-6f) << "step " << s;
    }
}

TEST(RnnOps, GruSingleUnitByHandBothResetForms) {
    TensorMap t = rnn_weights(3, 1, 1, 20);
    const float *wi = t["weight_ih"].data, *wh = t["weight_hh"].data, *bi = t["bias_ih"].data,
                *bh = t["bias_hh"].data;
    const std::vector<float> x = {1.0f, -0.5f, 0.25f, 2.0f};
    for (int lbr : {1, 0}) {
        auto op = build_op(node("gru", {{"hidden_size", 1}, {"linear_before_reset", lbr}}, kRoles), t);
        OpRun r = expect_chunk_invariant(*op, ports({1}), {x}, x.size());
        float h = 0;
        for (size_t s = 0; s < x.size(); ++s) {
            const float rr = sig(wi[0] * x[s] + bi[0] + wh[0] * h + bh[0]);
            const float z = sig(wi[1] * x[s] + bi[1] + wh[1] * h + bh[1]);
            const float hn = lbr ? rr * (wh[2] * h + bh[2]) : wh[2] * (rr * h) + bh[2];
            const float n = std::tanh(wi[2] * x[s] + bi[2] + hn);
            h = (1 - z) * n + z * h;
            EXPECT_NEAR(r.outputs[0][s], h, 1e-6f) << "lbr " << lbr << " step " << s;
        }
    }
}

TEST(RnnOps, ChunkInvariantAndPreRoll) {
    const size_t H = 8, In = 3, T = 400, L = 23;
    const auto x = random_signal(In * T, 7);
    std::vector<float> tail(In * (T - L));
    for (size_t c = 0; c < In; ++c)
        std::copy_n(x.begin() + c * T + L, T - L, tail.begin() + c * (T - L));
    for (const char* name : {"lstm", "gru"}) {
        const size_t gates = std::string(name) == "lstm" ? 4 : 3;
        TensorMap t = rnn_weights(gates, H, In, 30);
        auto op = build_op(node(name, {{"hidden_size", H}}, kRoles), t);
        OpRun delayed = expect_chunk_invariant(*op, ports({In}, L), {x}, T);
        EXPECT_EQ(delayed.out_ports[0].channels, H);
        EXPECT_EQ(delayed.out_ports[0].latency, int64_t(L));
        // First L frames: output 0 and no state update; then the op as if started at frame L.
        OpRun plain = run_op(*op, ports({In}), {tail}, T - L, {T - L});
        for (size_t c = 0; c < H; ++c) {
            for (size_t s = 0; s < L; ++s)
                ASSERT_EQ(delayed.outputs[0][c * T + s], 0.0f) << name;
            for (size_t s = L; s < T; ++s)
                ASSERT_EQ(delayed.outputs[0][c * T + s], plain.outputs[0][c * (T - L) + s - L])
                    << name;
        }
    }
}

TEST(RnnOps, BiasesAreOptional) {
    TensorMap t = rnn_weights(3, 2, 2, 40);
    auto with_zero = t;
    with_zero["bias_ih"] = make_tensor({6}, std::vector<float>(6, 0));
    with_zero["bias_hh"] = make_tensor({6}, std::vector<float>(6, 0));
    auto a = build_op(node("gru", {{"hidden_size", 2}}, {"weight_ih", "weight_hh"}), t);
    auto b = build_op(node("gru", {{"hidden_size", 2}}, kRoles), with_zero);
    const auto x = random_signal(2 * 50, 8);
    EXPECT_EQ(run_op(*a, ports({2}), {x}, 50, {50}).outputs[0],
              run_op(*b, ports({2}), {x}, 50, {50}).outputs[0]);
}

TEST(RnnOps, RejectsBadShapesAndAttributes) {
    TensorMap t = rnn_weights(4, 2, 3, 50);
    EXPECT_THROW(build_op(node("lstm", {}, kRoles), t), CoreError);                      // no H
    EXPECT_THROW(build_op(node("lstm", {{"hidden_size", 0}}, kRoles), t), CoreError);
    EXPECT_THROW(build_op(node("lstm", {{"hidden_size", 3}}, kRoles), t), CoreError);    // 8 != 4*3
    EXPECT_THROW(build_op(node("gru", {{"hidden_size", 2}}, kRoles), t), CoreError);     // 8 != 3*2
    EXPECT_THROW(build_op(node("lstm", {{"hidden_size", 2}}, {"weight_ih"}), t), CoreError);
    EXPECT_THROW(build_op(node("lstm", {{"hidden_size", 2}}, kRoles, 2), t), CoreError);
    t["bias_hh"] = make_tensor({7}, std::vector<float>(7, 0));
    EXPECT_THROW(build_op(node("lstm", {{"hidden_size", 2}}, kRoles), t), CoreError);
    TensorMap g = rnn_weights(3, 2, 3, 60);
    EXPECT_THROW(build_op(node("gru", {{"hidden_size", 2}, {"linear_before_reset", 2}}, kRoles), g),
                 CoreError);
    auto op = build_op(node("gru", {{"hidden_size", 2}}, kRoles), g);
    EXPECT_THROW(op->plan(ports({4})), CoreError); // weight_ih expects 3 inputs
}

} // namespace
} // namespace rill::test
