// Drives one op directly (no planner, no stream): build from a NodeDef, plan with given input
// ports, prepare a private arena, and process a whole signal in chunks of the given sizes.
// For core unit tests only; end-to-end tests go through the C API.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "rill/core/arena.hpp"
#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

namespace rill::test {

struct OpRun {
    std::vector<PortInfo> out_ports;
    std::vector<std::vector<float>> outputs; // [output][channel * frames + t]
    size_t out_frames = 0;
};

inline std::unique_ptr<Op> build_op(const NodeDef& node, const TensorMap& tensors,
                                    const GraphDef& graph = GraphDef{}) {
    const OpFactory* f = OpRegistry::instance().find(node.op);
    if (!f)
        throw std::runtime_error("unknown op " + node.op);
    OpBuildContext ctx{node, tensors, graph};
    return (*f)(ctx);
}

struct AlignedBuffer {
    explicit AlignedBuffer(size_t bytes)
        : ptr(static_cast<std::byte*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64))) {
        std::fill(ptr, ptr + (bytes + 63) / 64 * 64 + 64, std::byte{0});
    }
    ~AlignedBuffer() { std::free(ptr); }
    std::byte* ptr;
};

// inputs[i] is planar [channels * frames]; all inputs have the same rate and `frames` frames.
// `chunks` are the chunk sizes at the op's input rate (each a multiple of the op's stride); the
// sequence repeats until the input is consumed. Output frames per chunk follow from the rates.
inline OpRun run_op(Op& prototype, const std::vector<PortInfo>& in_ports,
                    const std::vector<std::vector<float>>& inputs, size_t frames,
                    std::vector<size_t> chunks, const std::vector<float>& params = {}) {
    OpRun run;
    run.out_ports = prototype.plan(in_ports);
    auto op = prototype.clone();
    const Rate in_rate = in_ports.empty() ? Rate{} : in_ports[0].rate;
    const Rate out_rate = run.out_ports[0].rate;
    // out frames per in frame = (out.num/out.den) / (in.num/in.den)
    const int64_t ratio_num = out_rate.num * in_rate.den, ratio_den = out_rate.den * in_rate.num;
    const size_t max_chunk = *std::max_element(chunks.begin(), chunks.end());
    PrepareInfo info;
    info.inputs = in_ports;
    info.outputs = run.out_ports;
    info.max_input_frames = max_chunk;
    info.max_output_frames = max_chunk * ratio_num / ratio_den;
    info.model_sample_rate = 16000;
    Arena sizing;
    op->prepare(sizing, info);
    AlignedBuffer state(sizing.state_bytes()), scratch(sizing.scratch_bytes());
    Arena arena(state.ptr, sizing.state_bytes(), scratch.ptr, sizing.scratch_bytes());
    op->prepare(arena, info);
    op->reset();

    const size_t total_out = frames * ratio_num / ratio_den;
    run.out_frames = total_out;
    for (const auto& p : run.out_ports)
        run.outputs.emplace_back(p.channels * total_out, 0.0f);

    std::vector<std::vector<float>> in_buf(inputs.size()), out_buf(run.out_ports.size());
    for (size_t i = 0; i < inputs.size(); ++i)
        in_buf[i].resize(in_ports[i].channels * max_chunk);
    for (size_t j = 0; j < run.out_ports.size(); ++j)
        out_buf[j].resize(run.out_ports[j].channels * std::max<size_t>(1, info.max_output_frames));

    ProcessContext ctx;
    ctx.params = params.data();
    size_t pos = 0, out_pos = 0, k = 0;
    while (pos < frames) {
        size_t n = std::min(chunks[k++ % chunks.size()], frames - pos);
        size_t n_out = n * ratio_num / ratio_den;
        std::vector<ConstView> in_views;
        std::vector<View> out_views;
        for (size_t i = 0; i < inputs.size(); ++i) {
            for (uint32_t c = 0; c < in_ports[i].channels; ++c)
                std::copy_n(inputs[i].data() + c * frames + pos, n, in_buf[i].data() + c * max_chunk);
            in_views.push_back(ConstView{in_buf[i].data(), in_ports[i].channels, max_chunk});
        }
        const size_t out_stride = std::max<size_t>(1, info.max_output_frames);
        for (size_t j = 0; j < run.out_ports.size(); ++j)
            out_views.push_back(View{out_buf[j].data(), run.out_ports[j].channels, out_stride});
        op->process(in_views.data(), out_views.data(), n, n_out, ctx);
        for (size_t j = 0; j < run.out_ports.size(); ++j)
            for (uint32_t c = 0; c < run.out_ports[j].channels; ++c)
                std::copy_n(out_buf[j].data() + c * out_stride, n_out,
                            run.outputs[j].data() + c * total_out + out_pos);
        pos += n;
        out_pos += n_out;
    }
    return run;
}

} // namespace rill::test
