// A value that glides linearly to each new target over a fixed number of frames (parameter
// smoothing on the audio thread). Real-time safe; not thread-safe.
#pragma once

#include <cstdint>

namespace rill::plugin {

class LinearRamp {
public:
    void reset(float value, uint32_t ramp_frames) noexcept {
        current_ = target_ = value;
        ramp_frames_ = ramp_frames > 0 ? ramp_frames : 1;
        remaining_ = 0;
    }
    void set_target(float target) noexcept {
        if (target == target_)
            return;
        target_ = target;
        remaining_ = ramp_frames_;
        step_ = (target_ - current_) / static_cast<float>(ramp_frames_);
    }
    // The value at the next frame.
    float next() noexcept {
        if (remaining_ > 0 && --remaining_ == 0)
            current_ = target_;
        else if (remaining_ > 0)
            current_ += step_;
        return current_;
    }
    // Moves `frames` frames ahead and returns the value there.
    float skip(uint32_t frames) noexcept {
        if (frames >= remaining_) {
            remaining_ = 0;
            current_ = target_;
        } else {
            remaining_ -= frames;
            current_ += step_ * static_cast<float>(frames);
        }
        return current_;
    }
    float current() const noexcept { return current_; }
    bool moving() const noexcept { return remaining_ > 0; }

private:
    float current_ = 0, target_ = 0, step_ = 0;
    uint32_t ramp_frames_ = 1, remaining_ = 0;
};

} // namespace rill::plugin
