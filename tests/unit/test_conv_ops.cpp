// Convolution family (conv1d, conv_transpose1d, linear): streamed output against naive offline
// formulas shifted by the planned latency, chunk-size invariance, pre-roll (input latency cd,
// with garbage in the pre-roll frames), and attribute / weight validation.
#include <gtest/gtest.h>

#include <cmath>

#include "strided_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

struct ConvCase {
    size_t cin = 1, cout = 1, k = 3;
    int64_t stride = 1, dilation = 1, groups = 1, left = 0, right = 0;
    int64_t cd = 0; // input latency given to plan()
    bool bias = true;
};

// Offline conv1d of x (planar [cin x T], zeros outside [0, T)) at output frame t, for any t:
// y[o, t] = b[o] + sum_{c in group(o), j} w[o, c, j] x[c, t*s + j*d - l].
double conv_reference(const ConvCase& cc, const std::vector<float>& w, const std::vector<float>& b,
                      const std::vector<float>& x, size_t frames, size_t o, int64_t t) {
    const size_t cin_g = cc.cin / cc.groups, cout_g = cc.cout / cc.groups, g = o / cout_g;
    double y = cc.bias ? b[o] : 0.0;
    for (size_t ci = 0; ci < cin_g; ++ci)
        for (size_t j = 0; j < cc.k; ++j) {
            const int64_t i = t * cc.stride + static_cast<int64_t>(j) * cc.dilation - cc.left;
            if (i >= 0 && i < static_cast<int64_t>(frames))
                y += double(w[(o * cin_g + ci) * cc.k + j]) * x[(g * cin_g + ci) * frames + i];
        }
    return y;
}

// Offline conv_transpose1d at output frame u (torch: yf[o, t*s + j*d] += x[c, t] w[c, o', j],
// y[u] = yf[u + p] + b[o]).
double conv_transpose_reference(const ConvCase& cc, int64_t padding, const std::vector<float>& w,
                                const std::vector<float>& b, const std::vector<float>& x,
                                size_t frames, size_t o, int64_t u) {
    const size_t cin_g = cc.cin / cc.groups, cout_g = cc.cout / cc.groups, g = o / cout_g;
    double y = cc.bias ? b[o] : 0.0;
    const int64_t pos = u + padding;
    for (size_t ci = 0; ci < cin_g; ++ci)
        for (size_t j = 0; j < cc.k; ++j) {
            const int64_t r = pos - static_cast<int64_t>(j) * cc.dilation;
            if (r < 0 || r % cc.stride != 0)
                continue;
            const int64_t t = r / cc.stride;
            if (t < static_cast<int64_t>(frames)) {
                const size_t c = g * cin_g + ci;
                y += double(w[(c * cout_g + o % cout_g) * cc.k + j]) * x[c * frames + t];
            }
        }
    return y;
}

void check_conv1d(const ConvCase& cc) {
    SCOPED_TRACE("k=" + std::to_string(cc.k) + " s=" + std::to_string(cc.stride) +
                 " d=" + std::to_string(cc.dilation) + " g=" + std::to_string(cc.groups) +
                 " pad=[" + std::to_string(cc.left) + "," + std::to_string(cc.right) +
                 "] cd=" + std::to_string(cc.cd));
    const size_t T = 301;
    auto w = random_signal(cc.cout * (cc.cin / cc.groups) * cc.k, 1, 0.5f);
    auto b = random_signal(cc.cout, 2, 0.5f);
    auto x = random_signal(cc.cin * T, 3);
    TensorMap t;
    t["weight"] = make_tensor({int64_t(cc.cout), int64_t(cc.cin / cc.groups), int64_t(cc.k)}, w);
    std::vector<std::string> roles = {"weight"};
    if (cc.bias) {
        t["bias"] = make_tensor({int64_t(cc.cout)}, b);
        roles.push_back("bias");
    }
    json attrs = {{"stride", cc.stride},
                  {"dilation", cc.dilation},
                  {"groups", cc.groups},
                  {"padding", {cc.left, cc.right}}};
    auto op = build_op(node("conv1d", attrs, roles), t);

    const size_t s = static_cast<size_t>(cc.stride);
    const size_t total = (cc.cd + T + cc.k * cc.dilation + 2 * s + s - 1) / s * s;
    auto input = with_preroll(x, cc.cin, T, static_cast<size_t>(cc.cd), total);
    const auto in_ports = ports({uint32_t(cc.cin)}, cc.cd);
    OpRun r = run_chunked(*op, in_ports, input, total, s);

    const int64_t D = (int64_t(cc.k) - 1) * cc.dilation - cc.left + cc.cd;
    ASSERT_EQ(r.out_ports[0].latency, D / cc.stride);
    ASSERT_EQ(r.out_ports[0].channels, cc.cout);
    ASSERT_EQ(r.out_ports[0].rate, Rate::make(1, cc.stride));
    const int64_t L = r.out_ports[0].latency;
    float worst = 0;
    for (size_t o = 0; o < cc.cout; ++o)
        for (size_t m = static_cast<size_t>(L); m < r.out_frames; ++m) {
            const double ref = conv_reference(cc, w, b, x, T, o, int64_t(m) - L);
            worst = std::max(worst, float(std::fabs(r.outputs[0][o * r.out_frames + m] - ref)));
        }
    EXPECT_LE(worst, 1e-5f);
}

