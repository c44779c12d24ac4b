// image_normalize: per-plane affine normalisation of planar images (a frames signal whose
// channels are planes x pixels, plane-major), with an optional reordering of the planes:
//   y[p, i] = (x[order[p], i] - mean[p]) / std[p]      p < planes, i < pixels, every frame
// Attributes: planes (int), mean and std (one number per plane, or one for all; defaults 0 and
// 1), order (a permutation of 0..planes-1, default identity; [2, 1, 0] turns RGB into BGR).
// Pointwise in time: latency 0, no state.
#include <algorithm>
#include <numeric>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"

namespace rill {
namespace {

class ImageNormalize final : public Op {
public:
    explicit ImageNormalize(const OpBuildContext& ctx) {
        ctx.expect_inputs(1, 1);
        planes_ = ctx.attr_int_required("planes");
        if (planes_ < 1 || planes_ > 64)
            ctx.fail("planes must be in 1..64");
        const auto per_plane = [&](const char* key, double fallback) {
            auto v = ctx.attr_floats(key, {fallback});
            if (v.size() == 1)
                v.assign(static_cast<size_t>(planes_), v[0]);
            if (v.size() != static_cast<size_t>(planes_))
                ctx.fail(std::string("attribute '") + key + "' needs 1 or " + std::to_string(planes_) + " values");
            return v;
        };
        const auto mean = per_plane("mean", 0.0), std_dev = per_plane("std", 1.0);
        std::vector<int64_t> identity(static_cast<size_t>(planes_));
        std::iota(identity.begin(), identity.end(), 0);
        order_ = ctx.attr_ints("order", identity);
        auto sorted = order_;
        std::sort(sorted.begin(), sorted.end());
        if (sorted != identity)
            ctx.fail("attribute 'order' must be a permutation of 0.." + std::to_string(planes_ - 1));
        for (size_t p = 0; p < mean.size(); ++p) {
            if (!(std_dev[p] != 0))
                ctx.fail("attribute 'std' must not be 0");
            scale_.push_back(static_cast<float>(1.0 / std_dev[p]));
            offset_.push_back(static_cast<float>(-mean[p] / std_dev[p]));
        }
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<ImageNormalize>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        if (in[0].channels % planes_ != 0)
            fail_format("image_normalize: " + std::to_string(in[0].channels) + " channels are not " +
                        std::to_string(planes_) + " planes of pixels");
        pixels_ = in[0].channels / static_cast<uint32_t>(planes_);
        return {in[0]};
    }

    void prepare(Arena&, const PrepareInfo&) override {}

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        for (size_t p = 0; p < scale_.size(); ++p) {
            const auto src = static_cast<uint32_t>(order_[p]) * pixels_, dst = static_cast<uint32_t>(p) * pixels_;
            for (uint32_t i = 0; i < pixels_; ++i) {
                const float* x = in[0].channel(src + i);
                float* y = out[0].channel(dst + i);
                for (size_t m = 0; m < n; ++m)
                    y[m] = x[m] * scale_[p] + offset_[p];
            }
        }
    }

private:
    int64_t planes_ = 0;
    uint32_t pixels_ = 0;
    std::vector<int64_t> order_;
    std::vector<float> scale_, offset_;
};

} // namespace

void register_image_normalize_ops(OpRegistry& r) {
    r.add("image_normalize", [](const OpBuildContext& ctx) { return std::make_unique<ImageNormalize>(ctx); });
}

} // namespace rill
