#include "mac.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "lanes.hpp"
#include "slope.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace rill {
namespace {

// One body, inlined into each instruction-set wrapper below so the compiler vectorises it for
// that set.
__attribute__((always_inline)) inline void taps_body(float* __restrict y, const float* x,
                                                     size_t x_stride, const float* w, size_t cin,
                                                     size_t k, size_t d, size_t s, size_t n) {
    for (size_t c = 0; c < cin; ++c)
        for (size_t j = 0; j < k; ++j) {
            const float wj = w[c * k + j];
            const float* xj = x + c * x_stride + j * d;
            if (s == 1)
                for (size_t m = 0; m < n; ++m)
                    y[m] += wj * xj[m];
            else
                for (size_t m = 0; m < n; ++m)
                    y[m] += wj * xj[m * s];
        }
}

__attribute__((always_inline)) inline void axpy_body(float* __restrict y, size_t ys,
                                                     const float* __restrict x, float a, size_t n) {
    if (ys == 1)
        for (size_t t = 0; t < n; ++t)
            y[t] += a * x[t];
    else
        for (size_t t = 0; t < n; ++t)
            y[t * ys] += a * x[t];
}

__attribute__((always_inline)) inline float dot_body(const float* __restrict a,
                                                    const float* __restrict b, size_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t j = 0; j < 8; ++j)
            acc[j] += a[i + j] * b[i + j];
    for (size_t j = 0; i < n; ++i, ++j)
        acc[j] += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

inline float reduce8(const float* acc) {
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// Four rows at a time share the loads of v and keep four independent sums (dot_body alone is
// bound by the latency of its one chain); each row sums exactly as dot_body does.
__attribute__((always_inline)) inline void matvec_body(const float* __restrict w, size_t ld,
                                                      const float* __restrict v, size_t rows,
                                                      size_t n, float* __restrict y) {
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float* w0 = w + r * ld;
        const float *w1 = w0 + ld, *w2 = w1 + ld, *w3 = w2 + ld;
        float a0[8] = {}, a1[8] = {}, a2[8] = {}, a3[8] = {};
        size_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (size_t j = 0; j < 8; ++j) {
                const float x = v[i + j];
                a0[j] += w0[i + j] * x;
                a1[j] += w1[i + j] * x;
                a2[j] += w2[i + j] * x;
                a3[j] += w3[i + j] * x;
            }
        for (size_t j = 0; i < n; ++i, ++j) {
            a0[j] += w0[i] * v[i];
            a1[j] += w1[i] * v[i];
            a2[j] += w2[i] * v[i];
            a3[j] += w3[i] * v[i];
        }
        y[r] = reduce8(a0);
        y[r + 1] = reduce8(a1);
        y[r + 2] = reduce8(a2);
        y[r + 3] = reduce8(a3);
    }
    for (; r < rows; ++r)
        y[r] = dot_body(w + r * ld, v, n);
}

float dot_scalar(const float* a, const float* b, size_t n) { return dot_body(a, b, n); }
void depthwise_scalar(float* y, size_t ys, const float* x, size_t xs, const float* w,
                      const float* bias, size_t channels, size_t k, size_t d, size_t n,
                      const float* slope, size_t slope_count) {
    for (size_t c = 0; c < channels; ++c) {
        float* yc = y + c * ys;
        std::fill_n(yc, n, bias ? bias[c] : 0.0f);
        taps_body(yc, x + c * xs, 0, w + c * k, 1, k, d, 1, n);
        if (slope)
            slope_row(yc, n, slope[slope_count > 1 ? c : 0]);
    }
}
void matvec_scalar(const float* w, size_t ld, const float* v, size_t rows, size_t n, float* y) {
    matvec_body(w, ld, v, rows, n, y);
}

void taps_scalar(float* y, const float* x, size_t xs, const float* w, size_t cin, size_t k,
                 size_t d, size_t s, size_t n) {
    taps_body(y, x, xs, w, cin, k, d, s, n);
}
void axpy_scalar(float* y, size_t ys, const float* x, float a, size_t n) {
    axpy_body(y, ys, x, a, n);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define RILL_HAVE_AVX2_KERNELS 1
__attribute__((target("avx2"))) void taps_avx2(float* y, const float* x, size_t xs,
                                               const float* w, size_t cin, size_t k, size_t d,
                                               size_t s, size_t n) {
    taps_body(y, x, xs, w, cin, k, d, s, n);
}
__attribute__((target("avx2"))) void axpy_avx2(float* y, size_t ys, const float* x, float a,
                                               size_t n) {
    axpy_body(y, ys, x, a, n);
}
__attribute__((target("avx2"))) float dot_avx2(const float* a, const float* b, size_t n) {
    return dot_body(a, b, n);
}
// matvec_body with explicit vectors (GCC does not keep the four sums in registers by itself);
// the same per-lane multiply-then-add order, so the results equal the scalar set's bit for bit.
__attribute__((target("avx2"))) void matvec_avx2(const float* w, size_t ld, const float* v,
                                                 size_t rows, size_t n, float* y) {
    size_t r = 0;
    const size_t body = n - n % 8;
    for (; r + 4 <= rows; r += 4) {
        const float* wr[4] = {w + r * ld, w + (r + 1) * ld, w + (r + 2) * ld, w + (r + 3) * ld};
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t i = 0; i < body; i += 8) {
            const __m256 x = _mm256_loadu_ps(v + i);
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(wr[0] + i), x));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(wr[1] + i), x));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_loadu_ps(wr[2] + i), x));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_loadu_ps(wr[3] + i), x));
        }
        float acc[4][8];
        _mm256_storeu_ps(acc[0], a0);
        _mm256_storeu_ps(acc[1], a1);
        _mm256_storeu_ps(acc[2], a2);
        _mm256_storeu_ps(acc[3], a3);
        for (size_t q = 0; q < 4; ++q) {
            for (size_t i = body, j = 0; i < n; ++i, ++j)
                acc[q][j] += wr[q][i] * v[i];
            y[r + q] = reduce8(acc[q]);
        }
    }
    for (; r < rows; ++r)
        y[r] = dot_body(w + r * ld, v, n);
}
// Eight frames of one channel per vector, the taps summed in registers (short blocks are
// dominated by per-channel loop overhead otherwise); the last frames through masked loads.
// K taps fixed at compile time (0: any): each tap's load is its own instruction, so the
// processor's per-instruction stride prefetcher follows it from channel to channel (one load
// instruction cycling through the taps defeated it; at blocks of 8 frames, the taps' lines, last
// written d frames ago, mostly come from L3).
template <size_t K>
__attribute__((target("avx2"), always_inline)) inline void depthwise_rows(
    float* y, size_t ys, const float* x, size_t xs, const float* w, const float* bias,
    size_t channels, size_t k, size_t d, size_t n, const float* slope, size_t slope_count) {
    if (K)
        k = K;
    const __m256i tail = first_lanes(n % 8);
    for (size_t c = 0; c < channels; ++c) {
        const float* xc = x + c * xs;
        const float* wc = w + c * k;
        float* yc = y + c * ys;
        const __m256 b = _mm256_set1_ps(bias ? bias[c] : 0.0f);
        const __m256 a = _mm256_set1_ps(slope ? slope[slope_count > 1 ? c : 0] : 0.0f);
        size_t m = 0;
        for (; m + 8 <= n; m += 8) {
            __m256 acc = b;
#pragma GCC unroll 8
            for (size_t j = 0; j < k; ++j)
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(wc[j]),
                                                       _mm256_loadu_ps(xc + m + j * d)));
            _mm256_storeu_ps(yc + m, slope ? slope8(acc, a) : acc);
        }
        if (m < n) {
            __m256 acc = b;
#pragma GCC unroll 8
            for (size_t j = 0; j < k; ++j)
                acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(wc[j]),
                                                       _mm256_maskload_ps(xc + m + j * d, tail)));
            _mm256_maskstore_ps(yc + m, tail, slope ? slope8(acc, a) : acc);
        }
    }
}

