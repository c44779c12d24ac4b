#include "gemm.hpp"

#include <cstring>

#include "lanes.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RILL_HAVE_AVX2_GEMM 1
#endif

namespace rill {
namespace {

void gemm_scalar(size_t M, size_t N, size_t P, const float* a, size_t lda, const float* b,
                 size_t ldb, float* c, size_t ldc, bool accumulate) {
    for (size_t m = 0; m < M; ++m) {
        float* cm = c + m * ldc;
        if (!accumulate)
            std::memset(cm, 0, N * sizeof(float));
        for (size_t p = 0; p < P; ++p) {
            const float am = a[m * lda + p];
            const float* bp = b + p * ldb;
            for (size_t n = 0; n < N; ++n)
                cm[n] += am * bp[n];
        }
    }
}

#ifdef RILL_HAVE_AVX2_GEMM
// R rows x 16 columns of C, accumulated over P in registers.
template <size_t R>
__attribute__((target("avx2,fma"), always_inline)) inline void tile16(
    size_t P, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
    bool accumulate) {
    __m256 lo[R], hi[R];
    for (size_t r = 0; r < R; ++r) {
        lo[r] = accumulate ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();
        hi[r] = accumulate ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_setzero_ps();
    }
    for (size_t p = 0; p < P; ++p) {
        const __m256 b0 = _mm256_loadu_ps(b + p * ldb);
        const __m256 b1 = _mm256_loadu_ps(b + p * ldb + 8);
        for (size_t r = 0; r < R; ++r) {
            const __m256 ar = _mm256_broadcast_ss(a + r * lda + p);
            lo[r] = _mm256_fmadd_ps(ar, b0, lo[r]);
            hi[r] = _mm256_fmadd_ps(ar, b1, hi[r]);
        }
    }
    for (size_t r = 0; r < R; ++r) {
        _mm256_storeu_ps(c + r * ldc, lo[r]);
        _mm256_storeu_ps(c + r * ldc + 8, hi[r]);
    }
}

// R rows x 8 columns.
template <size_t R>
__attribute__((target("avx2,fma"), always_inline)) inline void tile8(
    size_t P, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
    bool accumulate) {
    __m256 acc[R];
    for (size_t r = 0; r < R; ++r)
        acc[r] = accumulate ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();
    for (size_t p = 0; p < P; ++p) {
        const __m256 b0 = _mm256_loadu_ps(b + p * ldb);
        for (size_t r = 0; r < R; ++r)
            acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * lda + p), b0, acc[r]);
    }
    for (size_t r = 0; r < R; ++r)
        _mm256_storeu_ps(c + r * ldc, acc[r]);
}

// R rows x the last w < 8 columns, through masked loads and stores.
template <size_t R>
__attribute__((target("avx2,fma"), always_inline)) inline void tile_tail(
    size_t P, const float* a, size_t lda, const float* b, size_t ldb, float* c, size_t ldc,
    bool accumulate, size_t w) {
    const __m256i mask = first_lanes(w);
    __m256 acc[R];
    for (size_t r = 0; r < R; ++r)
        acc[r] = accumulate ? _mm256_maskload_ps(c + r * ldc, mask) : _mm256_setzero_ps();
    for (size_t p = 0; p < P; ++p) {
        const __m256 b0 = _mm256_maskload_ps(b + p * ldb, mask);
        for (size_t r = 0; r < R; ++r)
            acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * lda + p), b0, acc[r]);
    }
    for (size_t r = 0; r < R; ++r)
        _mm256_maskstore_ps(c + r * ldc, mask, acc[r]);
}

template <size_t R>
__attribute__((target("avx2,fma"))) void rows_avx2(size_t N, size_t P, const float* a,
                                                   size_t lda, const float* b, size_t ldb,
                                                   float* c, size_t ldc, bool accumulate) {
    size_t n = 0;
    for (; n + 16 <= N; n += 16)
        tile16<R>(P, a, lda, b + n, ldb, c + n, ldc, accumulate);
    for (; n + 8 <= N; n += 8)
        tile8<R>(P, a, lda, b + n, ldb, c + n, ldc, accumulate);
    if (n < N)
        tile_tail<R>(P, a, lda, b + n, ldb, c + n, ldc, accumulate, N - n);
}

void gemm_avx2(size_t M, size_t N, size_t P, const float* a, size_t lda, const float* b,
               size_t ldb, float* c, size_t ldc, bool accumulate) {
    size_t m = 0;
    for (; m + 4 <= M; m += 4)
        rows_avx2<4>(N, P, a + m * lda, lda, b, ldb, c + m * ldc, ldc, accumulate);
    for (; m < M; ++m)
        rows_avx2<1>(N, P, a + m * lda, lda, b, ldb, c + m * ldc, ldc, accumulate);
}
#endif

const GemmKernels kScalar{Isa::Scalar, gemm_scalar};
#ifdef RILL_HAVE_AVX2_GEMM
const GemmKernels kAvx2{Isa::Avx2, gemm_avx2};
#endif

} // namespace

const GemmKernels& gemm_kernels(Isa isa) {
#ifdef RILL_HAVE_AVX2_GEMM
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return kAvx2;
#endif
    return kScalar;
}

const GemmKernels& gemm_kernels() { return gemm_kernels(mac_kernels().isa); }

} // namespace rill
