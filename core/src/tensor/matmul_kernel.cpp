// matmul (numpy / ONNX MatMul): y[..., m, n] = sum_k a[..., m, k] b[..., k, n], batch axes
// broadcast; a 1-D a is a row [1, K] and a 1-D b a column [K, 1], their unit axis dropped in y.
// When b has no batch axes the whole batch of a is one matrix product.
#include "../kernels/gemm.hpp"
#include "kernel.hpp"

namespace rill::tensor {
namespace {

class MatmulKernel final : public TensorKernel {
public:
    MatmulKernel(int64_t m, int64_t k, int64_t n, std::vector<int64_t> a_off,
                 std::vector<int64_t> b_off)
        : m_(m), k_(k), n_(n), a_off_(std::move(a_off)), b_off_(std::move(b_off)), gemm_(gemm_kernels()) {}

    void run(const float* const* in, float* const* out, float*) const noexcept override {
        const GemmKernels& gemm = gemm_;
        for (size_t i = 0; i < a_off_.size(); ++i)
            gemm.gemm(static_cast<size_t>(m_), static_cast<size_t>(n_), static_cast<size_t>(k_),
                      in[0] + a_off_[i], static_cast<size_t>(k_), in[1] + b_off_[i],
                      static_cast<size_t>(n_), out[0] + static_cast<int64_t>(i) * m_ * n_,
                      static_cast<size_t>(n_), false);
    }

private:
    int64_t m_, k_, n_;
    std::vector<int64_t> a_off_, b_off_; // per product: offsets of its a and b matrices
    const GemmKernels& gemm_;             // chosen at load, never on the audio thread
};

} // namespace

BuiltStep build_matmul(const StepSpec& s) {
    expect_step_inputs(s, 2, 2);
    Shape a = s.in_shapes[0], b = s.in_shapes[1];
    if (a.empty() || b.empty())
        fail_format("matmul of a scalar");
    const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
    if (a_vec)
        a.insert(a.begin(), 1);
    if (b_vec)
        b.push_back(1);
    const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
    if (b[b.size() - 2] != k)
        fail_format("matmul of " + to_string(s.in_shapes[0]) + " and " + to_string(s.in_shapes[1]));
    const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    const Shape batch = broadcast_shapes(ab, bb);
    Shape out = batch;
    if (!a_vec)
        out.push_back(m);
    if (!b_vec)
        out.push_back(n);
    std::vector<int64_t> a_off, b_off;
    if (bb.empty() || numel(bb) == 1) {
        // One product: all of a's rows against b.
        a_off.push_back(0);
        b_off.push_back(0);
        return {std::make_shared<MatmulKernel>(numel(batch) * m, k, n, a_off, b_off), {out}};
    }
    const auto sa = broadcast_strides(ab, batch), sb = broadcast_strides(bb, batch);
    const int64_t count = numel(batch);
    std::vector<int64_t> idx(batch.size(), 0);
    for (int64_t i = 0; i < count; ++i) {
        int64_t oa = 0, ob = 0;
        for (size_t d = 0; d < batch.size(); ++d)
            oa += idx[d] * sa[d], ob += idx[d] * sb[d];
        a_off.push_back(oa * m * k);
        b_off.push_back(ob * k * n);
        for (size_t d = batch.size(); d-- > 0;) {
            if (++idx[d] < batch[d])
                break;
            idx[d] = 0;
        }
    }
    return {std::make_shared<MatmulKernel>(m, k, n, a_off, b_off), {out}};
}

} // namespace rill::tensor
