// The negative-slope activation of prelu and leaky_relu (He et al. 2015), one definition for the
// activation op and the epilogues that take it:
//   slope(x, a) = max(x, 0) + a min(x, 0)
// Equal to x >= 0 ? x : a x (up to the sign of a zero result), NaN stays NaN; branch-free so the
// loops vectorise (the signs of audio are unpredictable).
#pragma once

#include <algorithm>
#include <cstddef>

namespace rill {

inline float slope(float x, float a) {
    return std::max(x, 0.0f) + a * std::min(x, 0.0f);
}

// y[t] = slope(y[t], a), t < n: one contiguous row in place (the loop vectorises).
inline void slope_row(float* y, size_t n, float a) {
    for (size_t t = 0; t < n; ++t)
        y[t] = slope(y[t], a);
}

} // namespace rill