TEST(ConvOps, Conv1dCausal) {
    check_conv1d({1, 2, 3, 1, 1, 1, 2, 0, 0, true});
}
TEST(ConvOps, Conv1dNonCausalSymmetric) {
    check_conv1d({2, 3, 5, 1, 1, 1, 2, 2, 0, true});
}
TEST(ConvOps, Conv1dNoPaddingNoBias) {
    check_conv1d({2, 2, 4, 1, 1, 1, 0, 0, 0, false});
}
TEST(ConvOps, Conv1dDilated) {
    check_conv1d({2, 2, 3, 1, 3, 1, 3, 3, 0, true});
}
TEST(ConvOps, Conv1dGroups) {
    check_conv1d({4, 6, 3, 1, 1, 2, 1, 1, 0, true});
}
TEST(ConvOps, Conv1dDepthwise) {
    check_conv1d({3, 3, 5, 1, 2, 3, 4, 4, 0, true});
}
TEST(ConvOps, Conv1dKernelOne) {
    check_conv1d({3, 2, 1, 1, 1, 1, 0, 0, 0, true});
}
TEST(ConvOps, Conv1dStride) {
    check_conv1d({1, 3, 4, 2, 1, 1, 1, 2, 0, true});
}
TEST(ConvOps, Conv1dStrideThreeOddPadding) {
    check_conv1d({2, 2, 5, 3, 1, 1, 2, 2, 0, true});
}

TEST(ConvOps, Conv1dPreRoll) {
    // Nonzero input latency: every phase of D mod stride, with dilation and groups.
    for (int64_t cd : {1, 2, 3, 4, 5, 7}) {
        check_conv1d({1, 2, 3, 1, 1, 1, 1, 1, cd, true});
        check_conv1d({2, 2, 4, 3, 1, 1, 1, 2, cd, true});
        check_conv1d({2, 4, 3, 2, 2, 2, 4, 0, cd, true});
    }
}

TEST(ConvOps, Conv1dStrideLargerThanKernel) {
    check_conv1d({1, 2, 2, 4, 1, 1, 0, 0, 1, true});
}

void check_conv_transpose(const ConvCase& cc, int64_t padding) {
    SCOPED_TRACE("transposed k=" + std::to_string(cc.k) + " s=" + std::to_string(cc.stride) +
                 " d=" + std::to_string(cc.dilation) + " g=" + std::to_string(cc.groups) +
                 " p=" + std::to_string(padding) + " cd=" + std::to_string(cc.cd));
    const size_t T = 203;
    const size_t cout_g = cc.cout / cc.groups;
    auto w = random_signal(cc.cin * cout_g * cc.k, 4, 0.5f);
    auto b = random_signal(cc.cout, 5, 0.5f);
    auto x = random_signal(cc.cin * T, 6);
    TensorMap t;
    t["weight"] = make_tensor({int64_t(cc.cin), int64_t(cout_g), int64_t(cc.k)}, w);
    std::vector<std::string> roles = {"weight"};
    if (cc.bias) {
        t["bias"] = make_tensor({int64_t(cc.cout)}, b);
        roles.push_back("bias");
    }
    json attrs = {{"stride", cc.stride},
                  {"dilation", cc.dilation},
                  {"groups", cc.groups},
                  {"padding", padding}};
    auto op = build_op(node("conv_transpose1d", attrs, roles), t);

    const size_t total = static_cast<size_t>(cc.cd) + T + cc.k * cc.dilation + 4;
    auto input = with_preroll(x, cc.cin, T, static_cast<size_t>(cc.cd), total);
    OpRun r = run_chunked(*op, ports({uint32_t(cc.cin)}, cc.cd), input, total, 1);

    const int64_t L = padding + cc.cd * cc.stride;
    ASSERT_EQ(r.out_ports[0].latency, L);
    ASSERT_EQ(r.out_ports[0].channels, cc.cout);
    ASSERT_EQ(r.out_ports[0].rate, Rate::make(cc.stride, 1));
    ASSERT_EQ(r.out_frames, total * static_cast<size_t>(cc.stride));
    float worst = 0;
    for (size_t o = 0; o < cc.cout; ++o)
        for (size_t u = static_cast<size_t>(L); u < r.out_frames; ++u) {
            const double ref = conv_transpose_reference(cc, padding, w, b, x, T, o, int64_t(u) - L);
            worst = std::max(worst, float(std::fabs(r.outputs[0][o * r.out_frames + u] - ref)));
        }
    EXPECT_LE(worst, 1e-5f);
}

