#include "linear_attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gemm.hpp"
#include "transpose.hpp"
#include "vmath.hpp"

namespace rill {
namespace {

// ---- recurrent form -------------------------------------------------------------------------

// One token: S <- diag(decay) S + x p^T + k v^T and o = S^T q (inclusive) or S_old^T q
// (exclusive), in one pass over the rows of S; p = S_old^T y needs a pass of its own before.
__attribute__((always_inline)) inline void step_body(float* S, size_t K, size_t V,
                                                     const float* decay, bool per_channel,
                                                     const float* q, const float* k,
                                                     const float* v, const float* x,
                                                     const float* y, bool exclusive,
                                                     float* __restrict o, float* __restrict p) {
    if (x) {
        std::memset(p, 0, V * sizeof(float));
        for (size_t i = 0; i < K; ++i) {
            const float yi = y[i];
            const float* row = S + i * V;
            for (size_t j = 0; j < V; ++j)
                p[j] += yi * row[j];
        }
    }
    std::memset(o, 0, V * sizeof(float));
    for (size_t i = 0; i < K; ++i) {
        const float di = per_channel ? decay[i] : decay[0];
        const float ki = k[i], qi = q[i], xi = x ? x[i] : 0.0f;
        float* __restrict row = S + i * V;
        if (exclusive)
            for (size_t j = 0; j < V; ++j)
                o[j] += qi * row[j];
        if (x)
            for (size_t j = 0; j < V; ++j)
                row[j] = di * row[j] + xi * p[j] + ki * v[j];
        else
            for (size_t j = 0; j < V; ++j)
                row[j] = di * row[j] + ki * v[j];
        if (!exclusive)
            for (size_t j = 0; j < V; ++j)
                o[j] += qi * row[j];
    }
}

__attribute__((always_inline)) inline void recurrent_body(const LaSequence& s, const VecMath& vm,
                                                          float* S, float* o, float* scratch) {
    const size_t K = s.K, V = s.V;
    float* p = scratch;
    float* decay = scratch + V;
    const bool per_channel = s.g && s.g_per_channel;
    if (!s.g)
        decay[0] = 1.0f;
    for (size_t t = 0; t < s.T; ++t) {
        if (per_channel)
            vm.exp(decay, s.g + t * K, K);
        else if (s.g)
            decay[0] = std::exp(s.g[t]);
        step_body(S, K, V, decay, per_channel, s.q + t * K, s.k + t * K, s.v + t * V,
                  s.x ? s.x + t * K : nullptr, s.y ? s.y + t * K : nullptr, s.exclusive,
                  o + t * V, p);
    }
}

void recurrent_scalar(const LaSequence& s, const VecMath& vm, float* S, float* o, float* w) {
    recurrent_body(s, vm, S, o, w);
}
#if defined(__x86_64__) && defined(__GNUC__)
#define RILL_HAVE_AVX2_LA 1
__attribute__((target("avx2,fma"))) void recurrent_avx2(const LaSequence& s, const VecMath& vm,
                                                        float* S, float* o, float* w) {
    recurrent_body(s, vm, S, o, w);
}
#endif

// ---- chunkwise form -------------------------------------------------------------------------

struct ChunkScratch {
    float *c, *e, *e0, *ek, *e0k, *inv, *qs, *qd, *kd, *xd, *kd_t, *xd_t, *ys, *yd;
    float *aqk, *aqx, *ayk, *ayx, *p;

