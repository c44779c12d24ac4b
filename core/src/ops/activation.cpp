// Elementwise activations, y[c,t] = f(x[c,t]; a_c), with a_c an optional per-channel (or single)
// parameter:
//   relu        max(x, 0)
//   leaky_relu  x >= 0 ? x : a x               a = attr negative_slope (0.01)
//   prelu       x >= 0 ? x : a_c x             a = weight `weight` [C] or [1] (He et al. 2015)
//   gelu        x Phi(x) = x/2 (1 + erf(x / sqrt 2))          (Hendrycks & Gimpel 2016)
//               approximate "tanh": x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//   silu        x sigmoid(x)                                   (Elfwing et al. 2018)
//   tanh        tanh(x)
//   sigmoid     1 / (1 + exp(-x))
//   elu         x > 0 ? x : a (exp(x) - 1)     a = attr alpha (1.0)   (Clevert et al. 2015)
//   snake       x + sin(a_c x)^2 / (a_c + 1e-9)  a = weight `alpha` [C] (Ziyin et al. 2020)
// One op class; a table maps each name to its kernel and the source of its parameter.
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "../kernels/slope.hpp"
#include "../kernels/vmath.hpp"
#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

float relu(float x, float) { return x > 0.0f ? x : 0.0f; }
float leaky(float x, float a) { return slope(x, a); }
float gelu_tanh(float x, float) {
    const float k = 0.79788456080286536f; // sqrt(2 / pi)
    return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}
float sigmoid(float x, float) { return 1.0f / (1.0f + std::exp(-x)); }
float silu(float x, float) { return x * sigmoid(x, 0.0f); }
float tanh_fn(float x, float) { return std::tanh(x); }
float elu(float x, float a) { return x > 0.0f ? x : a * std::expm1(x); }
float snake(float x, float a) {
    const float s = std::sin(a * x);
    return x + s * s / (a + 1e-9f);
}

using ChannelKernel = void (*)(const float* x, float* y, size_t n, float a);

// One loop per activation, with the scalar function inlined.
template <float (*F)(float, float)>
void apply_channel(const float* x, float* y, size_t n, float a) {
    for (size_t t = 0; t < n; ++t)
        y[t] = F(x[t], a);
}

// GELU with erf from the vector math set (kernels/vmath.hpp).
void gelu_channel(const float* x, float* y, size_t n, float) { gelu(vec_math(), x, y, n); }

// sigmoid with exp from the vector math set (y may alias x): exp(-x) overflows to inf below
// -88.7, giving 0, and underflows to 0 above 87.3, giving 1, as the scalar form does.
void sigmoid_channel(const float* x, float* y, size_t n, float) {
    for (size_t t = 0; t < n; ++t)
        y[t] = -x[t];
    vec_math().exp(y, y, n);
    for (size_t t = 0; t < n; ++t)
        y[t] = 1.0f / (1.0f + y[t]);
}

// Where an activation's parameter comes from.
enum class ParamSource { None, Attr, Weight };

struct ActivationSpec {
    const char* name;
    ChannelKernel kernel;
    ParamSource source = ParamSource::None;
    const char* key = nullptr; // attribute or weight role
    double fallback = 0.0;     // attribute default
    bool allow_single = false; // weight may be [1] instead of [C]
};

const ActivationSpec kActivations[] = {
    {"relu", apply_channel<relu>},
    {"leaky_relu", apply_channel<leaky>, ParamSource::Attr, "negative_slope", 0.01},
    {"prelu", apply_channel<leaky>, ParamSource::Weight, "weight", 0.0, true},
    {"gelu", gelu_channel}, // "approximate" picks gelu_tanh, see make()
    {"silu", apply_channel<silu>},
    {"tanh", apply_channel<tanh_fn>},
    {"sigmoid", sigmoid_channel},
    {"elu", apply_channel<elu>, ParamSource::Attr, "alpha", 1.0},
    {"snake", apply_channel<snake>, ParamSource::Weight, "alpha", 0.0, false},
};

