#include "norm_rows.hpp"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "lanes.hpp"
namespace rill {
namespace {

__attribute__((always_inline)) inline void moments_body(const float* x, size_t xs,
                                                        size_t channels, size_t n,
                                                        double* __restrict s1,
                                                        double* __restrict s2) {
    for (size_t c = 0; c < channels; ++c) {
        const float* __restrict xc = x + c * xs;
        if (!s2) {
            for (size_t t = 0; t < n; ++t)
                s1[t] += xc[t];
            continue;
        }
        for (size_t t = 0; t < n; ++t) {
            const double v = xc[t];
            s1[t] += v;
            s2[t] += v * v;
        }
    }
}

__attribute__((always_inline)) inline void deviations_body(const float* x, size_t xs,
                                                           size_t channels, size_t n,
                                                           const double* __restrict mean,
                                                           double* __restrict s2) {
    for (size_t c = 0; c < channels; ++c) {
        const float* __restrict xc = x + c * xs;
        for (size_t t = 0; t < n; ++t) {
            const double d = xc[t] - mean[t];
            s2[t] += d * d;
        }
    }
}

__attribute__((always_inline)) inline void normalize_body(const float* x, size_t xs, float* y,
                                                          size_t ys, size_t channels, size_t n,
                                                          const float* __restrict mean_hi,
                                                          const float* __restrict mean_lo,
                                                          const float* __restrict scale,
                                                          const float* w, const float* b) {
    for (size_t c = 0; c < channels; ++c) {
        const float* __restrict xc = x + c * xs;
        float* __restrict yc = y + c * ys;
        const float wc = w ? w[c] : 1.0f, bc = b ? b[c] : 0.0f;
        for (size_t t = 0; t < n; ++t)
            yc[t] = ((xc[t] - mean_hi[t]) - mean_lo[t]) * scale[t] * wc + bc;
    }
}

void moments_scalar(const float* x, size_t xs, size_t channels, size_t n, double* s1,
                    double* s2) {
    moments_body(x, xs, channels, n, s1, s2);
}
void deviations_scalar(const float* x, size_t xs, size_t channels, size_t n, const double* mean,
                       double* s2) {
    deviations_body(x, xs, channels, n, mean, s2);
}
void normalize_scalar(const float* x, size_t xs, float* y, size_t ys, size_t channels, size_t n,
                      const float* mean_hi, const float* mean_lo, const float* scale,
                      const float* w, const float* b) {
    normalize_body(x, xs, y, ys, channels, n, mean_hi, mean_lo, scale, w, b);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define RILL_HAVE_AVX2_NORM 1

// The sums of up to 8 V frames kept in registers across all channels (short blocks were
// dominated by loading and storing s1, s2 for every channel): the same additions, in the same
// order, as moments_body.
template <size_t V, bool Squares>
__attribute__((target("avx2"), always_inline)) inline void moments_slice(
    const float* x, size_t xs, size_t channels, size_t len, double* s1, double* s2) {
    const __m256i last = first_lanes(len - 8 * (V - 1));
    __m256d a[V][2], q[V][2];
    double in1[8 * V] = {}, in2[8 * V] = {};
    std::copy_n(s1, len, in1);
    if (Squares)
        std::copy_n(s2, len, in2);
    for (size_t v = 0; v < V; ++v)
        for (size_t h = 0; h < 2; ++h) {
            a[v][h] = _mm256_loadu_pd(in1 + 8 * v + 4 * h);
            q[v][h] = _mm256_loadu_pd(in2 + 8 * v + 4 * h);
        }
    for (size_t c = 0; c < channels; ++c) {
        const float* xc = x + c * xs;
        for (size_t v = 0; v < V; ++v) {
            const __m256 f = v + 1 < V ? _mm256_loadu_ps(xc + 8 * v)
                                       : _mm256_maskload_ps(xc + 8 * v, last);
            const __m256d d[2] = {_mm256_cvtps_pd(_mm256_castps256_ps128(f)),
                                  _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1))};
            for (size_t h = 0; h < 2; ++h) {
                a[v][h] = _mm256_add_pd(a[v][h], d[h]);
                if (Squares)
                    q[v][h] = _mm256_add_pd(q[v][h], _mm256_mul_pd(d[h], d[h]));
            }
        }
    }
    for (size_t v = 0; v < V; ++v)
        for (size_t h = 0; h < 2; ++h) {
            _mm256_storeu_pd(in1 + 8 * v + 4 * h, a[v][h]);
            _mm256_storeu_pd(in2 + 8 * v + 4 * h, q[v][h]);
        }
    std::copy_n(in1, len, s1);
    if (Squares)
        std::copy_n(in2, len, s2);
}

template <bool Squares>
__attribute__((target("avx2"))) void moments_slices(const float* x, size_t xs, size_t channels,
                                                    size_t n, double* s1, double* s2) {
    for (size_t t = 0; t < n; t += 16) {
        const size_t len = std::min<size_t>(16, n - t);
        if (len > 8)
            moments_slice<2, Squares>(x + t, xs, channels, len, s1 + t, s2 ? s2 + t : nullptr);
        else
            moments_slice<1, Squares>(x + t, xs, channels, len, s1 + t, s2 ? s2 + t : nullptr);
    }
}

__attribute__((target("avx2"))) void moments_avx2(const float* x, size_t xs, size_t channels,
                                                  size_t n, double* s1, double* s2) {
    if (s2)
        moments_slices<true>(x, xs, channels, n, s1, s2);
    else
        moments_slices<false>(x, xs, channels, n, s1, s2);
}
__attribute__((target("avx2"))) void deviations_avx2(const float* x, size_t xs, size_t channels,
                                                     size_t n, const double* mean, double* s2) {
    deviations_body(x, xs, channels, n, mean, s2);
}

// normalize_body on up to 8 V frames, their mean and scale held in registers across the
// channels: the same operations in the same order (no fused multiply-add).
template <size_t V>
__attribute__((target("avx2"), always_inline)) inline void normalize_slice(
    const float* x, size_t xs, float* y, size_t ys, size_t channels, size_t len,
    const float* mean_hi, const float* mean_lo, const float* scale, const float* w,
    const float* b) {
    const __m256i last = first_lanes(len - 8 * (V - 1));
    __m256 hi[V], lo[V], sc[V];
    for (size_t v = 0; v < V; ++v) {
        const __m256i m = v + 1 < V ? _mm256_set1_epi32(-1) : last;
        hi[v] = _mm256_maskload_ps(mean_hi + 8 * v, m);
        lo[v] = _mm256_maskload_ps(mean_lo + 8 * v, m);
        sc[v] = _mm256_maskload_ps(scale + 8 * v, m);
    }
    for (size_t c = 0; c < channels; ++c) {
        const float* xc = x + c * xs;
        float* yc = y + c * ys;
        const __m256 wc = _mm256_set1_ps(w ? w[c] : 1.0f), bc = _mm256_set1_ps(b ? b[c] : 0.0f);
        for (size_t v = 0; v < V; ++v) {
            const bool full = v + 1 < V || len == 8 * V;
            const __m256 xv = full ? _mm256_loadu_ps(xc + 8 * v)
                                   : _mm256_maskload_ps(xc + 8 * v, last);
            __m256 z = _mm256_sub_ps(_mm256_sub_ps(xv, hi[v]), lo[v]);
            z = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(z, sc[v]), wc), bc);
            if (full)
                _mm256_storeu_ps(yc + 8 * v, z);
            else
                _mm256_maskstore_ps(yc + 8 * v, last, z);
        }
    }
}

