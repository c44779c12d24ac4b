// resize_linear {sizes, scales, coordinate_mode}: ONNX Resize mode "linear" (bilinear on two axes,
// and so on), separable: axis by axis, y[o] = (1 - w) x[i0] + w x[i1] with x the source
// coordinate (resize_coordinate.hpp) clamped to [0, in - 1], i0 = floor(x), i1 = min(i0 + 1,
// in - 1), w = x - i0. Axes whose size does not change and whose coordinate is the identity are
// skipped; an upsampled last axis is resized first. Tables of (i0, i1, w) per axis are built at
// load.
#include <algorithm>
#include <cmath>

#include "kernel.hpp"
#include "resize_coordinate.hpp"
#include "vector_clones.hpp"

namespace rill::tensor {
namespace {

struct AxisPass {
    size_t axis = 0;
    Shape in, out; // whole-tensor shapes before and after this pass
    std::vector<int64_t> i0, i1;
    std::vector<float> w;
};

class ResizeLinearKernel final : public TensorKernel {
public:
    explicit ResizeLinearKernel(std::vector<AxisPass> passes, size_t largest)
        : passes_(std::move(passes)), largest_(largest) {}

    size_t scratch_floats() const override { return passes_.size() > 1 ? 2 * largest_ : 0; }

    void run(const float* const* in, float* const* out, float* scratch) const noexcept override {
        const float* src = in[0];
        for (size_t p = 0; p < passes_.size(); ++p) {
            float* dst = p + 1 == passes_.size() ? out[0] : scratch + (p % 2) * largest_;
            apply(passes_[p], src, dst);
            src = dst;
        }
        if (passes_.empty())
            std::copy_n(in[0], numel_, out[0]);
    }

    int64_t numel_ = 0;

private:
    RILL_VECTOR_CLONES static void apply(const AxisPass& a, const float* x, float* y) noexcept {
        int64_t outer = 1, inner = 1;
        for (size_t i = 0; i < a.axis; ++i)
            outer *= a.in[i];
        for (size_t i = a.axis + 1; i < a.in.size(); ++i)
            inner *= a.in[i];
        const int64_t n_in = a.in[a.axis], n_out = a.out[a.axis];
        if (inner == 1) { // the last axis: a gather along each row
            const int64_t* i0 = a.i0.data();
            const int64_t* i1 = a.i1.data();
            const float* w = a.w.data();
            for (int64_t o = 0; o < outer; ++o) {
                const float* r = x + o * n_in;
                float* d = y + o * n_out;
                for (int64_t j = 0; j < n_out; ++j)
                    d[j] = r[i0[j]] + w[j] * (r[i1[j]] - r[i0[j]]);
            }
            return;
        }
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t j = 0; j < n_out; ++j) {
                const float* r0 = x + (o * n_in + a.i0[static_cast<size_t>(j)]) * inner;
                const float* r1 = x + (o * n_in + a.i1[static_cast<size_t>(j)]) * inner;
                const float w = a.w[static_cast<size_t>(j)];
                float* d = y + (o * n_out + j) * inner;
                for (int64_t k = 0; k < inner; ++k)
                    d[k] = r0[k] + w * (r1[k] - r0[k]);
            }
    }

    std::vector<AxisPass> passes_;
    size_t largest_;
};

} // namespace

BuiltStep build_resize_linear(const StepSpec& s) {
    expect_step_inputs(s, 1, 1);
    const Shape& x = s.in_shapes[0];
    const Shape sizes = attr_ints(s.attrs, "sizes", {});
    std::vector<double> scales;
    if (s.attrs.contains("scales"))
        for (const auto& v : s.attrs.at("scales"))
            scales.push_back(v.get<double>());
    if (sizes.size() != x.size() || scales.size() != x.size())
        fail_format("resize_linear needs one size and scale per axis");
    const std::string mode = attr_string(s.attrs, "coordinate_mode", "half_pixel");
    std::vector<AxisPass> passes;
    Shape cur = x;
    size_t largest = 0;
    // An upsampled last axis goes first: its pass gathers, the others run on contiguous rows, so
    // the gather then touches the fewest elements.
    std::vector<size_t> order;
    if (!x.empty() && sizes.back() > x.back())
        order.push_back(x.size() - 1);
    for (size_t a = 0; a < x.size(); ++a)
        if (order.empty() || a != order[0])
            order.push_back(a);
    for (size_t a : order) {
        if (sizes[a] < 1 || scales[a] <= 0)
            fail_format("resize_linear: sizes and scales must be positive");
        AxisPass p;
        p.axis = a;
        p.in = cur;
        p.out = cur;
        p.out[a] = sizes[a];
        bool identity = sizes[a] == x[a];
        for (int64_t o = 0; o < sizes[a]; ++o) {
            const double c = std::clamp(resize_source_coordinate(mode, o, x[a], sizes[a], scales[a]), 0.0,
                                        static_cast<double>(x[a] - 1));
            const auto i0 = static_cast<int64_t>(std::floor(c));
            p.i0.push_back(i0);
            p.i1.push_back(std::min(i0 + 1, x[a] - 1));
            p.w.push_back(static_cast<float>(c - static_cast<double>(i0)));
            identity = identity && i0 == o && c == static_cast<double>(o);
        }
        if (identity)
            continue;
        cur = p.out;
        largest = std::max(largest, static_cast<size_t>(checked_numel(cur)));
        passes.push_back(std::move(p));
    }
    auto kernel = std::make_shared<ResizeLinearKernel>(std::move(passes), largest);
    kernel->numel_ = numel(x);
    return {kernel, {sizes}};
}

} // namespace rill::tensor
