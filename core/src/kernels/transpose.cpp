#include "transpose.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RILL_HAVE_AVX2_TRANSPOSE 1
#endif

namespace rill {
namespace {

void gather_scalar(const float* const* src, size_t n, size_t len, float* dst, size_t ld) {
    for (size_t f = 0; f < len; ++f)
        for (size_t c = 0; c < n; ++c)
            dst[f * ld + c] = src[c][f];
}

void scatter_scalar(const float* src, size_t ld, size_t n, size_t len, float* const* dst) {
    for (size_t f = 0; f < len; ++f)
        for (size_t c = 0; c < n; ++c)
            dst[c][f] = src[f * ld + c];
}

#ifdef RILL_HAVE_AVX2_TRANSPOSE
// r[i] <- column i of the 8 x 8 tile whose rows are r[0..7].
__attribute__((target("avx2"), always_inline)) inline void transpose8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

__attribute__((target("avx2"))) void gather_avx2(const float* const* src, size_t n, size_t len,
                                                 float* dst, size_t ld) {
    if (n != 8)
        return gather_scalar(src, n, len, dst, ld);
    size_t f = 0;
    for (; f + 8 <= len; f += 8) {
        __m256 r[8];
        for (size_t c = 0; c < 8; ++c)
            r[c] = _mm256_loadu_ps(src[c] + f);
        transpose8(r);
        for (size_t j = 0; j < 8; ++j)
            _mm256_storeu_ps(dst + (f + j) * ld, r[j]);
    }
    for (; f < len; ++f)
        for (size_t c = 0; c < 8; ++c)
            dst[f * ld + c] = src[c][f];
}

__attribute__((target("avx2"))) void scatter_avx2(const float* src, size_t ld, size_t n,
                                                  size_t len, float* const* dst) {
    if (n != 8)
        return scatter_scalar(src, ld, n, len, dst);
    size_t f = 0;
    for (; f + 8 <= len; f += 8) {
        __m256 r[8];
        for (size_t j = 0; j < 8; ++j)
            r[j] = _mm256_loadu_ps(src + (f + j) * ld);
        transpose8(r);
        for (size_t c = 0; c < 8; ++c)
            _mm256_storeu_ps(dst[c] + f, r[c]);
    }
    for (; f < len; ++f)
        for (size_t c = 0; c < 8; ++c)
            dst[c][f] = src[f * ld + c];
}
#endif

const TransposeKernels kScalar{Isa::Scalar, gather_scalar, scatter_scalar};
#ifdef RILL_HAVE_AVX2_TRANSPOSE
const TransposeKernels kAvx2{Isa::Avx2, gather_avx2, scatter_avx2};
#endif

} // namespace

const TransposeKernels& transpose_kernels(Isa isa) {
#ifdef RILL_HAVE_AVX2_TRANSPOSE
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2"))
        return kAvx2;
#endif
    return kScalar;
}

const TransposeKernels& transpose_kernels() { return transpose_kernels(mac_kernels().isa); }

} // namespace rill