class ActivationOp final : public Op {
public:
    ActivationOp(const ActivationSpec& spec, ChannelKernel kernel, Tensor param)
        : spec_(spec), kernel_(kernel), param_(std::move(param)) {}

    static std::unique_ptr<Op> make(const ActivationSpec& spec, const OpBuildContext& ctx) {
        ctx.expect_inputs(1, 1);
        ChannelKernel kernel = spec.kernel;
        Tensor param = make_tensor({1}, {0.0f});
        if (spec.source == ParamSource::Attr) {
            param = make_tensor({1}, {static_cast<float>(ctx.attr_float(spec.key, spec.fallback))});
        } else if (spec.source == ParamSource::Weight) {
            param = ctx.weight(spec.key, {-1});
        }
        if (std::string(spec.name) == "gelu") {
            const std::string approximate = ctx.attr_string("approximate", "none");
            if (approximate == "tanh")
                kernel = apply_channel<gelu_tanh>;
            else if (approximate != "none")
                ctx.fail("attribute 'approximate' must be \"none\" or \"tanh\", got \"" +
                         approximate + "\"");
        }
        return std::make_unique<ActivationOp>(spec, kernel, std::move(param));
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<ActivationOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        if (spec_.source == ParamSource::Weight)
            ops::require_per_channel(spec_.key, param_.numel(), inputs[0].channels,
                                     spec_.allow_single);
        return {inputs[0]};
    }

    void prepare(Arena&, const PrepareInfo&) override {}

    std::optional<EpilogueStage> as_epilogue_stage() const override {
        if (spec_.kernel != apply_channel<leaky>)
            return std::nullopt;
        return EpilogueStage{EpilogueStage::Kind::Slope, param_};
    }

    void process(const ConstView* in, const View* out, size_t in_frames, size_t,
                 const ProcessContext&) noexcept override {
        const bool per_channel = param_.numel() > 1;
        if (!per_channel && in_frames < kShortRow)
            return process_short_rows(in[0], out[0], in_frames);
        for (uint32_t c = 0; c < out[0].channels; ++c)
            kernel_(in[0].channel(c), out[0].channel(c), in_frames,
                    param_.data[per_channel ? c : 0]);
    }

private:
    // Rows shorter than a vector (a frame or a few per call, e.g. the vocoder's hop-by-hop
    // stream over channels x bins): gathered into one buffer, so the kernel runs over many rows
    // at once instead of once per row on a few elements.
    static constexpr size_t kShortRow = 8, kBatch = 256;
    // A few floats: a loop, not a library call per row.
    __attribute__((optimize("no-tree-loop-distribute-patterns"), always_inline)) static void
    copy_short(const float* from, float* to, size_t n) noexcept {
        for (size_t i = 0; i < n; ++i)
            to[i] = from[i];
    }
    void process_short_rows(const ConstView& in, const View& out, size_t n) const noexcept {
        if (n == 0)
            return;
        if (in.stride == n && out.stride == n) // the rows are one array
            return kernel_(in.data, out.data, out.channels * n, param_.data[0]);
        float batch[kBatch];
        const size_t rows_per_batch = kBatch / n;
        for (uint32_t c0 = 0; c0 < out.channels; c0 += rows_per_batch) {
            const uint32_t rows = std::min<uint32_t>(rows_per_batch, out.channels - c0);
            for (uint32_t r = 0; r < rows; ++r)
                copy_short(in.channel(c0 + r), batch + r * n, n);
            kernel_(batch, batch, rows * n, param_.data[0]);
            for (uint32_t r = 0; r < rows; ++r)
                copy_short(batch + r * n, out.channel(c0 + r), n);
        }
    }

    ActivationSpec spec_;
    ChannelKernel kernel_;
    Tensor param_; // [1] or [C]
};

} // namespace

void register_activation_ops(OpRegistry& r) {
    for (const ActivationSpec& spec : kActivations)
        r.add(spec.name,
              [&spec](const OpBuildContext& ctx) { return ActivationOp::make(spec, ctx); });
}

} // namespace rill
