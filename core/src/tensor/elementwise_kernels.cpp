// Unary and binary element-wise steps (math in elementwise.hpp). The function is chosen once per
// run, outside the element loop, so each loop is a straight (vectorisable) loop; same shapes, a
// scalar b and a b that is constant over contiguous blocks of a (per-channel) have their own loops.
#include <cstring>
#include <limits>

#include "../kernels/vmath.hpp"
#include "elementwise.hpp"
#include "kernel.hpp"
#include "vector_clones.hpp"

namespace rill::tensor {
namespace {

template <UnaryFn F>
void unary_loop(const float* x, float* y, int64_t n, float a, float b) noexcept {
    for (int64_t i = 0; i < n; ++i)
        y[i] = apply_unary(F, x[i], a, b);
}

template <BinaryFn F>
void binary_same(const float* a, const float* b, float* y, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i)
        y[i] = apply_binary(F, a[i], b[i]);
}

template <BinaryFn F>
void binary_scalar_b(const float* a, float b, float* y, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i)
        y[i] = apply_binary(F, a[i], b);
}

// b holds one value per block of `inner` contiguous elements of a (a per-channel scale of NCHW).
template <BinaryFn F>
void binary_per_block_b(const float* a, const float* b, float* y, int64_t outer, int64_t inner) noexcept {
    for (int64_t o = 0; o < outer; ++o)
        binary_scalar_b<F>(a + o * inner, b[o], y + o * inner, inner);
}

// x < 0 ? a x : x (leaky relu, prelu) on explicit 8-lane vectors: under -ftrapping-math GCC does
// not turn the select of a plain loop into a blend, so the loop would stay scalar and branchy.
RILL_VECTOR_CLONES void leaky_loop(const float* x, float* y, int64_t n, float a) noexcept {
    typedef float V8 __attribute__((vector_size(32)));
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        V8 v;
        std::memcpy(&v, x + i, sizeof v);
        const V8 r = v < 0.0f ? v * a : v;
        std::memcpy(y + i, &r, sizeof r);
    }
    for (; i < n; ++i)
        y[i] = x[i] < 0.0f ? x[i] * a : x[i];
}

RILL_VECTOR_CLONES void same_arith(BinaryFn f, const float* __restrict a, const float* __restrict b,
                                   float* __restrict y, int64_t n) noexcept {
    switch (f) {
    case BinaryFn::Add: for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i]; break;
    case BinaryFn::Sub: for (int64_t i = 0; i < n; ++i) y[i] = a[i] - b[i]; break;
    case BinaryFn::Mul: for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i]; break;
    case BinaryFn::Div: for (int64_t i = 0; i < n; ++i) y[i] = a[i] / b[i]; break;
    default: break;
    }
}

bool fast_arith(BinaryFn f) {
    return f == BinaryFn::Add || f == BinaryFn::Sub || f == BinaryFn::Mul || f == BinaryFn::Div;
}

#define RILL_UNARY_CASES(X) X(Relu) X(LeakyRelu) X(Elu) X(Sigmoid) X(HardSigmoid) X(HardSwish) \
    X(Tanh) X(Softplus) X(Exp) X(Log) X(Sqrt) X(Abs) X(Neg) X(Reciprocal) X(Erf) X(Gelu)        \
    X(Floor) X(Ceil) X(Round) X(Sin) X(Cos) X(Clip) X(Identity) X(Not)
#define RILL_BINARY_CASES(X) X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Max) X(Min) X(Prelu) X(Equal) \
    X(Less) X(Greater) X(And) X(Or) X(Mod) X(FloorMod)

// Branch-free forms of the piecewise functions (compiled to vector min/max/blend), and the
// sigmoid family on the vectorised exp of kernels/vmath.hpp.
RILL_VECTOR_CLONES void clip_loop(const float* x, float* y, int64_t n, float lo, float hi) noexcept {
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
    }
}
RILL_VECTOR_CLONES void hard_swish_loop(const float* x, float* y, int64_t n) noexcept {
    for (int64_t i = 0; i < n; ++i) {
        float t = x[i] * (1.0f / 6.0f) + 0.5f;
        t = t < 0.0f ? 0.0f : t;
        t = t > 1.0f ? 1.0f : t;
        y[i] = x[i] * t;
    }
}
// sigmoid(x) = 1 / (1 + exp(-x)); tanh(x) = 2 sigmoid(2 x) - 1.
RILL_VECTOR_CLONES void sigmoid_loop(const VecMath& vm, const float* x, float* y, int64_t n, float scale) noexcept {
    for (int64_t i = 0; i < n; ++i)
        y[i] = -scale * x[i];
    vm.exp(y, y, static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        y[i] = 1.0f / (1.0f + y[i]);
}

} // namespace

RILL_VECTOR_CLONES void per_block_binary(BinaryFn f, const float* a, const float* b, float* y, int64_t outer,
                                         int64_t inner) noexcept {
    for (int64_t o = 0; o < outer; ++o) {
        const float bv = b[o];
        const float* ao = a + o * inner;
        float* yo = y + o * inner;
        switch (f) {
        case BinaryFn::Add: for (int64_t i = 0; i < inner; ++i) yo[i] = ao[i] + bv; break;
        case BinaryFn::Sub: for (int64_t i = 0; i < inner; ++i) yo[i] = ao[i] - bv; break;
        case BinaryFn::Mul: for (int64_t i = 0; i < inner; ++i) yo[i] = ao[i] * bv; break;
        case BinaryFn::Div: for (int64_t i = 0; i < inner; ++i) yo[i] = ao[i] / bv; break;
        case BinaryFn::Prelu: leaky_loop(ao, yo, inner, bv); break;
        default: break;
        }
    }
}

