// The op interface. An Op is built from a NodeDef at model load (validating attrs and weights),
// planned once (channels, rate and latency of its outputs from those of its inputs), then cloned
// into each stream, where prepare() takes its memory from the stream's arena.
//
// Streaming contract (see docs/streaming.md): the stream runs the graph on chunks whose frame
// counts are multiples of the graph hop, so at every port the chunk holds a whole number of
// frames, and every op with stride s sees a multiple of s input frames. process() must be
// noexcept, allocation-free and touch only memory taken in prepare().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rill/core/arena.hpp"
#include "rill/core/graph.hpp"
#include "rill/core/rate.hpp"
#include "rill/core/signal.hpp"
#include "rill/core/tensor.hpp"

namespace rill {

// What flows on an edge.
struct PortInfo {
    uint32_t channels = 0;
    Rate rate;           // relative to the model input rate
    int64_t latency = 0; // frames (at this port's rate) by which the stream lags offline
};

// Given to prepare(): the planned ports and the largest chunk this stream will run.
struct PrepareInfo {
    std::vector<PortInfo> inputs;
    std::vector<PortInfo> outputs;
    size_t max_input_frames = 0;  // per chunk, at the op's input rate (multiple of its stride)
    size_t max_output_frames = 0; // per chunk, at the op's output rate
    double model_sample_rate = 0;
};

// Given to process().
struct ProcessContext {
    const float* params = nullptr; // current values of the model parameters, by index
};

// An elementwise step that can run inside the step that produces its input, on each result
// while it is still in registers. Model folds it in when nothing else reads that input:
//   AddOperand  y = x + other    (add of two inputs, no broadcast; `other` becomes the
//                                 producer's last input port)
//   Slope       y = max(x, 0) + a_c min(x, 0)   (prelu, leaky_relu; a per channel or one)
// The producer computes the same floats as the two steps did.
struct EpilogueStage {
    enum class Kind { AddOperand, Slope } kind = Kind::AddOperand;
    Tensor slope; // Slope: [C] or [1]
};

class Op {
public:
    virtual ~Op() = default;

    // Per-stream copy sharing the immutable weights (they are held by shared storage).
    virtual std::unique_ptr<Op> clone() const = 0;

    // Number of outputs this op produces (default 1; split produces several).
    virtual uint32_t num_outputs() const { return 1; }

    // Output ports from input ports. Called once at load, after the planner has aligned the
    // latencies of inputs that share a rate. Throws CoreError{Format} for inconsistent shapes.
    // May remember what it needs (e.g. input latency for the pre-roll).
    virtual std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) = 0;

    // Takes memory (see Arena). Called twice per stream: sizing pass, then real pass.
    virtual void prepare(Arena& arena, const PrepareInfo& info) = 0;

    // This (planned) op as an epilogue stage of its producer, or nothing (the default).
    virtual std::optional<EpilogueStage> as_epilogue_stage() const { return std::nullopt; }

    // Takes `stage` into this (planned) op's outputs, after the stages it took before; false,
    // changing nothing, when it cannot.
    virtual bool absorb(const EpilogueStage&) { return false; }

    // Where input `input`'s next `frames` frames should be written, so that this op finds them
    // in place instead of copying them (e.g. after a convolution's cached history); an empty
    // view (the default) leaves the stream's buffer. The stream asks just before the input's
    // producer runs, when this op is that buffer's only reader; real-time safe.
    virtual View input_destination(uint32_t /*input*/, size_t /*frames*/) noexcept { return {}; }

    // Called after the state region has been zeroed; sets non-zero initial state if any.
    virtual void reset() noexcept {}

    // in[i] has in_frames frames; out[j] receives out_frames frames.
    virtual void process(const ConstView* in, const View* out, size_t in_frames,
                         size_t out_frames, const ProcessContext& ctx) noexcept = 0;
};

// Everything an op factory may read while building an op.
struct OpBuildContext {
    const NodeDef& node;
    const TensorMap& tensors;
    const GraphDef& graph; // for parameter names (FiLM)

    // Attribute access with clear errors ("node 'enc' (conv1d): attribute 'stride' ...").
    int64_t attr_int(const char* key, int64_t fallback) const;
    int64_t attr_int_required(const char* key) const;
    double attr_float(const char* key, double fallback) const;
    std::string attr_string(const char* key, const std::string& fallback) const;
    std::vector<int64_t> attr_ints(const char* key, const std::vector<int64_t>& fallback) const;
    std::vector<double> attr_floats(const char* key, const std::vector<double>& fallback) const;
    bool has_attr(const char* key) const;
    // Index of the model parameter `name` (named by attribute `key`); fails if there is none.
    uint32_t param_index(const std::string& name, const char* key) const;

    // Weight by role; throws if missing (or returns nullptr from optional_weight). When `shape`
    // is non-empty it must match exactly (-1 = any size on that axis).
    const Tensor& weight(const char* role, const std::vector<int64_t>& shape = {}) const;
    const Tensor* optional_weight(const char* role, const std::vector<int64_t>& shape = {}) const;

    // Number of inputs must be in [lo, hi].
    void expect_inputs(size_t lo, size_t hi) const;

    [[noreturn]] void fail(const std::string& what) const; // CoreError{Format} prefixed with node
    std::string where() const; // "node 'enc' (conv1d)"
};

using OpFactory = std::function<std::unique_ptr<Op>(const OpBuildContext&)>;

// Op name -> factory. All families register in ops/registry.cpp (explicit, no static init).
class OpRegistry {
public:
    static const OpRegistry& instance();
    void add(const std::string& name, OpFactory factory);
    const OpFactory* find(const std::string& name) const;
    std::vector<std::string> names() const;

private:
    std::map<std::string, OpFactory> factories_;
};

} // namespace rill
