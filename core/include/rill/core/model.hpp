// A loaded, planned model: ops built from the graph, a topological schedule, the alignment delays
// the planner inserted, the graph hop and the latency. Immutable after construction; shared by
// all streams.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rill/core/graph.hpp"
#include "rill/core/op.hpp"
#include "rill/core/rill_file.hpp"

namespace rill {

// One op invocation in schedule order. Buffers are numbered: graph inputs first, then every op
// output.
struct PlanStep {
    std::string name;          // node name ("align(<node>.<i>)" for inserted delays)
    std::string op;            // op type ("linear+add+prelu" with folded epilogue stages)
    std::unique_ptr<Op> proto; // planned prototype, cloned per stream
    std::vector<uint32_t> in_buffers;
    std::vector<uint32_t> out_buffers;
    PrepareInfo ports;         // inputs/outputs; frame counts are filled per stream
};

struct BufferInfo {
    uint32_t channels = 0;
    Rate rate;
    int64_t latency = 0;
};

struct OutputBinding {
    uint32_t buffer = 0;
    uint32_t channels = 0;
};

class Model {
public:
    // fold_epilogues: let ops take the elementwise steps that follow them (EpilogueStage); the
    // same results either way, false only to compare.
    explicit Model(RillFile file, bool fold_epilogues = true);

    const GraphDef& graph() const { return graph_; }
    const TensorMap& tensors() const { return tensors_; }
    const std::vector<PlanStep>& steps() const { return steps_; }
    const std::vector<BufferInfo>& buffers() const { return buffers_; }
    const std::vector<OutputBinding>& outputs() const { return outputs_; }
    uint32_t input_channels() const { return input_channels_; }
    uint32_t output_channels() const { return output_channels_; }
    double sample_rate() const { return graph_.inputs[0].sample_rate; }
    int64_t hop() const { return hop_; }
    // Latency of the graph itself (frames at the model rate), before the block FIFO.
    int64_t graph_latency() const { return graph_latency_; }
    // Total latency of a stream: graph latency + (hop - 1) for the input FIFO.
    int64_t latency() const { return graph_latency_ + hop_ - 1; }
    uint64_t num_weights() const { return num_weights_; }
    uint64_t fingerprint() const { return fingerprint_; }
    std::string meta_string(const char* key) const;

private:
    void plan();
    void fold_epilogues(); // model_folding.cpp
    uint32_t add_buffer(const PortInfo& p);
    uint32_t aligned(uint32_t buffer, int64_t latency, const std::string& why);

    GraphDef graph_;
    TensorMap tensors_;
    std::vector<PlanStep> steps_;
    std::vector<BufferInfo> buffers_;
    std::vector<OutputBinding> outputs_;
    uint32_t input_channels_ = 0;
    uint32_t output_channels_ = 0;
    int64_t hop_ = 1;
    int64_t graph_latency_ = 0;
    uint64_t num_weights_ = 0;
    uint64_t fingerprint_ = 0;
};

} // namespace rill