void unary_apply(UnaryFn f, float a, float b, const VecMath& vm, const float* x, float* y, int64_t n) noexcept {
    switch (f) {
    case UnaryFn::Relu: clip_loop(x, y, n, 0.0f, std::numeric_limits<float>::infinity()); return;
    case UnaryFn::Clip: clip_loop(x, y, n, a, b); return;
    case UnaryFn::HardSwish: hard_swish_loop(x, y, n); return;
    case UnaryFn::LeakyRelu: leaky_loop(x, y, n, a); return;
    case UnaryFn::Sigmoid: sigmoid_loop(vm, x, y, n, 1.0f); return;
    case UnaryFn::Erf: vm.erf(y, x, static_cast<size_t>(n)); return;
    case UnaryFn::Gelu: gelu(vm, x, y, static_cast<size_t>(n)); return;
    case UnaryFn::Tanh:
        sigmoid_loop(vm, x, y, n, 2.0f);
        for (int64_t i = 0; i < n; ++i)
            y[i] = 2.0f * y[i] - 1.0f;
        return;
    default: break;
    }
    switch (f) {
#define X(name) case UnaryFn::name: unary_loop<UnaryFn::name>(x, y, n, a, b); break;
        RILL_UNARY_CASES(X)
#undef X
    }
}

namespace {

class UnaryKernel final : public TensorKernel {
public:
    UnaryKernel(UnaryFn f, int64_t n, float a, float b) : f_(f), n_(n), a_(a), b_(b), vm_(vec_math()) {}
    void run(const float* const* in, float* const* out, float*) const noexcept override {
        unary_apply(f_, a_, b_, vm_, in[0], out[0], n_);
    }

private:
    UnaryFn f_;
    int64_t n_;
    float a_, b_;
    const VecMath& vm_;
};

class BinaryKernel final : public TensorKernel {
public:
    BinaryKernel(BinaryFn f, const Shape& a, const Shape& b, const Shape& out)
        : f_(f), out_(out), sa_(broadcast_strides(a, out)), sb_(broadcast_strides(b, out)),
          same_(a == out && b == out), scalar_b_(a == out && numel(b) == 1), n_(numel(out)) {
        // b = out's leading axes followed by ones: one b value per contiguous block of a.
        if (a == out && !same_ && !scalar_b_ && b.size() <= out.size()) {
            Shape bb(out.size() - b.size(), 1);
            bb.insert(bb.end(), b.begin(), b.end());
            size_t lead = 0;
            while (lead < bb.size() && bb[lead] == out[lead])
                ++lead;
            bool ones = true;
            for (size_t i = lead; i < bb.size(); ++i)
                ones = ones && bb[i] == 1;
            if (ones && lead < bb.size()) {
                block_outer_ = numel(Shape(out.begin(), out.begin() + static_cast<long>(lead)));
                block_inner_ = n_ / std::max<int64_t>(block_outer_, 1);
            }
        }
    }

    void run(const float* const* in, float* const* out, float*) const noexcept override {
        if (same_ && fast_arith(f_)) {
            same_arith(f_, in[0], in[1], out[0], n_);
        } else if (block_inner_ > 0 && (fast_arith(f_) || f_ == BinaryFn::Prelu)) {
            per_block_binary(f_, in[0], in[1], out[0], block_outer_, block_inner_);
        } else if (same_) {
            switch (f_) {
#define X(name) case BinaryFn::name: binary_same<BinaryFn::name>(in[0], in[1], out[0], n_); break;
                RILL_BINARY_CASES(X)
#undef X
            }
        } else if (scalar_b_) {
            switch (f_) {
#define X(name) case BinaryFn::name: binary_scalar_b<BinaryFn::name>(in[0], in[1][0], out[0], n_); break;
                RILL_BINARY_CASES(X)
#undef X
            }
        } else if (block_inner_ > 0) {
            switch (f_) {
#define X(name) case BinaryFn::name: binary_per_block_b<BinaryFn::name>(in[0], in[1], out[0], block_outer_, block_inner_); break;
                RILL_BINARY_CASES(X)
#undef X
            }
        } else {
            broadcast_binary(f_, in[0], sa_, in[1], sb_, out_, out[0]);
        }
    }

private:
    BinaryFn f_;
    Shape out_;
    std::vector<int64_t> sa_, sb_;
    bool same_, scalar_b_;
    int64_t n_;
    int64_t block_outer_ = 0, block_inner_ = 0;
};

} // namespace

BuiltStep build_elementwise(const StepSpec& s) {
    const std::string fn = attr_string(s.attrs, "fn", "");
    if (s.op == "unary") {
        expect_step_inputs(s, 1, 1);
        const UnaryFn f = unary_fn(fn);
        return {std::make_shared<UnaryKernel>(f, numel(s.in_shapes[0]),
                                              static_cast<float>(attr_float(s.attrs, "alpha", 0)),
                                              static_cast<float>(attr_float(s.attrs, "beta", 0))),
                {s.in_shapes[0]}};
    }
    expect_step_inputs(s, 2, 2);
    const BinaryFn f = binary_fn(fn);
    const Shape out = broadcast_shapes(s.in_shapes[0], s.in_shapes[1]);
    if (out.size() > kMaxRank)
        fail_unsupported("tensors of rank " + std::to_string(out.size()) + " (at most " +
                         std::to_string(kMaxRank) + ")");
    return {std::make_shared<BinaryKernel>(f, s.in_shapes[0], s.in_shapes[1], out), {out}};
}

} // namespace rill::tensor
