// What a `linear_attention` node asks for (docs/linear_attention.md): the variant, head layout,
// gate transforms and weights, validated at load. The op (linear_attention.cpp) turns each frame
// into the kernel's inputs (kernels/linear_attention.hpp) according to this configuration.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "rill/core/op.hpp"
#include "rill/core/tensor.hpp"

namespace rill::la {

enum class Variant {
    Linear,       // S += k v^T (optionally normalised)
    Retention,    // fixed decay gamma_h = 1 - 2^(-5-h)
    SimpleGla,    // scalar decay per head and token
    Gla,          // decay per key channel
    Delta,        // delta rule
    GatedDelta,   // delta rule with scalar decay
    Kda,          // delta rule with per-channel decay
    DeltaProduct, // n Householder (delta) steps per token, optional scalar decay
    Mamba2,       // SSD: h = exp(A dt) h + (x dt) B^T, y = h C + D x
    Mlstm,        // stabilised mLSTM (xlstm)
    Rwkv5,        // exclusive read with bonus u, per-channel constant decay
    Rwkv7,        // generalised delta rule with kk, a
};

enum class DecayTransform { Log, LogSigmoid, Softplus };
enum class BetaTransform { Value, Sigmoid };
enum class FeatureMap { Identity, Elu, Relu, Hedgehog }; // hedgehog: softmax([2x, -2x]), 2K

struct Config {
    Variant variant = Variant::Linear;
    size_t heads = 1;        // H: query/key heads
    size_t value_heads = 1;  // HV: value heads (multiple of H; q and k shared by HV/H heads)
    size_t steps = 1;        // DeltaProduct: Householder steps per token
    float scale = 0;         // multiplies q (default K^-0.5, 1 for mamba2/mlstm/rwkv)
    bool scale_given = false;
    bool normalize = false;  // linear: divide by scale q.z + 1e-10
    bool qk_l2 = false;      // q, k <- x / sqrt(sum x^2 + 1e-6) per head
    FeatureMap feature_map = FeatureMap::Identity;
    DecayTransform decay = DecayTransform::Log;
    float gate_normalizer = 1.0f;
    float gate_clamp_min = -1e30f;
    BetaTransform beta = BetaTransform::Value;
    bool allow_neg_eigval = false;
    bool gated = false;      // DeltaProduct with a decay input
    size_t chunk_size = 64;
    size_t chunk_min_frames = 16; // blocks at least this long use the chunkwise form

    Tensor a_log, dt_bias, d_skip;     // softplus decay (mamba2, gated_delta, kda); mamba2 D
    Tensor time_decay, time_first;     // rwkv5
    Tensor r_k;                        // rwkv7 bonus (optional)

    bool has_decay_input() const;
    bool has_beta_input() const;
    bool decay_per_channel() const;    // g has K values per value head
    bool delta_rule() const;           // rank-one transition from beta
    size_t num_inputs() const;         // q, k, v, then the variant's gate inputs
    std::vector<std::string> input_names() const;
};

Config read_config(const OpBuildContext& ctx);
const char* variant_name(Variant v);

} // namespace rill::la
