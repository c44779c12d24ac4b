// Elementwise exp and log over arrays, for the gates and decays of the recurrent ops. Two sets as
// for MacKernels: the scalar reference (std::exp, std::log) and AVX2 polynomial versions
// (range reduction by powers of two, Cephes-style minimax polynomials; max relative error about
// 2e-7 over the normal range). exp underflows to 0 below -87.3 and overflows to +inf above 88.7;
// log of 0 is -inf, of a negative number NaN.
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
};

const VecMath& vec_math();         // the set matching mac_kernels()
const VecMath& vec_math(Isa isa);

// Gate transforms built on them (in place, n values):
//   log_sigmoid(x) = min(x, 0) - log(1 + exp(-|x|))
//   softplus(x)    = max(x, 0) + log(1 + exp(-|x|))
void log_sigmoid_inplace(const VecMath& vm, float* x, size_t n);
void softplus_inplace(const VecMath& vm, float* x, size_t n);

} // namespace rill
