// Activations: hand-checked values of every kernel, per-channel parameters, bad attrs/weights.
#include <gtest/gtest.h>

#include <cmath>

#include "op_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

// Applies `op` to the single-channel signal xs and returns the output.
std::vector<float> activate(const NodeDef& n, const std::vector<float>& xs, const TensorMap& t = {},
                         uint32_t channels = 1) {
    auto op = build_op(n, t);
    const size_t frames = xs.size() / channels;
    OpRun r = expect_chunk_invariant(*op, ports({channels}), {xs}, frames);
    return r.outputs[0];
}

const std::vector<float> kX = {-3.0f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f};

void expect_values(const std::vector<float>& got, float (*f)(float)) {
    ASSERT_EQ(got.size(), kX.size());
    for (size_t i = 0; i < kX.size(); ++i)
        EXPECT_NEAR(got[i], f(kX[i]), 1e-6f) << "x = " << kX[i];
}

TEST(ActivationOps, SigmoidSaturatesAndKeepsNaN) {
    // exp(-x) from the vector math set: past its overflow and underflow, and NaN
    const std::vector<float> xs = {-200.0f, -88.0f, -30.0f, -1e-3f, 1e-3f, 30.0f, 88.0f, 200.0f,
                                   -INFINITY, INFINITY, NAN, 3.0f, -7.5f, 15.0f, 0.0f, 1.0f};
    const auto got = activate(node("sigmoid"), xs);
    ASSERT_EQ(got.size(), xs.size());
    for (size_t i = 0; i + 6 < xs.size(); ++i) {
        const float want = 1.0f / (1.0f + std::exp(-xs[i]));
        EXPECT_NEAR(got[i], want, 3e-7f * want + 1e-38f) << "x = " << xs[i];
    }
    EXPECT_EQ(got[8], 0.0f);
    EXPECT_EQ(got[9], 1.0f);
    EXPECT_TRUE(std::isnan(got[10]));
}

TEST(ActivationOps, ManyShortRowsMatchTheFormula) {
    // 300 channels in calls of 1, 7, 3 frames...: rows shorter than a vector run batched
    const uint32_t channels = 300;
    const size_t frames = 20;
    std::vector<float> xs(channels * frames);
    for (size_t i = 0; i < xs.size(); ++i)
        xs[i] = std::sin(0.37f * float(i)) * 4.0f;
    const auto check = [&](const char* name, float (*f)(float)) {
        const auto got = activate(node(name), xs, {}, channels);
        ASSERT_EQ(got.size(), xs.size());
        for (size_t i = 0; i < xs.size(); ++i)
            ASSERT_NEAR(got[i], f(xs[i]), 1e-6f) << name << " x = " << xs[i];
    };
    check("sigmoid", [](float x) { return 1 / (1 + std::exp(-x)); });
    check("gelu", [](float x) { return 0.5f * x * (1 + std::erf(x / std::sqrt(2.0f))); });
    check("tanh", [](float x) { return std::tanh(x); });
    check("relu", [](float x) { return x > 0 ? x : 0.0f; });
}

TEST(ActivationOps, HandCheckedValues) {
    expect_values(activate(node("relu"), kX), [](float x) { return x > 0 ? x : 0.0f; });
    expect_values(activate(node("leaky_relu"), kX), [](float x) { return x > 0 ? x : 0.01f * x; });
    expect_values(activate(node("leaky_relu", {{"negative_slope", 0.2}}), kX),
                  [](float x) { return x > 0 ? x : 0.2f * x; });
    expect_values(activate(node("tanh"), kX), [](float x) { return std::tanh(x); });
    expect_values(activate(node("sigmoid"), kX), [](float x) { return 1 / (1 + std::exp(-x)); });
    expect_values(activate(node("silu"), kX), [](float x) { return x / (1 + std::exp(-x)); });
    expect_values(activate(node("elu"), kX), [](float x) { return x > 0 ? x : std::exp(x) - 1; });
    expect_values(activate(node("elu", {{"alpha", 0.5}}), kX),
                  [](float x) { return x > 0 ? x : 0.5f * (std::exp(x) - 1); });
    // Known values: gelu(1) = 0.8413447, gelu_tanh(1) = 0.8411920.
    EXPECT_NEAR(activate(node("gelu"), {1.0f})[0], 0.8413447f, 1e-6f);
    EXPECT_NEAR(activate(node("gelu", {{"approximate", "tanh"}}), {1.0f})[0], 0.8411920f, 1e-6f);
    EXPECT_NEAR(activate(node("gelu"), {-2.0f})[0], -0.0455003f, 1e-6f);
}

TEST(ActivationOps, PerChannelParameters) {
    TensorMap t;
    t["weight"] = make_tensor({2}, {0.1f, 0.5f});
    auto y = activate(node("prelu", {}, {"weight"}), {-1, 2, -4, 3}, t, 2);
    EXPECT_EQ(y, (std::vector<float>{-0.1f, 2.0f, -2.0f, 3.0f}));
    t["weight"] = make_tensor({1}, {0.25f}); // one slope for all channels
    y = activate(node("prelu", {}, {"weight"}), {-1, 2, -4, 3}, t, 2);
    EXPECT_EQ(y, (std::vector<float>{-0.25f, 2.0f, -1.0f, 3.0f}));

    t["alpha"] = make_tensor({2}, {1.0f, 2.0f});
    y = activate(node("snake", {}, {"alpha"}), {0.5f, 0.5f}, t, 2);
    EXPECT_NEAR(y[0], 0.5f + std::pow(std::sin(0.5f), 2.0f) / 1.0f, 1e-6f);
    EXPECT_NEAR(y[1], 0.5f + std::pow(std::sin(1.0f), 2.0f) / 2.0f, 1e-6f);
}

TEST(ActivationOps, PassesPortsThrough) {
    auto op = build_op(node("relu"), {});
    PortInfo in{3, Rate::make(1, 4), 5};
    auto out = op->plan({in});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].channels, 3u);
    EXPECT_EQ(out[0].rate, in.rate);
    EXPECT_EQ(out[0].latency, 5);
}

TEST(ActivationOps, RejectsBadAttributesAndWeights) {
    TensorMap t;
    EXPECT_THROW(build_op(node("gelu", {{"approximate", "erf"}}), t), CoreError);
    EXPECT_THROW(build_op(node("leaky_relu", {{"negative_slope", "big"}}), t), CoreError);
    EXPECT_THROW(build_op(node("prelu"), t), CoreError);                    // missing weight
    EXPECT_THROW(build_op(node("relu", {}, {}, 2), t), CoreError);          // two inputs
    t["weight"] = make_tensor({3}, {1, 1, 1});
    auto prelu = build_op(node("prelu", {}, {"weight"}), t);
    EXPECT_THROW(prelu->plan(ports({2})), CoreError);                       // 3 slopes, 2 channels
    t["alpha"] = make_tensor({1}, {1});
    auto snake = build_op(node("snake", {}, {"alpha"}), t);
    EXPECT_THROW(snake->plan(ports({2})), CoreError);                       // snake needs [C]
    t["w2"] = make_tensor({2, 2}, {1, 1, 1, 1});
    NodeDef n = node("prelu");
    n.weights["weight"] = "w2";
    EXPECT_THROW(build_op(n, t), CoreError);                                // not a vector
}

} // namespace
} // namespace rill::test
