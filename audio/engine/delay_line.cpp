#include "engine/delay_line.hpp"

#include <algorithm>

namespace rill::plugin {

DelayLine::DelayLine(size_t channels, size_t delay_frames)
    : delay_(delay_frames), rings_(channels, std::vector<float>(delay_frames, 0.0f)),
      positions_(channels, 0) {}

void DelayLine::process(size_t channel, const float* in, float* out, size_t frames) noexcept {
    if (channel >= rings_.size())
        return;
    if (delay_ == 0) {
        if (in != out)
            std::copy(in, in + frames, out);
        return;
    }
    std::vector<float>& ring = rings_[channel];
    size_t pos = positions_[channel];
    for (size_t i = 0; i < frames; ++i) {
        const float x = in[i];
        out[i] = ring[pos];
        ring[pos] = x;
        if (++pos == delay_)
            pos = 0;
    }
    positions_[channel] = pos;
}

void DelayLine::reset() noexcept {
    for (std::vector<float>& ring : rings_)
        std::fill(ring.begin(), ring.end(), 0.0f);
    std::fill(positions_.begin(), positions_.end(), 0);
}

} // namespace rill::plugin
