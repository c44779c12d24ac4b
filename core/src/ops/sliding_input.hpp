// The cache of a cached streaming convolution (Caillon & Esling 2022): per channel, the last
// `history` input frames followed by the new block, so a valid convolution over it yields the
// streamed outputs. Frames that are pre-roll (negative time) enter as zeros, which is what the
// offline model's zero padding holds there. Used by conv1d and stft.
#pragma once

#include <algorithm>
#include <cstring>

#include "rill/core/arena.hpp"
#include "rill/core/preroll.hpp"
#include "rill/core/signal.hpp"

namespace rill {

class SlidingInput {
public:
    void take(Arena& arena, uint32_t channels, size_t history, size_t max_frames,
              int64_t preroll_frames) {
        channels_ = channels;
        history_ = history;
        stride_ = history + max_frames;
        hist_ = arena.state<float>(channels * std::max<size_t>(history, 1));
        preroll_.latency = preroll_frames;
        preroll_.seen = arena.state<int64_t>(1);
        work_ = arena.scratch<float>(channels * stride_);
    }

    // work = [history | in], with the pre-roll part of `in` zeroed.
    void load(const ConstView& in, size_t n) noexcept {
        const size_t skip = preroll_.consume(n);
        for (uint32_t c = 0; c < channels_; ++c) {
            float* w = work_ + c * stride_;
            std::copy_n(hist_ + c * history_, history_, w);
            std::fill_n(w + history_, skip, 0.0f);
            std::copy_n(in.channel(c) + skip, n - skip, w + history_ + skip);
        }
        loaded_ = n;
    }

    // Frame i of channel c, i in [0, history + n): the window positions of the valid convolution.
    const float* channel(uint32_t c) const noexcept { return work_ + c * stride_; }

    // Keeps the last `history` frames for the next block.
    void commit() noexcept {
        for (uint32_t c = 0; c < channels_; ++c)
            std::copy_n(work_ + c * stride_ + loaded_, history_, hist_ + c * history_);
    }

private:
    uint32_t channels_ = 0;
    size_t history_ = 0, stride_ = 0, loaded_ = 0;
    float* hist_ = nullptr;
    float* work_ = nullptr;
    PreRoll preroll_;
};

} // namespace rill
