#include "transpose.hpp"

#include "transpose8.hpp"

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
