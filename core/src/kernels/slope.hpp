// The negative-slope activation of prelu and leaky_relu (He et al. 2015), one definition for the
// activation op and the epilogues that take it:
//   slope(x, a) = max(x, 0) + a min(x, 0)
// Equal to x >= 0 ? x : a x (up to the sign of a zero result), NaN stays NaN; branch-free so the
// loops vectorise (the signs of audio are unpredictable).
#pragma once

#include <algorithm>
#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace rill {

inline float slope(float x, float a) {
    return std::max(x, 0.0f) + a * std::min(x, 0.0f);
}

// y[t] = slope(y[t], a), t < n: one contiguous row in place (the loop vectorises).
inline void slope_row(float* y, size_t n, float a) {
    for (size_t t = 0; t < n; ++t)
        y[t] = slope(y[t], a);
}

#if defined(__x86_64__) && defined(__GNUC__)
// slope() on 8 lanes, the same floats: max_ps(0, x) is 0 > x ? 0 : x and min_ps(0, x) is
// 0 < x ? 0 : x, as std::max(x, 0) and std::min(x, 0) (NaN and -0 kept).
__attribute__((target("avx2"), always_inline)) inline __m256 slope8(__m256 x, __m256 a) {
    const __m256 zero = _mm256_setzero_ps();
    return _mm256_add_ps(_mm256_max_ps(zero, x), _mm256_mul_ps(a, _mm256_min_ps(zero, x)));
}
#endif

} // namespace rill