__attribute__((target("avx2"))) void normalize_avx2(const float* x, size_t xs, float* y,
                                                    size_t ys, size_t channels, size_t n,
                                                    const float* mean_hi, const float* mean_lo,
                                                    const float* scale, const float* w,
                                                    const float* b) {
    for (size_t t = 0; t < n; t += 32) {
        const size_t len = std::min<size_t>(32, n - t);
        const auto slice = len > 24 ? normalize_slice<4>
                         : len > 16 ? normalize_slice<3>
                         : len > 8  ? normalize_slice<2>
                                    : normalize_slice<1>;
        slice(x + t, xs, y + t, ys, channels, len, mean_hi + t, mean_lo + t, scale + t, w, b);
    }
}
#endif

const NormKernels kScalar{Isa::Scalar, moments_scalar, deviations_scalar, normalize_scalar};
#ifdef RILL_HAVE_AVX2_NORM
const NormKernels kAvx2{Isa::Avx2, moments_avx2, deviations_avx2, normalize_avx2};
#endif

} // namespace

void NormKernels::split(const double* mean, const double* scale, size_t n, float* mean_hi,
                        float* mean_lo, float* scale_f) {
    for (size_t t = 0; t < n; ++t) {
        mean_hi[t] = static_cast<float>(mean[t]);
        mean_lo[t] = static_cast<float>(mean[t] - mean_hi[t]);
        scale_f[t] = static_cast<float>(scale[t]);
    }
}

const NormKernels& norm_kernels(Isa isa) {
#ifdef RILL_HAVE_AVX2_NORM
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2"))
        return kAvx2;
#endif
    return kScalar;
}

const NormKernels& norm_kernels() { return norm_kernels(mac_kernels().isa); }

} // namespace rill
