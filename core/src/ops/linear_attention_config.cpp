#include "linear_attention_config.hpp"

#include <cmath>

namespace rill::la {
namespace {

struct VariantName {
    const char* name;
    Variant variant;
};

constexpr VariantName kVariants[] = {
    {"linear", Variant::Linear},         {"retention", Variant::Retention},
    {"simple_gla", Variant::SimpleGla},  {"gla", Variant::Gla},
    {"delta", Variant::Delta},           {"gated_delta", Variant::GatedDelta},
    {"kda", Variant::Kda},               {"delta_product", Variant::DeltaProduct},
    {"mamba2", Variant::Mamba2},         {"mlstm", Variant::Mlstm},
    {"rwkv5", Variant::Rwkv5},           {"rwkv7", Variant::Rwkv7},
};

template <typename T, size_t N>
T pick(const OpBuildContext& ctx, const char* key, const std::string& value,
       const std::pair<const char*, T> (&options)[N]) {
    std::string known;
    for (const auto& [name, v] : options) {
        if (value == name)
            return v;
        known += std::string(known.empty() ? "" : ", ") + name;
    }
    ctx.fail(std::string("attribute '") + key + "' is '" + value + "'; expected one of " + known);
}

} // namespace

const char* variant_name(Variant v) {
    for (const auto& e : kVariants)
        if (e.variant == v)
            return e.name;
    return "?";
}

bool Config::has_decay_input() const {
    switch (variant) {
    case Variant::SimpleGla:
    case Variant::Gla:
    case Variant::GatedDelta:
    case Variant::Kda:
    case Variant::Mamba2:
    case Variant::Rwkv7:
        return true;
    case Variant::DeltaProduct:
        return gated;
    default:
        return false;
    }
}

bool Config::has_beta_input() const {
    return variant == Variant::Delta || variant == Variant::GatedDelta || variant == Variant::Kda ||
           variant == Variant::DeltaProduct;
}

bool Config::decay_per_channel() const {
    return variant == Variant::Gla || variant == Variant::Kda || variant == Variant::Rwkv7 ||
           variant == Variant::Rwkv5;
}

bool Config::delta_rule() const { return has_beta_input(); }

std::vector<std::string> Config::input_names() const {
    std::vector<std::string> names{"q", "k", "v"};
    if (variant == Variant::Mamba2)
        return {"C", "B", "x", "dt"};
    if (variant == Variant::Mlstm)
        return {"q", "k", "v", "i", "f"};
    if (variant == Variant::Rwkv7)
        return {"r", "k", "v", "w", "kk", "a"};
    if (variant == Variant::Rwkv5)
        return {"r", "k", "v"};
    if (has_decay_input())
        names.push_back("g");
    if (has_beta_input())
        names.push_back("beta");
    return names;
}

size_t Config::num_inputs() const { return input_names().size(); }

Config read_config(const OpBuildContext& ctx) {
    Config c;
    const std::string variant = ctx.attr_string("variant", "");
    bool found = false;
    std::string known;
    for (const auto& e : kVariants) {
        known += std::string(known.empty() ? "" : ", ") + e.name;
        if (variant == e.name) {
            c.variant = e.variant;
            found = true;
        }
    }
    if (!found)
        ctx.fail("attribute 'variant' is '" + variant + "'; expected one of " + known);

    const int64_t heads = ctx.attr_int_required("heads");
    const int64_t value_heads = ctx.attr_int("value_heads", heads);
    if (heads < 1 || heads > 4096 || value_heads < heads || value_heads % heads != 0 ||
        value_heads > 65536)
        ctx.fail("attributes 'heads' (" + std::to_string(heads) + ") and 'value_heads' (" +
                 std::to_string(value_heads) +
                 ") must be positive with value_heads a multiple of heads");
    c.heads = static_cast<size_t>(heads);
    c.value_heads = static_cast<size_t>(value_heads);
    if ((c.variant == Variant::Rwkv5 || c.variant == Variant::Rwkv7) && c.value_heads != c.heads)
        ctx.fail("rwkv variants need value_heads == heads");

    const int64_t steps = ctx.attr_int("householder_steps", 1);
    if (steps < 1 || steps > 16 || (steps > 1 && c.variant != Variant::DeltaProduct))
        ctx.fail("attribute 'householder_steps' must be in 1..16 (and > 1 only for delta_product)");
    c.steps = static_cast<size_t>(steps);
    c.gated = ctx.attr_int("gated", 0) != 0;

    const bool unit_scale = c.variant == Variant::Mamba2 || c.variant == Variant::Mlstm ||
                            c.variant == Variant::Rwkv5 || c.variant == Variant::Rwkv7;
    c.scale_given = ctx.has_attr("scale") || unit_scale;
    c.scale = static_cast<float>(ctx.attr_float("scale", 1.0));
    if (!std::isfinite(c.scale))
        ctx.fail("attribute 'scale' must be finite");
    c.normalize = ctx.attr_int("normalize", 0) != 0;
    if (c.normalize && c.variant != Variant::Linear)
        ctx.fail("attribute 'normalize' applies to variant 'linear' only");

    const std::string qk_norm = ctx.attr_string("qk_norm", "none");
    if (qk_norm != "none" && qk_norm != "l2")
        ctx.fail("attribute 'qk_norm' is '" + qk_norm + "'; expected none or l2");
    c.qk_l2 = qk_norm == "l2";
    const std::pair<const char*, FeatureMap> maps[] = {
        {"identity", FeatureMap::Identity}, {"elu", FeatureMap::Elu}, {"relu", FeatureMap::Relu},
        {"hedgehog", FeatureMap::Hedgehog}};
    c.feature_map = pick(ctx, "feature_map", ctx.attr_string("feature_map", "identity"), maps);
    if (c.feature_map == FeatureMap::Hedgehog && (c.variant != Variant::Linear || c.qk_l2))
        ctx.fail("feature_map 'hedgehog' applies to variant 'linear' (without qk_norm)");

    const std::pair<const char*, DecayTransform> decays[] = {
        {"log", DecayTransform::Log},
        {"logsigmoid", DecayTransform::LogSigmoid},
        {"softplus", DecayTransform::Softplus}};
    c.decay = pick(ctx, "decay", ctx.attr_string("decay", c.variant == Variant::Mamba2 ? "softplus"
                                                                                       : "log"),
                   decays);
    c.gate_normalizer = static_cast<float>(ctx.attr_float("gate_normalizer", 1.0));
    if (!(c.gate_normalizer > 0) || !std::isfinite(c.gate_normalizer))
        ctx.fail("attribute 'gate_normalizer' must be positive");
    c.gate_clamp_min = static_cast<float>(ctx.attr_float("gate_clamp_min", -1e30));
    if (c.decay == DecayTransform::Softplus) {
        c.a_log = ctx.weight("A_log", {static_cast<int64_t>(c.value_heads)});
        c.dt_bias = ctx.weight("dt_bias");
    }
    if (c.variant == Variant::Mamba2 && c.decay != DecayTransform::Softplus)
        ctx.fail("variant 'mamba2' takes raw dt with decay 'softplus'");
    if (const Tensor* d = ctx.optional_weight("D", {static_cast<int64_t>(c.value_heads)})) {
        if (c.variant != Variant::Mamba2)
            ctx.fail("weight 'D' belongs to variant 'mamba2'");
        c.d_skip = *d;
    }

    const std::pair<const char*, BetaTransform> betas[] = {{"value", BetaTransform::Value},
                                                           {"sigmoid", BetaTransform::Sigmoid}};
    c.beta = pick(ctx, "beta", ctx.attr_string("beta", "value"), betas);
    c.allow_neg_eigval = ctx.attr_int("allow_neg_eigval", 0) != 0;

    const int64_t chunk = ctx.attr_int("chunk_size", 64);
    if (chunk < 1 || chunk > 1024)
        ctx.fail("attribute 'chunk_size' must be in 1..1024");
    c.chunk_size = static_cast<size_t>(chunk);
    const int64_t min_frames = ctx.attr_int("chunk_min_frames", 16);
    if (min_frames < 1)
        ctx.fail("attribute 'chunk_min_frames' must be positive");
    c.chunk_min_frames = static_cast<size_t>(min_frames);

    if (c.variant == Variant::Rwkv5) {
        c.time_decay = ctx.weight("time_decay");
        c.time_first = ctx.weight("time_first");
    }
    if (const Tensor* rk = ctx.optional_weight("r_k")) {
        if (c.variant != Variant::Rwkv7)
            ctx.fail("weight 'r_k' belongs to variant 'rwkv7'");
        c.r_k = *rk;
    }
    ctx.expect_inputs(c.num_inputs(), c.num_inputs());
    return c;
}

} // namespace rill::la
