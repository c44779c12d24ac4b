#include "mac.hpp"

#include <cstdlib>
#include <cstring>

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
#endif

const MacKernels kScalar{Isa::Scalar, taps_scalar, axpy_scalar};
#ifdef RILL_HAVE_AVX2_KERNELS
const MacKernels kAvx2{Isa::Avx2, taps_avx2, axpy_avx2};
#endif

} // namespace

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
