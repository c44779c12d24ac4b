// The mask of a vector's first lanes, for the masked loads and stores of a row's last elements.
#pragma once

#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

namespace rill {

// Lanes 0 .. len-1 of 8 set (len 0..8).
__attribute__((target("avx2"), always_inline)) inline __m256i first_lanes(size_t len) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(len)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

} // namespace rill
#endif
