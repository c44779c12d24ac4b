#include "vmath.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RILL_HAVE_AVX2_VMATH 1
#endif

#include "lanes.hpp"
namespace rill {
namespace {

void exp_scalar(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i)
        y[i] = std::exp(x[i]);
}
void log_scalar(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i)
        y[i] = std::log(x[i]);
}
void log1p_exp_neg_abs_scalar(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i)
        y[i] = std::log1p(std::exp(-std::fabs(x[i])));
}
void erf_scalar(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i)
        y[i] = std::erf(x[i]);
}

#ifdef RILL_HAVE_AVX2_VMATH
// exp(x) = 2^m exp(r), m = round(x / ln 2), r = x - m ln 2 (two-part ln 2), exp(r) by a degree-6
// polynomial on |r| <= ln2 / 2.
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.7228f), lo = _mm256_set1_ps(-87.3365f);
    const __m256 over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
    const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 m = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(m, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(m, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^m in two halves so m = 128 (x near the top) does not overflow the exponent field.
    const __m256i mi = _mm256_cvtps_epi32(m);
    const __m256i half = _mm256_srai_epi32(mi, 1);
    const __m256 s1 = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(mi, half), _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), over);
    y = _mm256_blendv_ps(y, _mm256_setzero_ps(), under);
    return _mm256_blendv_ps(y, _mm256_set1_ps(NAN), nan);
}

// log(x) = e ln 2 + log(f), x = f 2^e with f in [sqrt(1/2), sqrt(2)), log(1 + u) by a degree-9
// polynomial in u = f - 1. Special values (0, negative, inf, NaN, denormals) go to std::log.
__attribute__((target("avx2,fma"))) inline __m256 log8(__m256 x) {
    const __m256i bits = _mm256_castps_si256(x);
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
    __m256 f = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f800000)));
    // f in [1, 2): fold the upper part to [sqrt(1/2), 1).
    const __m256 big = _mm256_cmp_ps(f, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    f = _mm256_blendv_ps(f, _mm256_mul_ps(f, _mm256_set1_ps(0.5f)), big);
    e = _mm256_add_epi32(e, _mm256_and_si256(_mm256_castps_si256(big), _mm256_set1_epi32(1)));
    const __m256 u = _mm256_sub_ps(f, _mm256_set1_ps(1.0f));
    const __m256 z = _mm256_mul_ps(u, u);
    __m256 p = _mm256_set1_ps(7.0376836292e-2f);
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-1.1514610310e-1f));
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(1.1676998740e-1f));
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-1.2420140846e-1f));
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(1.4249322787e-1f));
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-1.6668057665e-1f));
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(2.0000714765e-1f));
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(-2.4999993993e-1f));
    p = _mm256_fmadd_ps(p, u, _mm256_set1_ps(3.3333331174e-1f));
    p = _mm256_mul_ps(_mm256_mul_ps(p, u), z);
    const __m256 ef = _mm256_cvtepi32_ps(e);
    p = _mm256_fmadd_ps(ef, _mm256_set1_ps(-2.12194440e-4f), p);
    p = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), p);
    return _mm256_fmadd_ps(ef, _mm256_set1_ps(0.693359375f), _mm256_add_ps(u, p));
}

// The last n % 8 elements through masked loads and stores, so every element gets the same
// polynomial wherever it falls in the array (results independent of the block split).
__attribute__((target("avx2,fma"))) void exp_avx2(float* y, const float* x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, exp8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i m = first_lanes(n - i);
        _mm256_maskstore_ps(y + i, m, exp8(_mm256_maskload_ps(x + i, m)));
    }
}

__attribute__((target("avx2,fma"))) void log_avx2(float* y, const float* x, size_t n) {
    size_t i = 0;
    const __m256 tiny = _mm256_set1_ps(1.17549435e-38f), inf = _mm256_set1_ps(INFINITY);
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 normal = _mm256_and_ps(_mm256_cmp_ps(v, tiny, _CMP_GE_OQ),
                                            _mm256_cmp_ps(v, inf, _CMP_LT_OQ));
        if (_mm256_movemask_ps(normal) == 0xff) {
            _mm256_storeu_ps(y + i, log8(v));
        } else {
            for (size_t j = i; j < i + 8; ++j)
                y[j] = std::log(x[j]);
        }
    }
    for (; i < n; ++i)
        y[i] = std::log(x[i]);
}
#endif

