// The negative-slope activation of prelu and leaky_relu (He et al. 2015), one definition for the
// activation op and the epilogues that take it:
//   slope(x, a) = max(x, 0) + a min(x, 0)
// Equal to x >= 0 ? x : a x (up to the sign of a zero result), NaN stays NaN; branch-free so the
// loops vectorise (the signs of audio are unpredictable).
#pragma once

#include <algorithm>

namespace rill {

inline float slope(float x, float a) {
    return std::max(x, 0.0f) + a * std::min(x, 0.0f);
}

} // namespace rill
