// Elementwise ops (add, sub, mul, gate with broadcast) and FiLM by model parameters.
#include <gtest/gtest.h>

#include <cmath>

#include "op_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST(ElementwiseOps, ArithmeticWithBroadcast) {
    const size_t T = 150;
    const auto a = random_signal(2 * T, 1), b = random_signal(2 * T, 2), s = random_signal(T, 3);
    auto add = build_op(node("add", {}, {}, 3), {});
    OpRun r = expect_chunk_invariant(*add, ports({2, 1, 2}), {a, s, b}, T);
    for (size_t c = 0; c < 2; ++c)
        for (size_t t = 0; t < T; ++t)
            ASSERT_FLOAT_EQ(r.outputs[0][c * T + t], a[c * T + t] + s[t] + b[c * T + t]);
    auto sub = build_op(node("sub", {}, {}, 2), {});
    r = expect_chunk_invariant(*sub, ports({1, 2}), {s, a}, T);
    EXPECT_EQ(r.out_ports[0].channels, 2u);
    for (size_t c = 0; c < 2; ++c)
        for (size_t t = 0; t < T; ++t)
            ASSERT_FLOAT_EQ(r.outputs[0][c * T + t], s[t] - a[c * T + t]);
    auto mul = build_op(node("mul", {}, {}, 2), {});
    r = expect_chunk_invariant(*mul, ports({2, 2}), {a, b}, T);
    for (size_t i = 0; i < 2 * T; ++i)
        ASSERT_FLOAT_EQ(r.outputs[0][i], a[i] * b[i]);
}

TEST(ElementwiseOps, GateOneAndTwoInputs) {
    const size_t T = 100;
    const auto x = random_signal(4 * T, 4);
    auto glu = build_op(node("gate"), {});
    OpRun r = expect_chunk_invariant(*glu, ports({4}), {x}, T);
    EXPECT_EQ(r.out_ports[0].channels, 2u);
    for (size_t c = 0; c < 2; ++c)
        for (size_t t = 0; t < T; ++t)
            ASSERT_NEAR(r.outputs[0][c * T + t], x[c * T + t] * sigmoid(x[(c + 2) * T + t]), 1e-6f);
    const auto g = random_signal(T, 5);
    auto gate2 = build_op(node("gate", {}, {}, 2), {});
    r = expect_chunk_invariant(*gate2, ports({4, 1}), {x, g}, T);
    for (size_t c = 0; c < 4; ++c)
        for (size_t t = 0; t < T; ++t)
            ASSERT_NEAR(r.outputs[0][c * T + t], x[c * T + t] * sigmoid(g[t]), 1e-6f);
}

TEST(ElementwiseOps, RejectsBadInputs) {
    EXPECT_THROW(build_op(node("add"), {}), CoreError);           // one input
    EXPECT_THROW(build_op(node("sub", {}, {}, 3), {}), CoreError); // three inputs
    EXPECT_THROW(build_op(node("gate", {}, {}, 3), {}), CoreError);
    auto add = build_op(node("add", {}, {}, 2), {});
    EXPECT_THROW(add->plan(ports({2, 3})), CoreError);
    EXPECT_THROW(add->plan({PortInfo{2, Rate{}, 1}, PortInfo{2, Rate{}, 0}}), CoreError);
    auto glu = build_op(node("gate"), {});
    EXPECT_THROW(glu->plan(ports({3})), CoreError);
}

GraphDef graph_with_params() {
    GraphDef g;
    g.params = {ParamDef{"drive", 0, 1, 0.5f, ""}, ParamDef{"tone", 0, 1, 0.2f, ""}};
    return g;
}

TEST(FilmOps, ModulatesByNamedParameters) {
    const GraphDef g = graph_with_params();
    TensorMap t;
    // C = 2, P = 1 ("tone" only): gamma = [2p + 1, -p], beta = [0.5, p + 0.1]
    t["weight"] = make_tensor({4, 1}, {2, -1, 0, 1});
    t["bias"] = make_tensor({4}, {1, 0, 0.5f, 0.1f});
    auto op = build_op(node("film", {{"params", {"tone"}}}, {"weight", "bias"}), t, g);
    const size_t T = 64;
    const auto x = random_signal(2 * T, 6);
    const std::vector<float> params = {0.9f, 0.3f};
    OpRun r = expect_chunk_invariant(*op, ports({2}), {x}, T, params);
    for (size_t i = 0; i < T; ++i) {
        ASSERT_NEAR(r.outputs[0][i], (2 * 0.3f + 1) * x[i] + 0.5f, 1e-6f);
        ASSERT_NEAR(r.outputs[0][T + i], -0.3f * x[T + i] + 0.3f + 0.1f, 1e-6f);
    }
    // Default: all parameters in order, weight [2C, 2].
    t["weight"] = make_tensor({4, 2}, {1, 0, 0, 1, 0, 0, 0, 0});
    auto all = build_op(node("film", {}, {"weight"}), t, g);
    r = run_op(*all, ports({2}), {x}, T, {T}, params);
    EXPECT_NEAR(r.outputs[0][0], 0.9f * x[0], 1e-6f);
    EXPECT_NEAR(r.outputs[0][T], 0.3f * x[T], 1e-6f);
}

TEST(FilmOps, RejectsBadParametersAndShapes) {
    const GraphDef g = graph_with_params();
    TensorMap t;
    t["weight"] = make_tensor({4, 2}, std::vector<float>(8, 0));
    EXPECT_THROW(build_op(node("film", {{"params", {"volume"}}}, {"weight"}), t, g), CoreError);
    EXPECT_THROW(build_op(node("film", {{"params", {"tone"}}}, {"weight"}), t, g), CoreError);
    EXPECT_THROW(build_op(node("film", {}, {"weight"}), t, GraphDef{}), CoreError); // no params
    t["odd"] = make_tensor({3, 2}, std::vector<float>(6, 0));
    NodeDef n = node("film");
    n.weights["weight"] = "odd";
    EXPECT_THROW(build_op(n, t, g), CoreError);
    auto op = build_op(node("film", {}, {"weight"}), t, g);
    EXPECT_THROW(op->plan(ports({3})), CoreError);
}

} // namespace
} // namespace rill::test
