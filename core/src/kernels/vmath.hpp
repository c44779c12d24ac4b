// Elementwise exp, log and erf over arrays, for the gates and decays of the recurrent ops and
// GELU. Two sets as for MacKernels: the scalar reference (std::exp, std::log, std::erf) and AVX2
// polynomial versions (exp, log: range reduction by powers of two, Cephes-style minimax
// polynomials, max relative error about 2e-7 over the normal range; erf: see vmath.cpp). exp
// underflows to 0 below -87.3 and overflows to +inf above 88.7; log of 0 is -inf, of a negative
// number NaN.
#pragma once

#include <cstddef>

#include "mac.hpp"

namespace rill {

struct VecMath {
    Isa isa;
    void (*exp)(float* y, const float* x, size_t n); // y may alias x
    void (*log)(float* y, const float* x, size_t n);
    // y = log(1 + exp(-|x|)), the shared part of the gate transforms below (one pass)
    void (*log1p_exp_neg_abs)(float* y, const float* x, size_t n);
    // y = erf(x); AVX2: two fitted polynomial pieces (vmath.cpp), absolute error about 2e-7
    void (*erf)(float* y, const float* x, size_t n);
};

const VecMath& vec_math();         // the set matching mac_kernels()
const VecMath& vec_math(Isa isa);

// Gate transforms built on them (in place, n values):
//   log_sigmoid(x) = min(x, 0) - log(1 + exp(-|x|))
//   softplus(x)    = max(x, 0) + log(1 + exp(-|x|))
void log_sigmoid_inplace(const VecMath& vm, float* x, size_t n);
void softplus_inplace(const VecMath& vm, float* x, size_t n);
//   gelu(x)        = x/2 (1 + erf(x / sqrt 2))   (Hendrycks & Gimpel 2016; y may be x)
void gelu(const VecMath& vm, const float* x, float* y, size_t n);

} // namespace rill