TEST(ConvOps, ConvTransposeStrideOne) {
    check_conv_transpose({2, 3, 3, 1, 1, 1, 0, 0, 0, true}, 1);
}
TEST(ConvOps, ConvTransposeStrideTwo) {
    check_conv_transpose({2, 2, 4, 2, 1, 1, 0, 0, 0, true}, 1);
}
TEST(ConvOps, ConvTransposeStrideThreeDilated) {
    check_conv_transpose({1, 2, 3, 3, 2, 1, 0, 0, 0, false}, 0);
}
TEST(ConvOps, ConvTransposeGroups) {
    check_conv_transpose({4, 6, 4, 2, 1, 2, 0, 0, 0, true}, 2);
}
TEST(ConvOps, ConvTransposeStrideLargerThanKernel) {
    check_conv_transpose({2, 1, 2, 5, 1, 1, 0, 0, 0, true}, 0);
}
TEST(ConvOps, ConvTransposePreRoll) {
    for (int64_t cd : {1, 3, 6}) {
        check_conv_transpose({2, 2, 4, 2, 1, 1, 0, 0, cd, true}, 1);
        check_conv_transpose({3, 3, 6, 3, 1, 3, 0, 0, cd, true}, 2);
    }
}

TEST(ConvOps, StridedDownUpChainIsChunkInvariant) {
    // conv1d stride 2 (non-causal) into conv_transpose1d stride 2: the second op is planned with
    // the first one's output port, and chunking the first one's output at the halved rate.
    TensorMap t;
    t["weight"] = make_tensor({2, 1, 4}, random_signal(8, 7, 0.5f));
    t["bias"] = make_tensor({2}, {0.1f, -0.2f});
    t["tw"] = make_tensor({2, 1, 4}, random_signal(8, 8, 0.5f));
    auto down =
        build_op(node("conv1d", {{"stride", 2}, {"padding", {1, 2}}}, {"weight", "bias"}), t);
    NodeDef up_node = node("conv_transpose1d", {{"stride", 2}, {"padding", 1}});
    up_node.weights["weight"] = "tw";
    auto up = build_op(up_node, t);
    const size_t T = 400;
    auto x = random_signal(T, 9);
    OpRun a = run_chunked(*down, ports({1}), x, T, 2);
    std::vector<PortInfo> mid = a.out_ports;
    OpRun b = run_chunked(*up, mid, a.outputs[0], a.out_frames, 1);
    EXPECT_EQ(b.out_frames, T);
    EXPECT_EQ(b.out_ports[0].rate, Rate{});
    EXPECT_EQ(b.out_ports[0].latency, 1 + a.out_ports[0].latency * 2);
}

