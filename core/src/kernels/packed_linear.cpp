#include "packed_linear.hpp"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RILL_HAVE_AVX2_PACKED 1
#endif

namespace rill {
namespace {

constexpr size_t kRows = PackedMatrix::kRows;
constexpr size_t kFrames = PackedLinearKernels::kFrames;
// Frames per pass over all panels: the block's slice (cols x kChunk floats) stays in L2.
constexpr size_t kChunk = 24 * kFrames;

// sums[j][r] = bias[r] + sum_c panel[c][r] * x[c * xs + j], j < nr (the reference).
void tile_scalar(const float* panel, const float* bias, size_t cols, const float* x, size_t xs,
                 size_t nr, float (*sums)[kRows], bool) {
    for (size_t j = 0; j < nr; ++j)
        std::copy_n(bias, kRows, sums[j]);
    for (size_t c = 0; c < cols; ++c) {
        const float* w = panel + c * kRows;
        for (size_t j = 0; j < nr; ++j) {
            const float v = x[c * xs + j];
            for (size_t r = 0; r < kRows; ++r)
                sums[j][r] += w[r] * v;
        }
    }
}

#ifdef RILL_HAVE_AVX2_PACKED
// Panel columns (one cache line each) requested ahead while a panel streams in from L3 for the
// first group of frames (the later groups find it in L1, where prefetching cost 2 %): Conv-TasNet
// at the paper's size runs 13 % faster end to end in blocks of 64 samples, 5 % in blocks of 256.
constexpr size_t kPrefetchCols = 64;

// The same sums with kRows = 16 rows in two vectors per frame: 2 * NR running sums.
template <size_t NR, bool Prefetch>
__attribute__((target("avx2"), always_inline)) inline void tile_avx2(
    const float* panel, const float* bias, size_t cols, const float* x, size_t xs,
    float (*sums)[kRows]) {
    static_assert(kRows == 16, "two 8-lane vectors per frame");
    __m256 lo[NR], hi[NR];
#pragma GCC unroll 8
    for (size_t j = 0; j < NR; ++j) {
        lo[j] = _mm256_loadu_ps(bias);
        hi[j] = _mm256_loadu_ps(bias + 8);
    }
    for (size_t c = 0; c < cols; ++c) {
        if (Prefetch)
            _mm_prefetch(reinterpret_cast<const char*>(panel + (c + kPrefetchCols) * kRows),
                         _MM_HINT_T0);
        const __m256 w0 = _mm256_loadu_ps(panel + c * kRows);
        const __m256 w1 = _mm256_loadu_ps(panel + c * kRows + 8);
        const float* xc = x + c * xs;
    #pragma GCC unroll 8
    for (size_t j = 0; j < NR; ++j) {
            const __m256 v = _mm256_broadcast_ss(xc + j);
            lo[j] = _mm256_add_ps(lo[j], _mm256_mul_ps(w0, v));
            hi[j] = _mm256_add_ps(hi[j], _mm256_mul_ps(w1, v));
        }
    }
#pragma GCC unroll 8
    for (size_t j = 0; j < NR; ++j) {
        _mm256_storeu_ps(sums[j], lo[j]);
        _mm256_storeu_ps(sums[j] + 8, hi[j]);
    }
}

template <bool Prefetch>
__attribute__((target("avx2"))) void tile_avx2_nr(const float* panel, const float* bias,
                                                  size_t cols, const float* x, size_t xs,
                                                  size_t nr, float (*sums)[kRows]) {
    switch (nr) {
    case 1: return tile_avx2<1, Prefetch>(panel, bias, cols, x, xs, sums);
    case 2: return tile_avx2<2, Prefetch>(panel, bias, cols, x, xs, sums);
    case 3: return tile_avx2<3, Prefetch>(panel, bias, cols, x, xs, sums);
    case 4: return tile_avx2<4, Prefetch>(panel, bias, cols, x, xs, sums);
    case 5: return tile_avx2<5, Prefetch>(panel, bias, cols, x, xs, sums);
    default: return tile_avx2<6, Prefetch>(panel, bias, cols, x, xs, sums);
    }
}

__attribute__((target("avx2"))) void tile_avx2_any(const float* panel, const float* bias,
                                                   size_t cols, const float* x, size_t xs,
                                                   size_t nr, float (*sums)[kRows],
                                                   bool panel_from_memory) {
    if (panel_from_memory)
        return tile_avx2_nr<true>(panel, bias, cols, x, xs, nr, sums);
    return tile_avx2_nr<false>(panel, bias, cols, x, xs, nr, sums);
}
#endif

// (panel, bias, cols, x, xs, frames, sums, whether the panel's first group: it streams in)
using Tile = void (*)(const float*, const float*, size_t, const float*, size_t, size_t,
                      float (*)[kRows], bool);

// The loop nest shared by both sets: chunks of frames, panels, groups of up to kFrames frames; each
// tile's sums are written to the rows and frames they belong to.
template <Tile tile>
void apply(const PackedMatrix& m, const float* x, size_t xs, float* y, size_t ys, size_t n) {
    float sums[kFrames][kRows];
    for (size_t t0 = 0; t0 < n; t0 += kChunk) {
        const size_t t_end = std::min(n, t0 + kChunk);
        for (size_t q = 0; q < m.panels(); ++q) {
            const size_t rows = std::min(kRows, m.rows - q * kRows);
            for (size_t t = t0, nr = 0; t < t_end; t += nr) {
                // groups as even as possible (8 frames: 4 + 4, not 6 + 2)
                const size_t left = t_end - t, groups = (left + kFrames - 1) / kFrames;
                nr = (left + groups - 1) / groups;
                tile(m.panel(q), m.bias(q), m.cols, x + t, xs, nr, sums, t == t0);
                for (size_t r = 0; r < rows; ++r) {
                    float* yr = y + (q * kRows + r) * ys + t;
                    for (size_t j = 0; j < nr; ++j)
                        yr[j] = sums[j][r];
                }
            }
        }
    }
}

const PackedLinearKernels kScalar{Isa::Scalar, apply<tile_scalar>};
#ifdef RILL_HAVE_AVX2_PACKED
const PackedLinearKernels kAvx2{Isa::Avx2, apply<tile_avx2_any>};
#endif

} // namespace

PackedMatrix pack_matrix(const float* w, size_t rows, size_t cols, size_t ld, const float* bias) {
    PackedMatrix m;
    m.rows = rows;
    m.cols = cols;
    const size_t panels = m.panels();
    m.data.assign(panels * kRows * (cols + 1), 0.0f);
    for (size_t o = 0; o < rows; ++o) {
        float* panel = m.data.data() + (o / kRows) * cols * kRows + o % kRows;
        for (size_t c = 0; c < cols; ++c)
            panel[c * kRows] = w[o * ld + c];
        if (bias)
            m.data[panels * cols * kRows + o] = bias[o];
    }
    return m;
}

const PackedLinearKernels& packed_linear_kernels(Isa isa) {
#ifdef RILL_HAVE_AVX2_PACKED
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2"))
        return kAvx2;
#endif
    return kScalar;
}

const PackedLinearKernels& packed_linear_kernels() {
    return packed_linear_kernels(mac_kernels().isa);
}

} // namespace rill
