#include "linear_attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gemm.hpp"

namespace rill {
namespace {

// ---- recurrent form -------------------------------------------------------------------------

__attribute__((always_inline)) inline void read_state(const float* S, const float* q, size_t K,
                                                      size_t V, float* __restrict out) {
    std::memset(out, 0, V * sizeof(float));
    for (size_t i = 0; i < K; ++i) {
        const float qi = q[i];
        const float* row = S + i * V;
        for (size_t j = 0; j < V; ++j)
            out[j] += qi * row[j];
    }
}

__attribute__((always_inline)) inline void recurrent_body(const LaSequence& s, float* S,
                                                          float* o, float* p) {
    const size_t K = s.K, V = s.V;
    for (size_t t = 0; t < s.T; ++t) {
        const float* q = s.q + t * K;
        const float* k = s.k + t * K;
        const float* v = s.v + t * V;
        float* ot = o + t * V;
        if (s.x)
            read_state(S, s.y + t * K, K, V, p);
        if (s.exclusive)
            read_state(S, q, K, V, ot);
        const float g_token = (s.g && !s.g_per_channel) ? std::exp(s.g[t]) : 1.0f;
        for (size_t i = 0; i < K; ++i) {
            const float decay =
                (s.g && s.g_per_channel) ? std::exp(s.g[t * K + i]) : g_token;
            const float ki = k[i];
            float* __restrict row = S + i * V;
            if (s.x) {
                const float xi = s.x[t * K + i];
                for (size_t j = 0; j < V; ++j)
                    row[j] = decay * row[j] + xi * p[j] + ki * v[j];
            } else {
                for (size_t j = 0; j < V; ++j)
                    row[j] = decay * row[j] + ki * v[j];
            }
        }
        if (!s.exclusive)
            read_state(S, q, K, V, ot);
    }
}

void recurrent_scalar(const LaSequence& s, float* S, float* o, float* p) {
    recurrent_body(s, S, o, p);
}
#if defined(__x86_64__) && defined(__GNUC__)
#define RILL_HAVE_AVX2_LA 1
__attribute__((target("avx2,fma"))) void recurrent_avx2(const LaSequence& s, float* S, float* o,
                                                        float* p) {
    recurrent_body(s, S, o, p);
}
#endif

// ---- chunkwise form -------------------------------------------------------------------------

struct ChunkScratch {
    float *c, *qs, *qd, *kd_t, *xd_t, *ys, *yd, *aqk, *aqx, *ayk, *ayx, *p;

    static size_t floats(size_t C, size_t K, size_t V) {
        return 5 * C * K + 2 * K * C + 4 * C * C + C * V;
    }
    ChunkScratch(float* base, size_t C, size_t K, size_t V) {
        float* at = base;
        auto take = [&at](size_t n) { float* r = at; at += n; return r; };
        c = take(C * K);
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

// Zeroes A[t, s] for s > t (inclusive) or s >= t (strict).
void mask_upper(float* a, size_t L, size_t ld, bool strict) {
    for (size_t t = 0; t < L; ++t)
        for (size_t s = strict ? t : t + 1; s < L; ++s)
            a[t * ld + s] = 0.0f;
}

// Tokens [t0, t0 + L) of s; returns L (<= C), ending early where the decay range would overflow.
size_t chunk_length(const LaSequence& s, size_t t0, size_t C, float* c) {
    const size_t Kg = s.g_per_channel ? s.K : 1;
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

void chunk(const LaSequence& s, const GemmKernels& gk, size_t t0, size_t L, size_t C, float* S,
           float* o, ChunkScratch& w) {
    const size_t K = s.K, V = s.V;
    const size_t Kg = (s.g && s.g_per_channel) ? K : 1;
    const bool rank1 = s.x != nullptr;
    // c_t (cumulative) at channel i; d_t = c_t - c_0.
    auto cum = [&](size_t t, size_t i) { return w.c[t * Kg + (Kg == 1 ? 0 : i)]; };
    auto d = [&](size_t t, size_t i) { return cum(t, i) - cum(0, i); };
    const float* q = s.q + t0 * K;
    const float* k = s.k + t0 * K;
    const float* v = s.v + t0 * V;
    for (size_t t = 0; t < L; ++t)
        for (size_t i = 0; i < K; ++i) {
            const float qi = q[t * K + i];
            if (s.exclusive) {
                w.qs[t * K + i] = t == 0 ? qi : qi * std::exp(cum(t - 1, i));
                w.qd[t * K + i] = t == 0 ? 0.0f : qi * std::exp(d(t - 1, i));
            } else {
                w.qs[t * K + i] = qi * std::exp(cum(t, i));
                w.qd[t * K + i] = qi * std::exp(d(t, i));
            }
            const float inv = std::exp(-d(t, i));
            w.kd_t[i * C + t] = k[t * K + i] * inv;
            if (rank1) {
                const float yi = s.y[(t0 + t) * K + i];
                w.ys[t * K + i] = t == 0 ? yi : yi * std::exp(cum(t - 1, i));
                w.yd[t * K + i] = t == 0 ? 0.0f : yi * std::exp(d(t - 1, i));
                w.xd_t[i * C + t] = s.x[(t0 + t) * K + i] * inv;
            }
        }
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
        const float keep = std::exp(cum(L - 1, i));
        const float tail = std::exp(d(L - 1, i));
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
#ifdef RILL_HAVE_AVX2_LA
    if (gemm_kernels().isa == Isa::Avx2)
        return recurrent_avx2(s, S, o, scratch);
#endif
    recurrent_scalar(s, S, o, scratch);
}

size_t la_chunk_scratch_floats(size_t chunk, size_t K, size_t V) {
    return ChunkScratch::floats(chunk, K, V);
}

void la_chunkwise(const LaSequence& s, size_t C, float* S, float* o, float* scratch) noexcept {
    const GemmKernels& gk = gemm_kernels();
    ChunkScratch w(scratch, C, s.K, s.V);
    size_t t0 = 0;
    while (t0 < s.T) {
        const size_t L = chunk_length(s, t0, C, w.c);
        chunk(s, gk, t0, L, C, S, o + t0 * s.V, w);
        t0 += L;
    }
}

} // namespace rill
