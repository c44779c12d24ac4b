// The planner: branch alignment with delay lines, hop from strides, one latency figure.
#include <gtest/gtest.h>

#include "rill/core/error.hpp"
#include "rill/core/model.hpp"

namespace rill {
namespace {

using nlohmann::json;

Model build(const std::string& graph_json, TensorMap tensors) {
    RillFile f;
    f.graph = graph_from_json(json::parse(graph_json));
    f.tensors = std::move(tensors);
    return Model(std::move(f));
}

TEST(Planner, AlignsResidualSkipAndReportsOneLatency) {
    // conv k5 pad (1, 3): look-ahead 3; the skip must be delayed by 3.
    TensorMap t;
    t["w"] = make_tensor({1, 1, 5}, {0, 0, 0, 0, 1});
    Model m = build(R"({"inputs": [{"name": "x", "channels": 1, "sample_rate": 8000}],
        "outputs": [{"name": "y", "channels": 1, "source": "sum"}],
        "nodes": [{"name": "c", "op": "conv1d", "inputs": ["x"], "attrs": {"padding": [1, 3]},
                   "weights": {"weight": "w"}},
                  {"name": "sum", "op": "add", "inputs": ["c", "x"]}]})",
                    t);
    EXPECT_EQ(m.graph_latency(), 3);
    EXPECT_EQ(m.hop(), 1);
    EXPECT_EQ(m.latency(), 3);
    int delays = 0;
    for (const auto& s : m.steps())
        delays += s.op == "delay";
    EXPECT_EQ(delays, 1);
}

TEST(Planner, HopIsTheLcmOfStrides) {
    TensorMap t;
    t["a"] = make_tensor({1, 1, 2}, {1, 1});
    t["b"] = make_tensor({1, 1, 3}, {1, 1, 1});
    t["u"] = make_tensor({1, 1, 6}, {1, 1, 1, 1, 1, 1});
    Model m = build(R"({"inputs": [{"name": "x", "channels": 1, "sample_rate": 8000}],
        "outputs": [{"name": "y", "channels": 1, "source": "up"}],
        "nodes": [{"name": "d2", "op": "conv1d", "inputs": ["x"], "attrs": {"stride": 2},
                   "weights": {"weight": "a"}},
                  {"name": "d3", "op": "conv1d", "inputs": ["d2"], "attrs": {"stride": 3},
                   "weights": {"weight": "b"}},
                  {"name": "up", "op": "conv_transpose1d", "inputs": ["d3"], "attrs": {"stride": 6},
                   "weights": {"weight": "u"}}]})",
                    t);
    EXPECT_EQ(m.hop(), 6);
    EXPECT_EQ(m.latency(), m.graph_latency() + 5);
}

TEST(Planner, RejectsMixedRates) {
    TensorMap t;
    t["a"] = make_tensor({1, 1, 2}, {1, 1});
    EXPECT_THROW(build(R"({"inputs": [{"name": "x", "channels": 1, "sample_rate": 8000}],
        "outputs": [{"name": "y", "channels": 1, "source": "sum"}],
        "nodes": [{"name": "d2", "op": "conv1d", "inputs": ["x"], "attrs": {"stride": 2},
                   "weights": {"weight": "a"}},
                  {"name": "sum", "op": "add", "inputs": ["d2", "x"]}]})",
                       t),
                 CoreError);
}

TEST(Planner, RejectsOutputChannelMismatch) {
    EXPECT_THROW(build(R"({"inputs": [{"name": "x", "channels": 1, "sample_rate": 8000}],
        "outputs": [{"name": "y", "channels": 2, "source": "r"}],
        "nodes": [{"name": "r", "op": "relu", "inputs": ["x"]}]})",
                       {}),
                 CoreError);
}

} // namespace
} // namespace rill
