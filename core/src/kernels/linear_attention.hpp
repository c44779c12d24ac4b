// The state rule shared by the linear-attention variants (docs/linear_attention.md), for one head
// with a K x V state S and tokens t = 0..T-1 in token-major arrays:
//
//   S_t = diag(exp(g_t)) S_{t-1} + x_t (y_t^T S_{t-1}) + k_t v_t^T
//   o_t = S_t^T q_t            (inclusive, the fla convention: a token attends to itself)
//   o_t = S_{t-1}^T q_t        (exclusive, RWKV-5: the caller adds its own bonus term)
//
// g is a log decay per key channel ([T, K]), per token ([T], broadcast over K) or absent (0).
// x, y (optional, [T, K]) give the rank-one transition of the delta rules: DeltaNet and its
// gated forms use x = -beta k, y = exp(g) k and write beta k; RWKV-7 uses x = kk * a, y = -kk.
// Any scale is folded into q by the caller.
//
// Two forms with the same state and results (up to rounding):
//   recurrent: one token at a time, O(K V) per token;
//   chunkwise: tokens in chunks of up to C. With c_t the cumulative log decay since the chunk
//     start and d_t = c_t - c_0 (so exp(-d_t) stays finite: a chunk ends early where d_t would
//     drop below -kMaxChunkLogDecay),
//       P (rows p_t = S_{t-1}^T y_t) solves p_t = (y_t e^{c_{t-1}})^T S_0
//                     + sum_{s<t} [(y_t e^{d_{t-1}}) . (x_s e^{-d_s})] p_s + [(y_t e^{d_{t-1}}) . (k_s e^{-d_s})] v_s
//       O = (Q e^{c}) S_0 + mask(Q e^{d} (X e^{-d})^T) P + mask(Q e^{d} (K e^{-d})^T) V
//       S_C = e^{c_last} S_0 + e^{d_last} ((X e^{-d})^T P + (K e^{-d})^T V)
//     (exclusive: c_{t-1}, d_{t-1} for q and a strict mask), computed with small matrix products
//     (gemm.hpp): the Lightning Attention-2 / flash-linear-attention scheme, with the delta rule's
//     in-chunk dependence solved by forward substitution (the WY/UT form).
#pragma once

#include <cstddef>

namespace rill {

struct LaSequence {
    size_t T = 0, K = 0, V = 0;
    const float* q = nullptr;  // [T, K], scale folded in
    const float* k = nullptr;  // [T, K], the key written to the state
    const float* v = nullptr;  // [T, V]
    const float* g = nullptr;  // log decay [T, K] (g_per_channel) or [T], or nullptr
    bool g_per_channel = true;
    const float* x = nullptr;  // [T, K] or nullptr (no rank-one term)
    const float* y = nullptr;  // [T, K]
    bool exclusive = false;
};

inline constexpr float kMaxChunkLogDecay = 60.0f;

// o: [T, V]. S: [K, V], updated in place.
// scratch: at least V + K floats.
void la_recurrent(const LaSequence& s, float* S, float* o, float* scratch) noexcept;

// Floats of scratch la_chunkwise needs for chunks of up to `chunk` tokens.
size_t la_chunk_scratch_floats(size_t chunk, size_t K, size_t V);
void la_chunkwise(const LaSequence& s, size_t chunk, float* S, float* o, float* scratch) noexcept;

} // namespace rill
