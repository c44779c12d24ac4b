// Overlap-add accumulator of transposed convolutions and the iSTFT: contributions of the frames
// of one block land in [0, n_out + tail); the first n_out frames are final (no later input frame
// reaches them), the last `tail` frames carry over to the next block (stream state).
#pragma once

#include <algorithm>

#include "rill/core/arena.hpp"

namespace rill {

class OverlapAdd {
public:
    void take(Arena& arena, uint32_t channels, size_t tail, size_t max_out) {
        channels_ = channels;
        tail_ = tail;
        stride_ = max_out + tail;
        carry_ = arena.state<float>(channels * std::max<size_t>(tail, 1));
        acc_ = arena.scratch<float>(channels * stride_);
    }

    // Starts a block of n_out final frames: acc = [carried tail | zeros].
    void begin(size_t n_out) noexcept {
        n_out_ = n_out;
        for (uint32_t c = 0; c < channels_; ++c) {
            float* a = acc_ + c * stride_;
            std::copy_n(carry_ + c * tail_, tail_, a);
            std::fill(a + tail_, a + n_out + tail_, 0.0f);
        }
    }

    float* channel(uint32_t c) noexcept { return acc_ + c * stride_; }

    // Keeps frames [n_out, n_out + tail) for the next block.
    void end() noexcept {
        for (uint32_t c = 0; c < channels_; ++c)
            std::copy_n(acc_ + c * stride_ + n_out_, tail_, carry_ + c * tail_);
    }

private:
    uint32_t channels_ = 0;
    size_t tail_ = 0, stride_ = 0, n_out_ = 0;
    float* carry_ = nullptr;
    float* acc_ = nullptr;
};

} // namespace rill
