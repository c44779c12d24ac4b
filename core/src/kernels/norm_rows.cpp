#include "norm_rows.hpp"

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
__attribute__((target("avx2"))) void moments_avx2(const float* x, size_t xs, size_t channels,
                                                  size_t n, double* s1, double* s2) {
    moments_body(x, xs, channels, n, s1, s2);
}
__attribute__((target("avx2"))) void deviations_avx2(const float* x, size_t xs, size_t channels,
                                                     size_t n, const double* mean, double* s2) {
    deviations_body(x, xs, channels, n, mean, s2);
}
__attribute__((target("avx2"))) void normalize_avx2(const float* x, size_t xs, float* y,
                                                    size_t ys, size_t channels, size_t n,
                                                    const float* mean_hi, const float* mean_lo,
                                                    const float* scale, const float* w,
                                                    const float* b) {
    normalize_body(x, xs, y, ys, channels, n, mean_hi, mean_lo, scale, w, b);
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
