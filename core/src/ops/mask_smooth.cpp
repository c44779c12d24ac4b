// mask_smooth: temporal smoothing of a segmentation mask across video frames, training-free and
// motion-aware, reset on scene cuts. Input 0: the model's mask p_t (planes x H x W values per
// frame, usually probabilities); input 1: the guide, the frame the mask was computed from
// (guide_planes x gh x gw, values in [0, 1]). Per frame t and mask pixel i:
//   g_t(i)  = luma of the guide at the pixel nearest to i's centre (one plane: that plane;
//             three: 0.299 R + 0.587 G + 0.114 B)
//   d_t(i)  = |g_t(i) - g_{t-1}(i)|
//   cut_t   = no previous frame (after creation or reset), or mean_i d_t(i) > c
//   a_t(i)  = 0 if cut_t, else s * exp(-(d_t(i) / sigma)^2)
//   m_t(i)  = a_t(i) m_{t-1}(i) + (1 - a_t(i)) p_t(i)           (every plane of the mask)
// so still regions average over about 1 / (1 - s) frames, moving edges (where the image
// changes) follow the new mask at once, and a cut starts afresh. s is the model parameter named by
// attribute `strength` (default "smoothing", 0 = off), c the one named by `scene_cut` (default
// "scene_cut"); sigma is attribute `motion_sigma` (default 0.04). Attributes mask_width,
// mask_height, guide_width, guide_height give the geometry. State: m_{t-1}, g_{t-1} and a flag.
// Latency 0.
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"

namespace rill {
namespace {

class MaskSmooth final : public Op {
public:
    explicit MaskSmooth(const OpBuildContext& ctx) {
        ctx.expect_inputs(2, 2);
        const auto dim = [&](const char* key) {
            const int64_t v = ctx.attr_int_required(key);
            if (v < 1 || v > 16384)
                ctx.fail(std::string("attribute '") + key + "' must be in 1..16384");
            return static_cast<uint32_t>(v);
        };
        mask_w_ = dim("mask_width");
        mask_h_ = dim("mask_height");
        guide_w_ = dim("guide_width");
        guide_h_ = dim("guide_height");
        sigma_ = static_cast<float>(ctx.attr_float("motion_sigma", 0.04));
        if (!(sigma_ > 0))
            ctx.fail("attribute 'motion_sigma' must be > 0");
        strength_param_ = ctx.param_index(ctx.attr_string("strength", "smoothing"), "strength");
        cut_param_ = ctx.param_index(ctx.attr_string("scene_cut", "scene_cut"), "scene_cut");
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<MaskSmooth>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        const uint32_t pixels = mask_w_ * mask_h_, guide_pixels = guide_w_ * guide_h_;
        if (in[0].channels % pixels != 0)
            fail_format("mask_smooth: the mask's " + std::to_string(in[0].channels) +
                        " channels are not planes of " + std::to_string(mask_w_) + "x" + std::to_string(mask_h_));
        if (in[1].channels != guide_pixels && in[1].channels != 3 * guide_pixels)
            fail_format("mask_smooth: the guide's " + std::to_string(in[1].channels) +
                        " channels are not 1 or 3 planes of " + std::to_string(guide_w_) + "x" +
                        std::to_string(guide_h_));
        mask_planes_ = in[0].channels / pixels;
        guide_planes_ = in[1].channels / guide_pixels;
        guide_index_.resize(pixels);
        for (uint32_t y = 0; y < mask_h_; ++y)
            for (uint32_t x = 0; x < mask_w_; ++x) {
                const auto gy = std::min<uint32_t>(guide_h_ - 1, static_cast<uint32_t>((y + 0.5) * guide_h_ / mask_h_));
                const auto gx = std::min<uint32_t>(guide_w_ - 1, static_cast<uint32_t>((x + 0.5) * guide_w_ / mask_w_));
                guide_index_[y * mask_w_ + x] = gy * guide_w_ + gx;
            }
        return {in[0]};
    }

    void prepare(Arena& arena, const PrepareInfo&) override {
        const size_t pixels = static_cast<size_t>(mask_w_) * mask_h_;
        previous_mask_ = arena.state<float>(pixels * mask_planes_);
        previous_guide_ = arena.state<float>(pixels);
        has_previous_ = arena.state<float>(1);
        guide_ = arena.scratch<float>(pixels);
        blend_ = arena.scratch<float>(pixels);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext& ctx) noexcept override {
        const float strength = std::clamp(ctx.params[strength_param_], 0.0f, 1.0f);
        const float cut = ctx.params[cut_param_];
        const uint32_t pixels = mask_w_ * mask_h_, guide_pixels = guide_w_ * guide_h_;
        for (size_t m = 0; m < n; ++m) {
            double change = 0;
            for (uint32_t i = 0; i < pixels; ++i) {
                const uint32_t g = guide_index_[i];
                guide_[i] = guide_planes_ == 1
                                ? in[1].channel(g)[m]
                                : 0.299f * in[1].channel(g)[m] + 0.587f * in[1].channel(guide_pixels + g)[m] +
                                      0.114f * in[1].channel(2 * guide_pixels + g)[m];
                change += std::fabs(guide_[i] - previous_guide_[i]);
            }
            const bool fresh = *has_previous_ == 0 || !(change / pixels <= cut);
            for (uint32_t i = 0; i < pixels; ++i) {
                const float d = (guide_[i] - previous_guide_[i]) / sigma_;
                blend_[i] = fresh ? 0.0f : strength * std::exp(-d * d);
                previous_guide_[i] = guide_[i];
            }
            for (uint32_t p = 0; p < mask_planes_; ++p)
                for (uint32_t i = 0; i < pixels; ++i) {
                    float& state = previous_mask_[p * pixels + i];
                    const float x = in[0].channel(p * pixels + i)[m];
                    state = std::isfinite(x) ? blend_[i] * state + (1 - blend_[i]) * x : state;
                    out[0].channel(p * pixels + i)[m] = state;
                }
            *has_previous_ = 1;
        }
    }

private:
    uint32_t mask_w_ = 0, mask_h_ = 0, guide_w_ = 0, guide_h_ = 0, mask_planes_ = 1, guide_planes_ = 1;
    uint32_t strength_param_ = 0, cut_param_ = 0;
    float sigma_ = 0.04f;
    float* previous_mask_ = nullptr;
    float* previous_guide_ = nullptr;
    float* has_previous_ = nullptr;
    float* guide_ = nullptr;
    float* blend_ = nullptr;
    std::vector<uint32_t> guide_index_; // guide pixel nearest to each mask pixel (set at plan)
};

} // namespace

void register_mask_smooth_ops(OpRegistry& r) {
    r.add("mask_smooth", [](const OpBuildContext& ctx) { return std::make_unique<MaskSmooth>(ctx); });
}

} // namespace rill
