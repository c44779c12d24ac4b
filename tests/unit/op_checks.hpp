// Helpers for the per-op unit tests on top of op_harness.hpp: nodes from JSON, random signals,
// chunk-invariance checks.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "op_harness.hpp"

namespace rill::test {

// NodeDef named "n" with op `op`, `num_inputs` inputs and the given attrs / weight roles (each
// role refers to the tensor of the same name).
inline NodeDef node(const std::string& op, const nlohmann::json& attrs = nlohmann::json::object(),
                    const std::vector<std::string>& weight_roles = {}, size_t num_inputs = 1) {
    NodeDef n;
    n.name = "n";
    n.op = op;
    for (size_t i = 0; i < num_inputs; ++i)
        n.inputs.push_back("x" + std::to_string(i));
    n.attrs = attrs;
    for (const auto& r : weight_roles)
        n.weights[r] = r;
    return n;
}

inline std::vector<float> random_signal(size_t n, unsigned seed, float scale = 1.0f,
                                        float offset = 0.0f) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v)
        x = offset + scale * d(gen);
    return v;
}

inline std::vector<PortInfo> ports(const std::vector<uint32_t>& channels, int64_t latency = 0) {
    std::vector<PortInfo> p;
    for (uint32_t c : channels)
        p.push_back(PortInfo{c, Rate{}, latency});
    return p;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    float m = 0.0f;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

// Runs the op over the whole signal at once and in several chunk patterns; every output must
// match the whole-signal run exactly (ops are causal and sequential). Returns the whole run.
inline OpRun expect_chunk_invariant(Op& op, const std::vector<PortInfo>& in_ports,
                                    const std::vector<std::vector<float>>& inputs, size_t frames,
                                    const std::vector<float>& params = {}) {
    OpRun whole = run_op(op, in_ports, inputs, frames, {frames}, params);
    const std::vector<std::vector<size_t>> patterns = {{1}, {7}, {64}, {3, 1, 50, 13}, {480, 513}};
    for (const auto& chunks : patterns) {
        OpRun r = run_op(op, in_ports, inputs, frames, chunks, params);
        EXPECT_EQ(r.outputs.size(), whole.outputs.size());
        for (size_t o = 0; o < std::min(r.outputs.size(), whole.outputs.size()); ++o)
            EXPECT_LE(max_abs_diff(r.outputs[o], whole.outputs[o]), 1e-6f)
                << "output " << o << ", chunk pattern starting " << chunks[0];
    }
    return whole;
}

} // namespace rill::test