TEST(ConvOps, LinearMatchesReference) {
    const size_t cin = 3, cout = 4, T = 257;
    auto w = random_signal(cout * cin, 10);
    auto b = random_signal(cout, 11);
    auto x = random_signal(cin * T, 12);
    TensorMap t;
    t["weight"] = make_tensor({int64_t(cout), int64_t(cin)}, w);
    t["bias"] = make_tensor({int64_t(cout)}, b);
    auto op = build_op(node("linear", {}, {"weight", "bias"}), t);
    OpRun r = expect_chunk_invariant(*op, ports({cin}, 5), {x}, T);
    EXPECT_EQ(r.out_ports[0].latency, 5);
    EXPECT_EQ(r.out_ports[0].channels, cout);
    std::vector<float> ref(cout * T);
    for (size_t o = 0; o < cout; ++o)
        for (size_t i = 0; i < T; ++i) {
            double y = b[o];
            for (size_t c = 0; c < cin; ++c)
                y += double(w[o * cin + c]) * x[c * T + i];
            ref[o * T + i] = float(y);
        }
    EXPECT_LE(max_abs_diff(r.outputs[0], ref), 1e-5f);
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

TEST(ConvOps, BadConv1dAttrsThrow) {
    TensorMap t;
    t["weight"] = make_tensor({4, 2, 3}, std::vector<float>(24, 1.0f));
    t["bias"] = make_tensor({3}, {0, 0, 0});
    t["flat"] = make_tensor({4, 6}, std::vector<float>(24, 1.0f));
    expect_build_error("conv1d", {{"stride", 0}}, t, {"weight"}, "stride");
    expect_build_error("conv1d", {{"dilation", 0}}, t, {"weight"}, "dilation");
    expect_build_error("conv1d", {{"groups", 0}}, t, {"weight"}, "groups");
    expect_build_error("conv1d", {{"groups", 3}}, t, {"weight"}, "groups");
    expect_build_error("conv1d", {{"padding", {3, 0}}}, t, {"weight"}, "left padding");
    expect_build_error("conv1d", {{"padding", {-1, 0}}}, t, {"weight"}, "padding");
    expect_build_error("conv1d", {{"padding", {1, 1, 1}}}, t, {"weight"}, "padding");
    expect_build_error("conv1d", {{"stride", 1.5}}, t, {"weight"}, "integer");
    expect_build_error("conv1d", {}, t, {"weight", "bias"}, "bias");
    expect_build_error("conv1d", {}, t, {}, "missing weight 'weight'");
    NodeDef n = node("conv1d", {}, {});
    n.weights["weight"] = "flat";
    EXPECT_THROW(build_op(n, t), CoreError);
    NodeDef two = node("conv1d", {}, {"weight"}, 2);
    EXPECT_THROW(build_op(two, t), CoreError);
}

TEST(ConvOps, Conv1dInputChannelMismatchThrowsAtPlan) {
    TensorMap t;
    t["weight"] = make_tensor({4, 2, 3}, std::vector<float>(24, 1.0f));
    auto op = build_op(node("conv1d", {{"groups", 2}}, {"weight"}), t); // expects 4 channels
    EXPECT_THROW(op->plan(ports({3})), CoreError);
    EXPECT_NO_THROW(op->plan(ports({4})));
}

TEST(ConvOps, BadConvTransposeAttrsThrow) {
    TensorMap t;
    t["weight"] = make_tensor({4, 2, 3}, std::vector<float>(24, 1.0f));
    t["bias"] = make_tensor({4}, {0, 0, 0, 0}); // Cout is 2
    expect_build_error("conv_transpose1d", {{"stride", 0}}, t, {"weight"}, "stride");
    expect_build_error("conv_transpose1d", {{"groups", 3}}, t, {"weight"}, "groups");
    expect_build_error("conv_transpose1d", {{"padding", -1}}, t, {"weight"}, "padding");
    expect_build_error("conv_transpose1d", {{"stride", 2}, {"output_padding", 2}}, t, {"weight"},
                       "output_padding");
    expect_build_error("conv_transpose1d", {}, t, {"weight", "bias"}, "bias");
    auto op = build_op(node("conv_transpose1d", {{"groups", 2}}, {"weight"}), t);
    EXPECT_THROW(op->plan(ports({2})), CoreError);
    EXPECT_EQ(op->plan(ports({4}))[0].channels, 4u); // Cout = 2 per group * 2 groups
}

TEST(ConvOps, BadLinearThrows) {
    TensorMap t;
    t["weight"] = make_tensor({6}, std::vector<float>(6, 1.0f));
    t["w2"] = make_tensor({2, 3}, std::vector<float>(6, 1.0f));
    t["bias"] = make_tensor({3}, {0, 0, 0});
    expect_build_error("linear", {}, t, {"weight"}, "2-D");
    NodeDef n = node("linear", {}, {"bias"});
    n.weights["weight"] = "w2";
    EXPECT_THROW(build_op(n, t), CoreError); // bias has Cin, not Cout, values
    n.weights.erase("bias");
    auto op = build_op(n, t);
    EXPECT_THROW(op->plan(ports({2})), CoreError);
    EXPECT_EQ(op->plan(ports({3}))[0].channels, 2u);
}

} // namespace
} // namespace rill::test
