// Helpers for the unit tests of strided, stateful ops (conv family, STFT): stream inputs whose
// pre-roll frames hold garbage, and chunk-invariance runs whose chunks are multiples of a stride.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "op_checks.hpp"

namespace rill::test {

// Stream input of `total` frames per channel: cd pre-roll frames of large garbage (the op must
// ignore them), then x (planar [channels x frames]), then zeros.
inline std::vector<float> with_preroll(const std::vector<float>& x, size_t channels, size_t frames,
                                       size_t cd, size_t total) {
    std::vector<float> s(channels * total, 0.0f);
    const auto garbage = random_signal(channels * cd + 1, 99, 10.0f, 3.0f);
    for (size_t c = 0; c < channels; ++c) {
        for (size_t i = 0; i < cd; ++i)
            s[c * total + i] = garbage[c * cd + i];
        std::copy_n(x.begin() + c * frames, frames, s.begin() + c * total + cd);
    }
    return s;
}

// Runs op on the whole signal at once and in several chunk patterns (multiples of `stride`);
// every run must give the same output. Returns the whole-signal run.
inline OpRun run_chunked(Op& op, const std::vector<PortInfo>& in_ports,
                         const std::vector<float>& input, size_t frames, size_t stride) {
    OpRun whole = run_op(op, in_ports, {input}, frames, {frames});
    const std::vector<std::vector<size_t>> patterns = {
        {stride}, {7 * stride}, {stride, 3 * stride, 64 * stride}, {13 * stride, 2 * stride}};
    for (const auto& chunks : patterns) {
        OpRun r = run_op(op, in_ports, {input}, frames, chunks);
        EXPECT_LE(max_abs_diff(r.outputs[0], whole.outputs[0]), 1e-6f)
            << "chunks starting with " << chunks[0];
    }
    return whole;
}

} // namespace rill::test
