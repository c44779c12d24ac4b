#include "conv_rows.hpp"

#include "lanes.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RILL_HAVE_AVX2_CONV_ROWS 1
#endif

namespace rill {
namespace {

void rows_scalar(float* y, size_t y_stride, const float* x, const int64_t* off, const float* w,
                 size_t taps, const float* bias, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; ++r) {
        float* yr = y + r * y_stride;
        const float* wr = w + r * taps;
        for (size_t o = 0; o < n; ++o) {
            float acc = bias ? bias[r] : 0.0f;
            for (size_t t = 0; t < taps; ++t)
                acc += wr[t] * x[off[t] + static_cast<int64_t>(o)];
            yr[o] = acc;
        }
    }
}

#ifdef RILL_HAVE_AVX2_CONV_ROWS
// R rows x V vectors of 8 outputs from column o, accumulated over the taps in registers; the
// last vector stores only `last` (1..8) lanes.
template <size_t R, size_t V>
__attribute__((target("avx2"), always_inline)) inline void tile(
    float* y, size_t y_stride, const float* x, const int64_t* off, const float* w, size_t taps,
    const float* bias, size_t last) {
    __m256 acc[R][V];
    for (size_t r = 0; r < R; ++r)
        for (size_t v = 0; v < V; ++v)
            acc[r][v] = _mm256_set1_ps(bias ? bias[r] : 0.0f);
    for (size_t t = 0; t < taps; ++t) {
        const float* xt = x + off[t];
        __m256 xv[V];
        for (size_t v = 0; v < V; ++v)
            xv[v] = _mm256_loadu_ps(xt + 8 * v);
        for (size_t r = 0; r < R; ++r) {
            const __m256 wv = _mm256_broadcast_ss(w + r * taps + t);
            for (size_t v = 0; v < V; ++v)
                acc[r][v] = _mm256_add_ps(acc[r][v], _mm256_mul_ps(wv, xv[v]));
        }
    }
    const __m256i mask = first_lanes(last);
    for (size_t r = 0; r < R; ++r) {
        for (size_t v = 0; v + 1 < V; ++v)
            _mm256_storeu_ps(y + r * y_stride + 8 * v, acc[r][v]);
        if (last == 8)
            _mm256_storeu_ps(y + r * y_stride + 8 * (V - 1), acc[r][V - 1]);
        else
            _mm256_maskstore_ps(y + r * y_stride + 8 * (V - 1), mask, acc[r][V - 1]);
    }
}

template <size_t R>
__attribute__((target("avx2"))) void rows_avx2_r(float* y, size_t y_stride, const float* x,
                                                 const int64_t* off, const float* w, size_t taps,
                                                 const float* bias, size_t n) {
    size_t o = 0;
    for (; o + 16 <= n; o += 16)
        tile<R, 2>(y + o, y_stride, x + o, off, w, taps, bias, 8);
    for (; o < n; o += 8)
        tile<R, 1>(y + o, y_stride, x + o, off, w, taps, bias, n - o < 8 ? n - o : 8);
}

void rows_avx2(float* y, size_t y_stride, const float* x, const int64_t* off, const float* w,
               size_t taps, const float* bias, size_t rows, size_t n) {
    switch (rows) {
    case 1: rows_avx2_r<1>(y, y_stride, x, off, w, taps, bias, n); break;
    case 2: rows_avx2_r<2>(y, y_stride, x, off, w, taps, bias, n); break;
    case 3: rows_avx2_r<3>(y, y_stride, x, off, w, taps, bias, n); break;
    default: rows_avx2_r<4>(y, y_stride, x, off, w, taps, bias, n); break;
    }
}
#endif

const ConvRowKernels kScalar{Isa::Scalar, rows_scalar};
#ifdef RILL_HAVE_AVX2_CONV_ROWS
const ConvRowKernels kAvx2{Isa::Avx2, rows_avx2};
#endif

} // namespace

const ConvRowKernels& conv_row_kernels(Isa isa) {
#ifdef RILL_HAVE_AVX2_CONV_ROWS
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2"))
        return kAvx2;
#endif
    return kScalar;
}

const ConvRowKernels& conv_row_kernels() { return conv_row_kernels(mac_kernels().isa); }

} // namespace rill
