// Unary and binary element-wise steps (math in elementwise.hpp). The function is chosen once per
// run, outside the element loop, so each loop is a straight (vectorisable) loop.
#include "elementwise.hpp"
#include "kernel.hpp"

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

#define RILL_UNARY_CASES(X) X(Relu) X(LeakyRelu) X(Elu) X(Sigmoid) X(HardSigmoid) X(HardSwish) \
    X(Tanh) X(Softplus) X(Exp) X(Log) X(Sqrt) X(Abs) X(Neg) X(Reciprocal) X(Erf) X(Gelu)        \
    X(Floor) X(Ceil) X(Round) X(Sin) X(Cos) X(Clip) X(Identity) X(Not)
#define RILL_BINARY_CASES(X) X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Max) X(Min) X(Prelu) X(Equal) \
    X(Less) X(Greater) X(And) X(Or) X(Mod)

class UnaryKernel final : public TensorKernel {
public:
    UnaryKernel(UnaryFn f, int64_t n, float a, float b) : f_(f), n_(n), a_(a), b_(b) {}
    void run(const float* const* in, float* const* out, float*) const noexcept override {
        switch (f_) {
#define X(name) case UnaryFn::name: unary_loop<UnaryFn::name>(in[0], out[0], n_, a_, b_); break;
            RILL_UNARY_CASES(X)
#undef X
        }
    }

private:
    UnaryFn f_;
    int64_t n_;
    float a_, b_;
};

class BinaryKernel final : public TensorKernel {
public:
    BinaryKernel(BinaryFn f, const Shape& a, const Shape& b, const Shape& out)
        : f_(f), out_(out), sa_(broadcast_strides(a, out)), sb_(broadcast_strides(b, out)),
          same_(a == out && b == out), scalar_b_(a == out && numel(b) == 1), n_(numel(out)) {}

    void run(const float* const* in, float* const* out, float*) const noexcept override {
        if (same_) {
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
