// A stream: everything mutable for one live signal. All memory is taken at construction from one
// 64-byte aligned arena (state region + scratch region); process/reset/set_param never allocate.
//
// Block FIFO: the graph runs on chunks that are multiples of the model hop H. Input frames wait in
// a FIFO until a whole hop is there; the output FIFO starts with H-1 frames of silence so every
// call returns as many frames as it was given (latency += H-1, cost proportional to the frames).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "rill/core/model.hpp"

namespace rill {

enum class NonFinitePolicy : uint32_t { Zero = 0, Reject = 1, Pass = 2 };

struct StreamSpec {
    uint32_t max_block_frames = 4096;
    NonFinitePolicy nonfinite = NonFinitePolicy::Zero;
};

enum class ProcessResult { Ok, NonFiniteReplaced, NonFiniteRejected };

class Stream {
public:
    Stream(std::shared_ptr<const Model> model, const StreamSpec& spec);
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // in: input_channels pointers, out: output_channels pointers, frames <= max_block_frames.
    ProcessResult process(const float* const* in, float* const* out, size_t frames) noexcept;
    void reset() noexcept;
    void set_param(uint32_t index, float value) noexcept; // clamps; index checked by caller
    float param(uint32_t index) const noexcept { return params_[index]; }

    const Model& model() const { return *model_; }
    const StreamSpec& spec() const { return spec_; }
    int64_t latency() const { return model_->latency(); }
    size_t memory_bytes() const { return state_bytes_ + scratch_bytes_; }

    size_t state_blob_size() const;
    void state_get(void* buffer) const noexcept;
    bool state_set(const void* buffer, size_t size) noexcept; // false: blob does not fit

private:
    struct Fifo; // counters in the state region
    void run_graph(size_t frames) noexcept;
    void assign_buffers(Arena& arena);
    size_t frames_at(uint32_t buffer, size_t input_frames) const;

    std::shared_ptr<const Model> model_;
    StreamSpec spec_;
    std::vector<std::unique_ptr<Op>> ops_;
    std::vector<float> params_;
    std::byte* memory_ = nullptr;
    size_t state_bytes_ = 0, scratch_bytes_ = 0;
    size_t max_chunk_ = 0; // input frames per graph run, multiple of hop
    std::vector<View> buffers_;      // one per model buffer (scratch)
    std::vector<std::vector<ConstView>> step_inputs_;
    std::vector<std::vector<View>> step_outputs_;
    float* in_fifo_ = nullptr;       // [input_channels x hop] (state)
    float* out_fifo_ = nullptr;      // [output_channels x hop] (state)
    int64_t* counters_ = nullptr;    // in_fill, out_fill, graph output frames seen (state)
};

} // namespace rill
