// The cache of a cached streaming convolution (Caillon & Esling 2022): per channel, the last
// `history` input frames followed by the new block, so a valid convolution over it yields the
// streamed outputs. Frames that are pre-roll (negative time) enter as zeros, which is what the
// offline model's zero padding holds there. Used by conv1d and stft.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "rill/core/arena.hpp"
#include "rill/core/preroll.hpp"
#include "rill/core/signal.hpp"

namespace rill {

class SlidingInput {
public:
    // The per-channel buffer (state) holds [history | new frames | room]; frames are appended at
    // `pos` and the last `history` frames are moved back to the front only when a block no longer
    // fits. With room for `history` extra frames, that move happens at most once per `history`
    // frames, so the cost of a call stays proportional to its frames (amortised), even for
    // blocks of one frame and long dilated kernels.
    void take(Arena& arena, uint32_t channels, size_t history, size_t max_frames,
              int64_t preroll_frames) {
        channels_ = channels;
        history_ = history;
        stride_ = 2 * history + max_frames;
        buffer_ = arena.state<float>(channels * std::max<size_t>(stride_, 1));
        // Where a fresh state starts within its room, spread by address: the periodic moves of
        // inputs with the same history then fall on different blocks, not all on one (a block
        // of 64 samples of the paper's Conv-TasNet moved 1.5 MB at once every 33 blocks).
        stagger_ = (reinterpret_cast<uintptr_t>(buffer_) / 64) % (history + 1);
        pos_ = arena.state<int64_t>(1);
        preroll_.latency = preroll_frames;
        preroll_.seen = arena.state<int64_t>(1);
    }

    // Where the next block of n frames goes (after the history): a producer may write it there
    // (Op::input_destination), and load() then finds it in place.
    View destination(size_t n) noexcept {
        return View{buffer_ + make_room(n), channels_, stride_};
    }

    // Appends `in` (its pre-roll part as zeros) after the history, unless it is already there.
    void load(const ConstView& in, size_t n) noexcept {
        const size_t pos = make_room(n);
        const bool in_place = in.data == buffer_ + pos && in.stride == stride_;
        const size_t skip = preroll_.consume(n);
        for (uint32_t c = 0; c < channels_; ++c) {
            float* b = buffer_ + c * stride_ + pos;
            std::fill_n(b, skip, 0.0f);
            if (!in_place)
                std::copy_n(in.channel(c) + skip, n - skip, b + skip);
        }
        loaded_ = n;
    }

    // Frame i of channel c, i in [0, history + n): the window positions of the valid convolution.
    const float* channel(uint32_t c) const noexcept {
        return buffer_ + c * stride_ + static_cast<size_t>(*pos_) - history_;
    }

    // Distance between the starts of two channels.
    size_t channel_stride() const noexcept { return stride_; }

    // The block becomes history for the next one.
    void commit() noexcept { *pos_ += static_cast<int64_t>(loaded_); }

private:
    // The block's start in each channel row, the history moved back to the front first when n
    // more frames would not fit.
    size_t make_room(size_t n) noexcept {
        size_t pos = static_cast<size_t>(*pos_);
        if (pos < history_)
            pos = history_ + stagger_; // fresh state: zeros before it are the (silent) history
        if (pos + n > stride_) {
            // pos > 2 history here (stride = 2 history + max_frames): the ranges do not overlap.
            // Short histories (a dilation of 1 to 8 at kernel 3 moves every block) are copied
            // inline: a library call per channel cost more than the copy.
            for (uint32_t c = 0; c < channels_; ++c) {
                float* b = buffer_ + c * stride_;
                if (history_ <= kInlineCopy)
                    for (size_t i = 0; i < history_; ++i)
                        b[i] = b[pos - history_ + i];
                else
                    std::memcpy(b, b + pos - history_, history_ * sizeof(float));
            }
            pos = history_;
        }
        *pos_ = static_cast<int64_t>(pos);
        return pos;
    }

    static constexpr size_t kInlineCopy = 16; // floats
    uint32_t channels_ = 0;
    size_t history_ = 0, stride_ = 0, loaded_ = 0, stagger_ = 0;
    float* buffer_ = nullptr;
    int64_t* pos_ = nullptr;
    PreRoll preroll_;
};

} // namespace rill