    static size_t floats(size_t C, size_t K, size_t V) {
        return 9 * C * K + 3 * K + 2 * K * C + 4 * C * C + C * V;
    }
    ChunkScratch(float* base, size_t C, size_t K, size_t V) {
        float* at = base;
        auto take = [&at](size_t n) { float* r = at; at += n; return r; };
        c = take(C * K);
        e = take(C * K);
        e0 = take(K);
        ek = take(C * K);
        e0k = take(K);
        inv = take(K);
        kd = take(C * K);
        xd = take(C * K);
        qs = take(C * K);
        qd = take(C * K);
        ys = take(C * K);
        yd = take(C * K);
        kd_t = take(K * C);
        xd_t = take(K * C);
        aqk = take(C * C);
        aqx = take(C * C);
        ayk = take(C * C);
        ayx = take(C * C);
        p = take(C * V);
    }
};

// dst[i * ld + t] = src[t * K + i] for t < L, i < K: token rows into channel rows.
void transpose(const float* src, size_t L, size_t K, float* dst, size_t ld) {
    const TransposeKernels& tk = transpose_kernels();
    for (size_t i0 = 0; i0 < K; i0 += 8) {
        const size_t n = std::min<size_t>(8, K - i0);
        float* rows[8];
        for (size_t c = 0; c < n; ++c)
            rows[c] = dst + (i0 + c) * ld;
        tk.scatter(src + i0, K, n, L, rows);
    }
}

// Zeroes A[t, s] for s > t (inclusive) or s >= t (strict).
void mask_upper(float* a, size_t L, size_t ld, bool strict) {
    for (size_t t = 0; t < L; ++t)
        for (size_t s = strict ? t : t + 1; s < L; ++s)
            a[t * ld + s] = 0.0f;
}

// Tokens [t0, t0 + L) of s; returns L (<= C), ending early where the decay range would overflow.
size_t chunk_length(const LaSequence& s, size_t t0, size_t C, float* c) {
    const size_t Kg = (s.g && s.g_per_channel) ? s.K : 1;
    const size_t n = std::min(C, s.T - t0);
    if (!s.g) {
        std::fill_n(c, n * Kg, 0.0f);
        return n;
    }
    for (size_t i = 0; i < Kg; ++i)
        c[i] = s.g[t0 * Kg + i];
    for (size_t t = 1; t < n; ++t) {
        bool overflow = false;
        for (size_t i = 0; i < Kg; ++i) {
            c[t * Kg + i] = c[(t - 1) * Kg + i] + s.g[(t0 + t) * Kg + i];
            overflow |= c[t * Kg + i] - c[i] < -kMaxChunkLogDecay;
        }
        if (overflow)
            return t;
    }
    return n;
}

void chunk(const LaSequence& s, const GemmKernels& gk, const VecMath& vm, size_t t0, size_t L,
           size_t C, float* S, float* o, ChunkScratch& w) {
    const size_t K = s.K, V = s.V;
    const size_t Kg = (s.g && s.g_per_channel) ? K : 1;
    const bool rank1 = s.x != nullptr;
    // E_t = exp(d_t) = exp(c_t - c_0) and e0 = exp(c_0), per channel (or per token).
    for (size_t t = 0; t < L; ++t)
        for (size_t i = 0; i < Kg; ++i)
            w.e[t * Kg + i] = w.c[t * Kg + i] - w.c[i];
    vm.exp(w.e, w.e, L * Kg);
    vm.exp(w.e0, w.c, Kg);
    // Per-token decays are broadcast over the K channels so every loop below runs over i.
    const float* Ek = w.e;
    const float* E0 = w.e0;
    if (Kg == 1) {
        for (size_t t = 0; t < L; ++t)
            std::fill_n(w.ek + t * K, K, w.e[t]);
        std::fill_n(w.e0k, K, w.e0[0]);
        Ek = w.ek;
        E0 = w.e0k;
    }
    auto E = [&](size_t t, size_t i) { return Ek[t * K + i]; };
    auto e0 = [&](size_t i) { return E0[i]; };
    const float* q = s.q + t0 * K;
    const float* k = s.k + t0 * K;
    const float* v = s.v + t0 * V;
    for (size_t t = 0; t < L; ++t) {
        const float* qt = q + t * K;
        float* __restrict qs = w.qs + t * K;
        float* __restrict qd = w.qd + t * K;
        // Decay from the chunk start up to the state q reads: through t (inclusive) or t - 1.
        if (s.exclusive && t == 0) {
            std::copy_n(qt, K, qs);
            std::fill_n(qd, K, 0.0f);
        } else {
            const float* eq = Ek + (s.exclusive ? t - 1 : t) * K;
            for (size_t i = 0; i < K; ++i) {
                qd[i] = qt[i] * eq[i];
                qs[i] = qd[i] * E0[i];
            }
        }
        const float* et = Ek + t * K;
        float* __restrict inv = w.inv;
        for (size_t i = 0; i < K; ++i)
            inv[i] = 1.0f / et[i];
        float* __restrict kd = w.kd + t * K;
        for (size_t i = 0; i < K; ++i)
            kd[i] = k[t * K + i] * inv[i];
        if (rank1) {
            const float* yt = s.y + (t0 + t) * K;
            const float* xt = s.x + (t0 + t) * K;
            float* __restrict ys = w.ys + t * K;
            float* __restrict yd = w.yd + t * K;
            float* __restrict xd = w.xd + t * K;
            if (t == 0) {
                std::copy_n(yt, K, ys);
                std::fill_n(yd, K, 0.0f);
            } else {
                const float* ep = Ek + (t - 1) * K;
                for (size_t i = 0; i < K; ++i) {
                    yd[i] = yt[i] * ep[i];
                    ys[i] = yd[i] * E0[i];
                }
            }
            for (size_t i = 0; i < K; ++i)
                xd[i] = xt[i] * inv[i];
        }
    }
    transpose(w.kd, L, K, w.kd_t, C);
    if (rank1)
        transpose(w.xd, L, K, w.xd_t, C);
    // Intra-chunk score matrices.
    gk.gemm(L, L, K, w.qd, K, w.kd_t, C, w.aqk, C, false);
    mask_upper(w.aqk, L, C, s.exclusive);
    if (rank1) {
        gk.gemm(L, L, K, w.qd, K, w.xd_t, C, w.aqx, C, false);
        mask_upper(w.aqx, L, C, s.exclusive);
        gk.gemm(L, L, K, w.yd, K, w.kd_t, C, w.ayk, C, false);
        mask_upper(w.ayk, L, C, true);
        gk.gemm(L, L, K, w.yd, K, w.xd_t, C, w.ayx, C, false);
        mask_upper(w.ayx, L, C, true);
        // P = Ys S_0 + Ayk V, then p_t += sum_{s<t} Ayx[t, s] p_s.
        gk.gemm(L, V, K, w.ys, K, S, V, w.p, V, false);
        gk.gemm(L, V, L, w.ayk, C, v, V, w.p, V, true);
        for (size_t t = 1; t < L; ++t)
            for (size_t u = 0; u < t; ++u) {
                const float a = w.ayx[t * C + u];
                const float* pu = w.p + u * V;
                float* pt = w.p + t * V;
                for (size_t j = 0; j < V; ++j)
                    pt[j] += a * pu[j];
            }
    }
    // Outputs.
    gk.gemm(L, V, K, w.qs, K, S, V, o, V, false);
    gk.gemm(L, V, L, w.aqk, C, v, V, o, V, true);
    if (rank1)
        gk.gemm(L, V, L, w.aqx, C, w.p, V, o, V, true);
    // State: rows scaled by the decay of the whole chunk, plus the chunk's writes.
    for (size_t i = 0; i < K; ++i) {
        const float tail = E(L - 1, i);
        const float keep = tail * e0(i);
        float* row = S + i * V;
        for (size_t j = 0; j < V; ++j)
            row[j] *= keep;
        for (size_t t = 0; t < L; ++t) {
            w.kd_t[i * C + t] *= tail;
            if (rank1)
                w.xd_t[i * C + t] *= tail;
        }
    }
    gk.gemm(K, V, L, w.kd_t, C, v, V, S, V, true);
    if (rank1)
        gk.gemm(K, V, L, w.xd_t, C, w.p, V, S, V, true);
}

} // namespace

void la_recurrent(const LaSequence& s, float* S, float* o, float* scratch) noexcept {
    const VecMath& vm = vec_math();
#ifdef RILL_HAVE_AVX2_LA
    if (vm.isa == Isa::Avx2)
        return recurrent_avx2(s, vm, S, o, scratch);
#endif
    recurrent_scalar(s, vm, S, o, scratch);
}

size_t la_chunk_scratch_floats(size_t chunk, size_t K, size_t V) {
    return ChunkScratch::floats(chunk, K, V);
}

void la_chunkwise(const LaSequence& s, size_t C, float* S, float* o, float* scratch) noexcept {
    const GemmKernels& gk = gemm_kernels();
    const VecMath& vm = vec_math();
    ChunkScratch w(scratch, C, s.K, s.V);
    size_t t0 = 0;
    while (t0 < s.T) {
        const size_t L = chunk_length(s, t0, C, w.c);
        chunk(s, gk, vm, t0, L, C, S, o + t0 * s.V, w);
        t0 += L;
    }
}

} // namespace rill
