// A stream: everything mutable for one live signal. All memory is taken at construction from one
// 64-byte aligned arena (state region + scratch region); process/reset/set_param never allocate.
//
// Block FIFO: the graph runs on chunks that are multiples of the model hop H. Input frames wait in
// a FIFO until a whole hop is there; the output FIFO starts with H-1 frames of silence so every
// call returns as many frames as it was given (latency += H-1, cost proportional to the frames).
// A chunk runs through the graph in pieces of at most piece_frames() (a multiple of H chosen so
// the widest intermediate buffer stays near kPieceBytes, in cache): only the graph's inputs and
// outputs hold a whole chunk. Every op streams exactly for any split, so the result is the same.
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
    uint32_t piece_frames = 0; // graph run size (rounded up to the hop); 0: chosen by width
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
    size_t piece_frames() const { return piece_; }

    static constexpr size_t kPieceBytes = 1024 * 1024; // widest intermediate buffer of a piece

    size_t state_blob_size() const;
    void state_get(void* buffer) const noexcept;
    bool state_set(const void* buffer, size_t size) noexcept; // false: blob does not fit

private:
    struct Fifo; // counters in the state region
    void run_graph(size_t frames) noexcept;
    void run_piece(size_t offset, size_t frames) noexcept;
    void plan_handoffs();
    void assign_buffers(Arena& arena);
    size_t frames_at(uint32_t buffer, size_t input_frames) const;
    size_t choose_piece(size_t hop) const;
    bool whole_chunk(uint32_t buffer) const; // a graph input or output buffer

    std::shared_ptr<const Model> model_;
    StreamSpec spec_;
    std::vector<std::unique_ptr<Op>> ops_;
    std::vector<float> params_;
    std::byte* memory_ = nullptr;
    size_t state_bytes_ = 0, scratch_bytes_ = 0;
    size_t max_chunk_ = 0; // input frames per process call's graph work, multiple of hop
    size_t piece_ = 0;     // input frames per graph run, multiple of hop, <= max_chunk_
    struct Boundary {      // a step's view of a whole-chunk buffer, moved along per piece
        uint32_t step, slot, buffer;
        bool output;
    };
    std::vector<Boundary> boundaries_;
    struct Handoff {       // a buffer with one reader, which may name where it is to be written
        uint32_t consumer, slot, buffer;
    };
    std::vector<int32_t> handoff_of_; // per step: index into handoffs_ of its output, or -1
    std::vector<Handoff> handoffs_;
    std::vector<View> buffers_;      // one per model buffer (scratch)
    std::vector<std::vector<ConstView>> step_inputs_;
    std::vector<std::vector<View>> step_outputs_;
    float* in_fifo_ = nullptr;       // [input_channels x hop] (state)
    float* out_fifo_ = nullptr;      // [output_channels x hop] (state)
    int64_t* counters_ = nullptr;    // in_fill, out_fill, graph output frames seen (state)
};

} // namespace rill
