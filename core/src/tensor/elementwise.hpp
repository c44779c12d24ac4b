// Element-wise math of the tensor programs, one definition used twice: on float activations at
// run time (ElementwiseKernel) and on double constants during import folding.
//   unary  y = f(x; alpha, beta):  relu, leaky_relu (x<0 ? alpha x : x), elu (alpha (e^x - 1)),
//          sigmoid, hard_sigmoid (clip(alpha x + beta, 0, 1)), hard_swish (x hard_sigmoid(x) with
//          alpha 1/6, beta 1/2), tanh, softplus (log(1 + e^x)), exp, log, sqrt, abs, neg,
//          reciprocal, erf, gelu (x/2 (1 + erf(x / sqrt 2))), floor, ceil, round (half to even),
//          sin, cos, clip (to [alpha, beta]), identity, not (x == 0).
//   binary y = f(a, b) with numpy broadcasting: add, sub, mul, div, pow, max, min,
//          prelu (a < 0 ? b a : a), equal, less, greater, and, or, mod (fmod: a - b trunc(a / b),
//          the sign of a), floor_mod (a - b floor(a / b), the sign of b: Python's %).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "../kernels/vmath.hpp"
#include "shape.hpp"

namespace rill::tensor {

enum class UnaryFn {
    Relu, LeakyRelu, Elu, Sigmoid, HardSigmoid, HardSwish, Tanh, Softplus, Exp, Log, Sqrt, Abs,
    Neg, Reciprocal, Erf, Gelu, Floor, Ceil, Round, Sin, Cos, Clip, Identity, Not
};
enum class BinaryFn { Add, Sub, Mul, Div, Pow, Max, Min, Prelu, Equal, Less, Greater, And, Or, Mod, FloorMod };

// y = f(x) over n floats with the vectorised loops of the unary step (elementwise_kernels.cpp);
// y may be x. Also the fused activation of convolutions.
void unary_apply(UnaryFn f, float a, float b, const VecMath& vm, const float* x, float* y, int64_t n) noexcept;

// y[o, i] = f(a[o, i], b[o]), o < outer, i < inner, for add, sub, mul, div and prelu (the
// per-channel affine of folded batch norms and the PReLU of activations and conv epilogues); y
// may be a.
void per_block_binary(BinaryFn f, const float* a, const float* b, float* y, int64_t outer, int64_t inner) noexcept;

// By name ("relu", "add", ...); throws CoreError{Format} naming the unknown function.
UnaryFn unary_fn(const std::string& name);
BinaryFn binary_fn(const std::string& name);

template <class T>
inline T apply_unary(UnaryFn f, T x, T alpha, T beta) {
    switch (f) {
    case UnaryFn::Relu: return x > T(0) ? x : T(0);
    case UnaryFn::LeakyRelu: return x < T(0) ? alpha * x : x;
    case UnaryFn::Elu: return x < T(0) ? alpha * (std::exp(x) - T(1)) : x;
    case UnaryFn::Sigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnaryFn::HardSigmoid: return std::clamp(alpha * x + beta, T(0), T(1));
    case UnaryFn::HardSwish: return x * std::clamp(x / T(6) + T(0.5), T(0), T(1));
    case UnaryFn::Tanh: return std::tanh(x);
    case UnaryFn::Softplus: return x > T(20) ? x : std::log1p(std::exp(x));
    case UnaryFn::Exp: return std::exp(x);
    case UnaryFn::Log: return std::log(x);
    case UnaryFn::Sqrt: return std::sqrt(x);
    case UnaryFn::Abs: return std::fabs(x);
    case UnaryFn::Neg: return -x;
    case UnaryFn::Reciprocal: return T(1) / x;
    case UnaryFn::Erf: return std::erf(x);
    case UnaryFn::Gelu: return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752)));
    case UnaryFn::Floor: return std::floor(x);
    case UnaryFn::Ceil: return std::ceil(x);
    case UnaryFn::Round: return std::nearbyint(x);
    case UnaryFn::Sin: return std::sin(x);
    case UnaryFn::Cos: return std::cos(x);
    case UnaryFn::Clip: return std::min(std::max(x, alpha), beta);
    case UnaryFn::Identity: return x;
    case UnaryFn::Not: return x == T(0) ? T(1) : T(0);
    }
    return x;
}

template <class T>
inline T apply_binary(BinaryFn f, T a, T b) {
    switch (f) {
    case BinaryFn::Add: return a + b;
    case BinaryFn::Sub: return a - b;
    case BinaryFn::Mul: return a * b;
    case BinaryFn::Div: return a / b;
    case BinaryFn::Pow: return b == T(2) ? a * a : std::pow(a, b);
    case BinaryFn::Max: return std::max(a, b);
    case BinaryFn::Min: return std::min(a, b);
    case BinaryFn::Prelu: return a < T(0) ? a * b : a;
    case BinaryFn::Equal: return a == b ? T(1) : T(0);
    case BinaryFn::Less: return a < b ? T(1) : T(0);
    case BinaryFn::Greater: return a > b ? T(1) : T(0);
    case BinaryFn::And: return (a != T(0) && b != T(0)) ? T(1) : T(0);
    case BinaryFn::Or: return (a != T(0) || b != T(0)) ? T(1) : T(0);
    case BinaryFn::Mod: return std::fmod(a, b);
    case BinaryFn::FloorMod: {
        const T r = std::fmod(a, b);
        return r != T(0) && (r < T(0)) != (b < T(0)) ? r + b : r;
    }
    }
    return a;
}

constexpr size_t kMaxRank = 16; // tensors of the programs have at most this many axes

// out[shape] = f(a broadcast, b broadcast); strides from broadcast_strides(). The innermost axis
// runs as a tight loop; `out` may alias neither input unless the shapes are equal. Allocation-free
// (rank <= kMaxRank, checked when the step is built).
template <class T>
void broadcast_binary(BinaryFn f, const T* a, const std::vector<int64_t>& sa, const T* b,
                      const std::vector<int64_t>& sb, const Shape& shape, T* out) {
    const size_t r = shape.size();
    if (r == 0) {
        out[0] = apply_binary(f, a[0], b[0]);
        return;
    }
    const int64_t inner = shape[r - 1], ia = sa[r - 1], ib = sb[r - 1];
    const int64_t outer = inner ? numel(shape) / inner : 0;
    int64_t idx[kMaxRank] = {};
    int64_t oa = 0, ob = 0;
    for (int64_t o = 0; o < outer; ++o) {
        const T* pa = a + oa;
        const T* pb = b + ob;
        T* po = out + o * inner;
        for (int64_t i = 0; i < inner; ++i)
            po[i] = apply_binary(f, pa[i * ia], pb[i * ib]);
        for (size_t ax = r - 1; ax-- > 0;) {
            oa += sa[ax];
            ob += sb[ax];
            if (++idx[ax] < shape[ax])
                break;
            oa -= sa[ax] * shape[ax];
            ob -= sb[ax] * shape[ax];
            idx[ax] = 0;
        }
    }
}

} // namespace rill::tensor
