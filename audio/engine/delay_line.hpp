// A delay of a fixed number of frames on each of several channels: the dry and bypass paths are
// delayed by it so that they line up with the model's output. Memory is taken at construction;
// process and reset are real-time safe.
#pragma once

#include <cstddef>
#include <vector>

namespace rill::plugin {

class DelayLine {
public:
    DelayLine(size_t channels, size_t delay_frames);

    size_t delay_frames() const noexcept { return delay_; }
    size_t channels() const noexcept { return rings_.size(); }

    // Writes `in` delayed by delay_frames() to `out` (which may alias `in`).
    void process(size_t channel, const float* in, float* out, size_t frames) noexcept;
    void reset() noexcept;

private:
    size_t delay_;
    std::vector<std::vector<float>> rings_;
    std::vector<size_t> positions_;
};

} // namespace rill::plugin
