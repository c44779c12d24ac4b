#include "packed_linear.hpp"

#include <algorithm>

#include "slope.hpp"

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
                 size_t nr, float (*sums)[kRows], bool, const float*, size_t) {
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
// The later groups of a panel run from L1 and leave the memory system idle: they request the
// next panel's columns into L2 (`ahead`, `ahead_cols` of them, one per column computed), so its
// first group no longer waits on L3.

// The same sums with kRows = 16 rows in two vectors per frame: 2 * NR running sums.
template <size_t NR, bool Prefetch>
__attribute__((target("avx2"), always_inline)) inline void tile_avx2(
    const float* panel, const float* bias, size_t cols, const float* x, size_t xs,
    float (*sums)[kRows], const float* ahead, size_t ahead_cols) {
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
        if (c < ahead_cols)
            _mm_prefetch(reinterpret_cast<const char*>(ahead + c * kRows), _MM_HINT_T1);
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
                                                  size_t nr, float (*sums)[kRows],
                                                  const float* ahead, size_t ahead_cols) {
    switch (nr) {
    case 1: return tile_avx2<1, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    case 2: return tile_avx2<2, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    case 3: return tile_avx2<3, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    case 4: return tile_avx2<4, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    case 5: return tile_avx2<5, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    default: return tile_avx2<6, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    }
}

__attribute__((target("avx2"))) void tile_avx2_any(const float* panel, const float* bias,
                                                   size_t cols, const float* x, size_t xs,
                                                   size_t nr, float (*sums)[kRows],
                                                   bool panel_from_memory, const float* ahead,
                                                   size_t ahead_cols) {
    if (panel_from_memory)
        return tile_avx2_nr<true>(panel, bias, cols, x, xs, nr, sums, ahead, ahead_cols);
    return tile_avx2_nr<false>(panel, bias, cols, x, xs, nr, sums, ahead, ahead_cols);
}
#endif

// (panel, bias, cols, x, xs, frames, sums, whether the panel's first group: it streams in,
//  the next panel's columns to request into L2 meanwhile and how many)
using Tile = void (*)(const float*, const float*, size_t, const float*, size_t, size_t,
                      float (*)[kRows], bool, const float*, size_t);

// Frames in the next group of a chunk with `left` frames to go: groups as even as possible
// (8 frames: 4 + 4, not 6 + 2).
size_t group_frames(size_t left) {
    const size_t groups = (left + kFrames - 1) / kFrames;
    return (left + groups - 1) / groups;
}

// The chunk's frames copied group by group, each group's columns contiguous
// (pack[(t - t0) * cols + c * nr + j] = x[c * xs + t + j]): every panel then reads its
// group's inputs from a few dense lines, whatever the block's channel stride (a stride of a
// power of two put all of a group's columns in two L1 sets).
void pack_chunk(const float* x, size_t xs, size_t cols, size_t frames, float* pack) {
    for (size_t t = 0, nr = 0; t < frames; t += nr) {
        nr = group_frames(frames - t);
        float* group = pack + t * cols;
        for (size_t c = 0; c < cols; ++c)
            for (size_t j = 0; j < nr; ++j)
                group[c * nr + j] = x[c * xs + t + j];
    }
}

// The loop nest shared by both sets: chunks of frames, panels, groups of up to kFrames frames; each
// tile's sums are written to the rows and frames they belong to.
// The epilogue on a tile's sums (rows o0 .. o0 + kRows of frames t .. t + nr), before they are
// stored: the add row by row, then the slope over each frame's 16 rows (a loop that
// vectorises; a scalar one branched on the signs).
void finish_tile(float (*sums)[kRows], size_t rows, size_t nr, size_t o0, size_t t,
                 const LinearEpilogue& e) {
    if (e.add)
        for (size_t r = 0; r < rows; ++r) {
            const float* add = e.add + (o0 + r) * e.add_stride + t;
            for (size_t j = 0; j < nr; ++j)
                sums[j][r] += add[j];
        }
    if (e.slope) {
        float a[kRows] = {};
        for (size_t r = 0; r < rows; ++r)
            a[r] = e.slope[e.slope_count > 1 ? o0 + r : 0];
        for (size_t j = 0; j < nr; ++j)
            for (size_t r = 0; r < kRows; ++r)
                sums[j][r] = slope(sums[j][r], a[r]);
    }
}

template <Tile tile>
void apply(const PackedMatrix& m, const float* x, size_t xs, float* y, size_t ys, size_t n,
           float* pack, const LinearEpilogue& epilogue) {
    float sums[kFrames][kRows];
    for (size_t t0 = 0; t0 < n; t0 += kChunk) {
        const size_t t_end = std::min(n, t0 + kChunk);
        if (pack)
            pack_chunk(x + t0, xs, m.cols, t_end - t0, pack);
        for (size_t q = 0; q < m.panels(); ++q) {
            const size_t rows = std::min(kRows, m.rows - q * kRows);
            // The next panel's columns, shared out over this panel's later groups (over its
            // only group when it has one).
            const size_t groups = (t_end - t0 + kFrames - 1) / kFrames;
            const size_t sharers = std::max<size_t>(groups - 1, 1);
            const size_t share = q + 1 < m.panels() ? (m.cols + sharers - 1) / sharers : 0;
            size_t requested = 0;
            for (size_t t = t0, nr = 0, g = 0; t < t_end; t += nr, ++g) {
                nr = group_frames(t_end - t);
                const size_t ahead_cols =
                    g > 0 || groups == 1 ? std::min(share, m.cols - requested) : 0;
                const float* xg = pack ? pack + (t - t0) * m.cols : x + t;
                tile(m.panel(q), m.bias(q), m.cols, xg, pack ? nr : xs, nr, sums, t == t0,
                     share > 0 ? m.panel(q + 1) + requested * kRows : nullptr, ahead_cols);
                requested += ahead_cols;
                finish_tile(sums, rows, nr, q * kRows, t, epilogue);
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

size_t PackedLinearKernels::pack_floats(size_t cols, size_t max_frames) {
    return cols * std::min(max_frames, kChunk);
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
