// Routing: concat / split / slice / identity channel maps, the delay line (plain and planner
// alignment), and the checks on ports and attributes.
#include <gtest/gtest.h>

#include "op_checks.hpp"

namespace rill::test {
namespace {

using nlohmann::json;

// Planar signal whose value encodes (channel, frame): 1000 * c + t.
std::vector<float> ramp(size_t channels, size_t frames) {
    std::vector<float> v(channels * frames);
    for (size_t c = 0; c < channels; ++c)
        for (size_t t = 0; t < frames; ++t)
            v[c * frames + t] = float(1000 * c + t);
    return v;
}

std::vector<float> channels_of(const std::vector<float>& x, size_t frames, size_t begin,
                               size_t end) {
    return std::vector<float>(x.begin() + begin * frames, x.begin() + end * frames);
}

TEST(RoutingOps, ConcatSplitSliceIdentity) {
    const size_t T = 200;
    const auto a = ramp(2, T), b = random_signal(3 * T, 1);
    auto concat = build_op(node("concat", {}, {}, 2), {});
    OpRun r = expect_chunk_invariant(*concat, ports({2, 3}), {a, b}, T);
    EXPECT_EQ(r.out_ports[0].channels, 5u);
    EXPECT_EQ(channels_of(r.outputs[0], T, 0, 2), a);
    EXPECT_EQ(channels_of(r.outputs[0], T, 2, 5), b);

    const auto x = ramp(6, T);
    auto split = build_op(node("split", {{"sizes", {1, 3, 2}}}), {});
    EXPECT_EQ(split->num_outputs(), 3u);
    r = expect_chunk_invariant(*split, ports({6}), {x}, T);
    ASSERT_EQ(r.outputs.size(), 3u);
    EXPECT_EQ(r.outputs[0], channels_of(x, T, 0, 1));
    EXPECT_EQ(r.outputs[1], channels_of(x, T, 1, 4));
    EXPECT_EQ(r.outputs[2], channels_of(x, T, 4, 6));

    auto slice = build_op(node("slice", {{"start", 1}, {"end", -2}}), {});
    r = expect_chunk_invariant(*slice, ports({6}), {x}, T);
    EXPECT_EQ(r.outputs[0], channels_of(x, T, 1, 4));
    auto tail = build_op(node("slice", {{"start", -2}}), {});
    EXPECT_EQ(run_op(*tail, ports({6}), {x}, T, {T}).outputs[0], channels_of(x, T, 4, 6));

    auto id = build_op(node("identity"), {});
    EXPECT_EQ(expect_chunk_invariant(*id, ports({6}), {x}, T).outputs[0], x);
}

TEST(RoutingOps, DelayShiftsWithoutChangingLatency) {
    const size_t C = 2, T = 600;
    const auto x = random_signal(C * T, 2);
    for (int64_t d : {0, 1, 5, 64, 700}) {
        auto op = build_op(node("delay", {{"frames", d}}), {});
        OpRun r = expect_chunk_invariant(*op, ports({C}, 3), {x}, T);
        EXPECT_EQ(r.out_ports[0].latency, 3);
        for (size_t c = 0; c < C; ++c)
            for (size_t t = 0; t < T; ++t) {
                // the first 3 input frames are pre-roll and enter the line as zeros
                const int64_t src = int64_t(t) - d;
                const float want = src < 3 ? 0.0f : x[c * T + size_t(src)];
                ASSERT_EQ(r.outputs[0][c * T + t], want) << "d=" << d << " t=" << t;
            }
    }
}

TEST(RoutingOps, AlignDelayAddsLatency) {
    const size_t T = 300;
    const auto x = random_signal(T, 3);
    auto op = build_op(node("delay", {{"frames", 17}, {"align", true}}), {});
    OpRun r = expect_chunk_invariant(*op, ports({1}, 4), {x}, T);
    EXPECT_EQ(r.out_ports[0].latency, 21);
    for (size_t t = 0; t < T; ++t) // a pure shift, pre-roll included
        ASSERT_EQ(r.outputs[0][t], t < 17 ? 0.0f : x[t - 17]);
}

TEST(RoutingOps, RejectsBadPortsAndAttributes) {
    auto concat = build_op(node("concat", {}, {}, 2), {});
    EXPECT_THROW(concat->plan({PortInfo{1, Rate{}, 0}, PortInfo{1, Rate{}, 2}}), CoreError);
    EXPECT_THROW(concat->plan({PortInfo{1, Rate{}, 0}, PortInfo{1, Rate::make(1, 2), 0}}), CoreError);
    EXPECT_THROW(build_op(node("split"), {}), CoreError);
    EXPECT_THROW(build_op(node("split", {{"sizes", {2, 0}}}), {}), CoreError);
    auto split = build_op(node("split", {{"sizes", {2, 2}}}), {});
    EXPECT_THROW(split->plan(ports({5})), CoreError);
    auto slice = build_op(node("slice", {{"start", 3}, {"end", 2}}), {});
    EXPECT_THROW(slice->plan(ports({4})), CoreError);
    auto wide = build_op(node("slice", {{"start", 0}, {"end", 9}}), {});
    EXPECT_THROW(wide->plan(ports({4})), CoreError);
    EXPECT_THROW(build_op(node("delay"), {}), CoreError);
    EXPECT_THROW(build_op(node("delay", {{"frames", -1}}), {}), CoreError);
    EXPECT_THROW(build_op(node("delay", {{"frames", 2}, {"align", "yes"}}), {}), CoreError);
    EXPECT_THROW(build_op(node("identity", {}, {}, 2), {}), CoreError);
}

} // namespace
} // namespace rill::test