__attribute__((target("avx2"))) void depthwise_avx2(float* y, size_t ys, const float* x,
                                                    size_t xs, const float* w, const float* bias,
                                                    size_t channels, size_t k, size_t d, size_t n,
                                                    const float* slope, size_t slope_count) {
    if (k == 3)
        return depthwise_rows<3>(y, ys, x, xs, w, bias, channels, k, d, n, slope, slope_count);
    depthwise_rows<0>(y, ys, x, xs, w, bias, channels, k, d, n, slope, slope_count);
}
#endif

const MacKernels kScalar{Isa::Scalar,  taps_scalar,   axpy_scalar,
                         dot_scalar,   matvec_scalar, depthwise_scalar};
#ifdef RILL_HAVE_AVX2_KERNELS
const MacKernels kAvx2{Isa::Avx2, taps_avx2, axpy_avx2, dot_avx2, matvec_avx2, depthwise_avx2};
#endif

} // namespace

void correlate_by_frame(const MacKernels& mac, float* y, size_t y_stride, const float* x,
                        size_t x_stride, const float* w, const float* bias, size_t cout,
                        size_t cin, size_t groups, size_t k, size_t d, size_t s, size_t n,
                        float* col) {
    const size_t cout_g = cout / groups, span = cin * k;
    for (size_t m = 0; m < n; ++m)
        for (size_t g = 0; g < groups; ++g) {
            for (size_t c = 0; c < cin; ++c) {
                const float* xc = x + (g * cin + c) * x_stride + m * s;
                for (size_t j = 0; j < k; ++j)
                    col[c * k + j] = xc[j * d];
            }
            for (size_t o = g * cout_g; o < (g + 1) * cout_g; ++o)
                y[o * y_stride + m] = (bias ? bias[o] : 0.0f) + mac.dot(w + o * span, col, span);
        }
}

const MacKernels& mac_kernels(Isa isa) {
#ifdef RILL_HAVE_AVX2_KERNELS
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2"))
        return kAvx2;
#endif
    return kScalar;
}

const MacKernels& mac_kernels() {
    static const MacKernels& chosen = [] () -> const MacKernels& {
        const char* force = std::getenv("RILL_FORCE_ISA");
        if (force && std::strcmp(force, "scalar") == 0)
            return kScalar;
        return mac_kernels(Isa::Avx2);
    }();
    return chosen;
}

} // namespace rill
