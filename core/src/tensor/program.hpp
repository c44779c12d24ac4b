// A tensor program: a fixed list of steps over static-shape tensors, run once per frame of a
// stream (one STFT frame, one audio window, one video frame), with state tensors carried from
// one frame to the next. Imported ONNX/TFLite graphs become tensor programs; the op
// `tensor_program` (ops/tensor_program.cpp) runs one inside a streaming graph.
//
// Description (the node's attrs in a .rill file):
//   inputs  [{value, shape}]          filled from the node's input ports (one port each)
//   outputs [{value}]                 copied to the node's output ports
//   state   [{value, shape, next}]    starts at 0; after each frame `value` <- `next`
//   steps   [{op, inputs, outputs, attrs}]   in order; "" marks an absent optional input
// Constant tensors are the node's weights: role = value name.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rill/core/arena.hpp"
#include "rill/core/tensor.hpp"

#include "kernel.hpp"

namespace rill::tensor {

class Program {
public:
    // Validates everything and builds the kernels; throws CoreError naming the step.
    Program(const nlohmann::json& desc, const std::map<std::string, const Tensor*>& constants);
    // The same with the constants held by name (an importer's output, for tools and tests).
    Program(const nlohmann::json& desc, const TensorMap& constants);

    size_t input_count() const { return inputs_.size(); }
    size_t output_count() const { return outputs_.size(); }
    int64_t input_size(size_t i) const { return values_[inputs_[i]].size; }
    int64_t output_size(size_t i) const { return values_[outputs_[i]].size; }
    const Shape& input_shape(size_t i) const { return values_[inputs_[i]].shape; }
    const Shape& output_shape(size_t i) const { return values_[outputs_[i]].shape; }
    size_t step_count() const { return steps_.size(); }
    // "conv [1, 48, 40, 40] w[48, 1, 3, 3] g48 -> [1, 48, 40, 40]": what step i is, for profiles.
    const std::string& step_label(size_t i) const { return steps_[i].label; }

    // Per-stream memory: buffers of every value, taken from the arena (state in its state region).
    struct Buffers {
        std::vector<float*> value;
        float* scratch = nullptr;
        float* state_temp = nullptr;
    };
    void take(Arena& arena, Buffers& b) const;

    float* input(const Buffers& b, size_t i) const { return b.value[inputs_[i]]; }
    const float* output(const Buffers& b, size_t i) const { return b.value[outputs_[i]]; }

    // One frame: run the steps, then move each state's next value into it. RT-safe.
    void run(const Buffers& b) const noexcept;
    // Step i alone, on whatever its inputs hold (profiles time the steps one by one). RT-safe.
    void run_step(const Buffers& b, size_t i) const noexcept;

private:
    enum class Kind { Input, Constant, State, Activation };
    struct Value {
        std::string name;
        Shape shape;
        int64_t size = 0;
        Kind kind = Kind::Activation;
        int alias = -1;               // value whose storage this one shares (reshape)
        const float* constant = nullptr;
    };
    struct Step {
        std::shared_ptr<const TensorKernel> kernel;
        std::vector<int> in, out;     // value ids, -1 = absent
        std::string label;
    };
    struct StateLink {
        int value, next;
    };

    int define(const std::string& name, Shape shape, Kind kind);
    void plan_activations();
    int find(const std::string& name, const std::string& where) const;
    int root(int v) const { return values_[v].alias < 0 ? v : root(values_[v].alias); }

    std::vector<Value> values_;
    std::map<std::string, int> by_name_;
    std::vector<Step> steps_;
    std::vector<int> inputs_, outputs_;
    std::vector<StateLink> state_;
    // Activations share one pool: each at offset_[v], values whose lifetimes (from the step that
    // writes them to the last step that reads them, or the end for outputs and next states)
    // overlap at disjoint ranges, so a frame's working set stays small enough for the caches.
    std::vector<size_t> offset_;
    size_t pool_floats_ = 0;
    size_t scratch_floats_ = 0, state_floats_ = 0;
    bool state_via_temp_ = false;
    static constexpr size_t kMaxPorts = 8; // kernels may read optional inputs up to this index
};

// A program with memory of its own, for tools and tests that run a program outside a stream.
// Its runs flush denormals as a stream's process does (graph/denormal_guard.hpp).
class ProgramInstance {
public:
    explicit ProgramInstance(const Program& program);
    const Program::Buffers& buffers() const { return buffers_; }

    // One frame on whatever the inputs hold.
    void run() const noexcept;

    // Runs the program `repeat` times (on whatever its inputs hold) and returns the per-run
    // time percentiles in milliseconds: the figures of the tools' --repeat.
    struct Times {
        double p50_ms = 0, p99_ms = 0;
    };
    Times time_runs(int repeat) const;
    // The tools' --profile: each step timed alone over `repeat` runs; a table of the median
    // milliseconds summed over the steps of one label, largest first, with counts and shares.
    std::string profile(int repeat) const;

private:
    const Program& program_;
    std::vector<std::byte> state_, scratch_;
    Program::Buffers buffers_;
};

} // namespace rill::tensor
