// Epilogue folding (graph/model_folding.cpp): which steps fold into which, and that a folded
// model streams the same bits as the unfolded one.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "rill/core/model.hpp"
#include "rill/core/stream.hpp"

namespace rill {
namespace {

using nlohmann::json;

Tensor random_tensor(std::mt19937& rng, std::vector<int64_t> shape, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    size_t n = 1;
    for (int64_t s : shape)
        n *= static_cast<size_t>(s);
    std::vector<float> v(n);
    for (float& x : v)
        x = d(rng);
    return make_tensor(std::move(shape), std::move(v));
}

// x [16] -> in (linear 16->40) -> act (prelu, per channel)  -> out (linear 40->16)
//   -> res = add(out, x) -> skip (linear 16->16) -> sum = add(x, skip) -> gate (prelu, one slope)
//   -> shared (linear 16->16), read twice: twice = add(shared, leaky(shared)): stays as it is.
// Output y = [gate | twice] (32 channels).
std::shared_ptr<const Model> build(bool fold) {
    std::mt19937 rng(11);
    TensorMap t;
    t["w_in"] = random_tensor(rng, {40, 16}, 0.3f);
    t["b_in"] = random_tensor(rng, {40}, 0.1f);
    t["a"] = random_tensor(rng, {40}, 0.3f);
    t["w_out"] = random_tensor(rng, {16, 40}, 0.2f);
    t["w_skip"] = random_tensor(rng, {16, 16}, 0.3f);
    t["a1"] = make_tensor({1}, {0.2f});
    t["w_shared"] = random_tensor(rng, {16, 16}, 0.3f);
    RillFile f;
    f.graph = graph_from_json(json::parse(R"({
        "inputs": [{"name": "x", "channels": 16, "sample_rate": 16000}],
        "outputs": [{"name": "y", "channels": 32, "source": "cat"}],
        "nodes": [
          {"name": "in", "op": "linear", "inputs": ["x"], "weights": {"weight": "w_in", "bias": "b_in"}},
          {"name": "act", "op": "prelu", "inputs": ["in"], "weights": {"weight": "a"}},
          {"name": "out", "op": "linear", "inputs": ["act"], "weights": {"weight": "w_out"}},
          {"name": "res", "op": "add", "inputs": ["out", "x"]},
          {"name": "skip", "op": "linear", "inputs": ["res"], "weights": {"weight": "w_skip"}},
          {"name": "sum", "op": "add", "inputs": ["x", "skip"]},
          {"name": "gate", "op": "prelu", "inputs": ["sum"], "weights": {"weight": "a1"}},
          {"name": "shared", "op": "linear", "inputs": ["gate"], "weights": {"weight": "w_shared"}},
          {"name": "leak", "op": "leaky_relu", "inputs": ["shared"]},
          {"name": "twice", "op": "add", "inputs": ["shared", "leak"]},
          {"name": "cat", "op": "concat", "inputs": ["gate", "twice"]}]})"));
    f.tensors = std::move(t);
    return std::make_shared<const Model>(std::move(f), fold);
}

// x [16] -> dw (depthwise conv1d k 3, dilation 2) -> act (prelu) -> pw (conv1d k 1, 16 -> 16)
//   -> leak (leaky_relu) = y
std::shared_ptr<const Model> build_convs(bool fold) {
    std::mt19937 rng(13);
    TensorMap t;
    t["w_dw"] = random_tensor(rng, {16, 1, 3}, 0.5f);
    t["b_dw"] = random_tensor(rng, {16}, 0.1f);
    t["a"] = random_tensor(rng, {16}, 0.3f);
    t["w_pw"] = random_tensor(rng, {16, 16, 1}, 0.3f);
    RillFile f;
    f.graph = graph_from_json(json::parse(R"({
        "inputs": [{"name": "x", "channels": 16, "sample_rate": 16000}],
        "outputs": [{"name": "y", "channels": 16, "source": "leak"}],
        "nodes": [
          {"name": "dw", "op": "conv1d", "inputs": ["x"],
           "attrs": {"groups": 16, "dilation": 2, "padding": [4, 0]},
           "weights": {"weight": "w_dw", "bias": "b_dw"}},
          {"name": "act", "op": "prelu", "inputs": ["dw"], "weights": {"weight": "a"}},
          {"name": "pw", "op": "conv1d", "inputs": ["act"], "weights": {"weight": "w_pw"}},
          {"name": "leak", "op": "leaky_relu", "inputs": ["pw"], "attrs": {"negative_slope": 0.1}}]})"));
    f.tensors = std::move(t);
    return std::make_shared<const Model>(std::move(f), fold);
}

std::vector<std::vector<float>> random_signal(size_t channels, size_t frames, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<std::vector<float>> x(channels, std::vector<float>(frames));
    for (auto& c : x)
        for (float& v : c)
            v = d(rng);
    return x;
}

// The whole signal through `s` in blocks of `block` frames.
std::vector<std::vector<float>> stream(Stream& s, const std::vector<std::vector<float>>& x,
                                       size_t out_ch, size_t block) {
    const size_t frames = x[0].size();
    std::vector<std::vector<float>> y(out_ch, std::vector<float>(frames));
    std::vector<const float*> in(x.size());
    std::vector<float*> out(out_ch);
    for (size_t t = 0; t < frames; t += block) {
        const size_t n = std::min(block, frames - t);
        for (size_t c = 0; c < x.size(); ++c)
            in[c] = x[c].data() + t;
        for (size_t c = 0; c < out_ch; ++c)
            out[c] = y[c].data() + t;
        s.process(in.data(), out.data(), n);
    }
    return y;
}

std::vector<std::string> step_ops(const Model& m) {
    std::vector<std::string> ops;
    for (const PlanStep& s : m.steps())
        ops.push_back(s.op);
    return ops;
}

TEST(EpilogueFolding, FoldsAddsAndSlopesIntoTheLinearThatFeedsThem) {
    EXPECT_EQ(step_ops(*build(true)),
              (std::vector<std::string>{"linear+prelu", "linear+add", "linear+add+prelu", "linear",
                                        "leaky_relu", "add", "concat"}));
    EXPECT_EQ(step_ops(*build(false)).size(), 11u);
    EXPECT_EQ(step_ops(*build_convs(true)),
              (std::vector<std::string>{"conv1d+prelu", "conv1d+leaky_relu"}));
}

TEST(EpilogueFolding, StreamsTheSameBitsAsTheUnfoldedModel) {
    const size_t frames = 700, out_ch = 32;
    const auto x = random_signal(16, frames, 12);
    auto run = [&](bool fold, size_t block) {
        Stream s(build(fold), StreamSpec{});
        return stream(s, x, out_ch, block);
    };
    const auto reference = run(false, frames);
    for (size_t block : {1, 5, 64, 700})
        EXPECT_EQ(run(true, block), reference) << "block " << block;
}

TEST(EpilogueFolding, ConvolutionsStreamTheSameBitsAsUnfolded) {
    const auto x = random_signal(16, 500, 14);
    Stream unfolded(build_convs(false), StreamSpec{});
    const auto reference = stream(unfolded, x, 16, 500);
    for (size_t block : {1, 7, 500}) {
        Stream folded(build_convs(true), StreamSpec{});
        EXPECT_EQ(stream(folded, x, 16, block), reference) << "block " << block;
    }
}

} // namespace
} // namespace rill