#ifdef RILL_HAVE_AVX2_VMATH
// erf(x) = sign(x) erf(z), z = |x|, in two pieces whose coefficients were fitted here (weighted
// least squares, iterated toward minimax, against scipy's erf/erfc in double):
//   z < 0.75:  erf(z) = z Q(z^2), Q of degree 5        (relative error 1.7e-7 in float)
//   z >= 0.75: erf(z) = 1 - t exp(-z^2 + P(t)), t = 1 / (1 + 0.7 z), P of degree 5
//              (absolute error 1.1e-7 in float; the first form loses the small values to
//              cancellation, the second the large ones to rounding)
// NaN stays NaN, +-inf gives +-1.
__attribute__((target("avx2,fma"))) inline __m256 erf8(__m256 x) {
    const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    const __m256 z = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    const __m256 u = _mm256_mul_ps(z, z);
    __m256 q = _mm256_set1_ps(-6.82033016346395e-4f);
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(5.123679991811514e-3f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(-2.683890052139759e-2f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(1.1283455789089203e-1f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(-3.76126229763031e-1f));
    q = _mm256_fmadd_ps(q, u, _mm256_set1_ps(1.1283791065216064f));
    const __m256 small = _mm256_mul_ps(z, q);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.7f), z, one));
    __m256 p = _mm256_set1_ps(-2.6666508987545967e-2f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(3.9344993233680725e-1f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.015453815460205f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(6.640030145645142e-1f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(9.065782427787781e-1f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-9.205600619316101e-1f));
    // exp8 saturates to 0 below -87.3; -inf (z = inf) included.
    const __m256 e = exp8(_mm256_max_ps(_mm256_sub_ps(p, u), _mm256_set1_ps(-100.0f)));
    const __m256 large = _mm256_fnmadd_ps(t, e, one);
    const __m256 r = _mm256_blendv_ps(large, small, _mm256_cmp_ps(z, _mm256_set1_ps(0.75f),
                                                                    _CMP_LT_OQ));
    return _mm256_or_ps(r, sign);
}

__attribute__((target("avx2,fma"))) void erf_avx2(float* y, const float* x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, erf8(_mm256_loadu_ps(x + i)));
    if (i < n) { // masked, as in exp_avx2
        const __m256i m = first_lanes(n - i);
        _mm256_maskstore_ps(y + i, m, erf8(_mm256_maskload_ps(x + i, m)));
    }
}
#endif

#ifdef RILL_HAVE_AVX2_VMATH
// log1p(e), e = exp(-|x|) in (0, 1]: u = 1 + e is in (1, 2] (always normal), and
// log1p(e) = log(u) - ((u - 1) - e) / u corrects the rounding of u for small e.
__attribute__((target("avx2,fma"))) void log1p_exp_neg_abs_avx2(float* y, const float* x,
                                                                size_t n) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) { // NaN: the reference
            log1p_exp_neg_abs_scalar(y + i, x + i, 8);
            continue;
        }
        const __m256 e = exp8(_mm256_or_ps(v, sign)); // exp(-|x|)
        const __m256 u = _mm256_add_ps(one, e);
        const __m256 fix = _mm256_div_ps(_mm256_sub_ps(_mm256_sub_ps(u, one), e), u);
        _mm256_storeu_ps(y + i, _mm256_sub_ps(log8(u), fix));
    }
    log1p_exp_neg_abs_scalar(y + i, x + i, n - i);
}
#endif

const VecMath kScalar{Isa::Scalar, exp_scalar, log_scalar, log1p_exp_neg_abs_scalar, erf_scalar};
#ifdef RILL_HAVE_AVX2_VMATH
const VecMath kAvx2{Isa::Avx2, exp_avx2, log_avx2, log1p_exp_neg_abs_avx2, erf_avx2};
#endif

} // namespace

const VecMath& vec_math(Isa isa) {
#ifdef RILL_HAVE_AVX2_VMATH
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return kAvx2;
#endif
    return kScalar;
}

const VecMath& vec_math() { return vec_math(mac_kernels().isa); }

namespace {

// x <- sign * max(sign * x, 0) + sign * log(1 + exp(-|x|)), in pieces through a stack buffer:
// sign -1 gives log_sigmoid, +1 softplus.
void gate_inplace(const VecMath& vm, float* x, size_t n, float sign) {
    float t[256];
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t m = std::min<size_t>(256, n - i0);
        vm.log1p_exp_neg_abs(t, x + i0, m);
        for (size_t i = 0; i < m; ++i)
            x[i0 + i] = sign * (std::max(sign * x[i0 + i], 0.0f) + t[i]);
    }
}

} // namespace

void log_sigmoid_inplace(const VecMath& vm, float* x, size_t n) { gate_inplace(vm, x, n, -1.0f); }

void softplus_inplace(const VecMath& vm, float* x, size_t n) { gate_inplace(vm, x, n, 1.0f); }

void gelu(const VecMath& vm, const float* x, float* y, size_t n) {
    float t[256];
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t m = std::min<size_t>(256, n - i0);
        for (size_t i = 0; i < m; ++i)
            t[i] = x[i0 + i] * 0.70710678118654752f;
        vm.erf(t, t, m);
        for (size_t i = 0; i < m; ++i)
            y[i0 + i] = 0.5f * x[i0 + i] * (1.0f + t[i]);
    }
}

} // namespace rill
