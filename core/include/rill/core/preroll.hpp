// Pre-roll: stream frame m at an op input whose accumulated latency is L corresponds to offline
// frame m - L, so the first L frames are "negative time". Offline, a convolution sees zero padding
// there and a recurrent or cumulative op has not started yet. Stateful ops skip (or zero) these
// frames, which makes streaming exactly equal to offline shifted by the latency, even for stacks
// of non-causal layers with biases. The counter lives in the stream's state region.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace rill {

struct PreRoll {
    int64_t latency = 0;      // frames to skip, fixed at plan time
    int64_t* seen = nullptr;  // frames seen since reset (state)

    // Number of leading frames of a block of n frames that are still pre-roll; advances the counter.
    size_t consume(size_t n) noexcept {
        const int64_t left = std::max<int64_t>(0, latency - *seen);
        *seen += static_cast<int64_t>(n);
        return static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(n)));
    }
};

} // namespace rill
