#include "packed_linear.hpp"

#include <algorithm>

#include "slope.hpp"
#include "transpose8.hpp"

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

// The requests of column c: the panel's own line kPrefetchCols ahead (while it streams in), the
// next panel's line c (while this one runs from L1).
template <bool Prefetch>
__attribute__((always_inline)) inline void request_columns(const float* panel, size_t c,
                                                           const float* ahead,
                                                           size_t ahead_cols) {
    if (Prefetch)
        _mm_prefetch(reinterpret_cast<const char*>(panel + (c + kPrefetchCols) * kRows),
                     _MM_HINT_T0);
    if (c < ahead_cols)
        _mm_prefetch(reinterpret_cast<const char*>(ahead + c * kRows), _MM_HINT_T1);
}

// The same sums with kRows = 16 rows in two vectors per frame: 2 * NR running sums, each term
// a fused multiply-add.
template <size_t NR, bool Prefetch>
__attribute__((target("avx2,fma"), always_inline)) inline void tile_avx2(
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
        request_columns<Prefetch>(panel, c, ahead, ahead_cols);
        const __m256 w0 = _mm256_loadu_ps(panel + c * kRows);
        const __m256 w1 = _mm256_loadu_ps(panel + c * kRows + 8);
        const float* xc = x + c * xs;
    #pragma GCC unroll 8
    for (size_t j = 0; j < NR; ++j) {
            const __m256 v = _mm256_broadcast_ss(xc + j);
            lo[j] = _mm256_fmadd_ps(w0, v, lo[j]);
            hi[j] = _mm256_fmadd_ps(w1, v, hi[j]);
        }
    }
#pragma GCC unroll 8
    for (size_t j = 0; j < NR; ++j) {
        _mm256_storeu_ps(sums[j], lo[j]);
        _mm256_storeu_ps(sums[j] + 8, hi[j]);
    }
}

template <bool Prefetch>
__attribute__((target("avx2,fma"))) void tile_avx2_nr(const float* panel, const float* bias,
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

// The same fused multiply-adds on 16-lane vectors, one per frame (a panel column is one vector):
// up to kWideFrames frames per pass over the panel, so a panel streams in from L3 for fewer,
// longer groups (4 B per cycle instead of 16 at 4 frames: far enough ahead for its prefetches).
// Each sum sees the same operations in the same order as in tile_avx2: the same bits.
constexpr size_t kWideFrames = 16;

template <size_t NR, bool Prefetch>
__attribute__((target("avx512f"), always_inline)) inline void tile_avx512(
    const float* panel, const float* bias, size_t cols, const float* x, size_t xs,
    float (*sums)[kRows], const float* ahead, size_t ahead_cols) {
    static_assert(kRows == 16, "one 16-lane vector per frame");
    __m512 acc[NR];
#pragma GCC unroll 16
    for (size_t j = 0; j < NR; ++j)
        acc[j] = _mm512_loadu_ps(bias);
    for (size_t c = 0; c < cols; ++c) {
        request_columns<Prefetch>(panel, c, ahead, ahead_cols);
        const __m512 w = _mm512_loadu_ps(panel + c * kRows);
        const float* xc = x + c * xs;
#pragma GCC unroll 16
        for (size_t j = 0; j < NR; ++j)
            acc[j] = _mm512_fmadd_ps(w, _mm512_set1_ps(xc[j]), acc[j]);
    }
#pragma GCC unroll 16
    for (size_t j = 0; j < NR; ++j)
        _mm512_storeu_ps(sums[j], acc[j]);
}

template <bool Prefetch>
__attribute__((target("avx512f"))) void tile_avx512_nr(const float* panel, const float* bias,
                                                       size_t cols, const float* x, size_t xs,
                                                       size_t nr, float (*sums)[kRows],
                                                       const float* ahead, size_t ahead_cols) {
    switch (nr) {
#define RILL_WIDE_TILE(N)                                                                        \
    case N: return tile_avx512<N, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    RILL_WIDE_TILE(1) RILL_WIDE_TILE(2) RILL_WIDE_TILE(3) RILL_WIDE_TILE(4) RILL_WIDE_TILE(5)
    RILL_WIDE_TILE(6) RILL_WIDE_TILE(7) RILL_WIDE_TILE(8) RILL_WIDE_TILE(9) RILL_WIDE_TILE(10)
    RILL_WIDE_TILE(11) RILL_WIDE_TILE(12) RILL_WIDE_TILE(13) RILL_WIDE_TILE(14)
    RILL_WIDE_TILE(15)
#undef RILL_WIDE_TILE
    default: return tile_avx512<16, Prefetch>(panel, bias, cols, x, xs, sums, ahead, ahead_cols);
    }
}

// The first group of a panel (it streams in) or a later one (from L1).
using TileNr = void (*)(const float*, const float*, size_t, const float*, size_t, size_t,
                        float (*)[kRows], const float*, size_t);
template <TileNr Streaming, TileNr Cached>
void tile_either(const float* panel, const float* bias, size_t cols, const float* x, size_t xs,
                 size_t nr, float (*sums)[kRows], bool panel_from_memory, const float* ahead,
                 size_t ahead_cols) {
    (panel_from_memory ? Streaming : Cached)(panel, bias, cols, x, xs, nr, sums, ahead,
                                             ahead_cols);
}
#endif

// (panel, bias, cols, x, xs, frames, sums, whether the panel's first group: it streams in,
//  the next panel's columns to request into L2 meanwhile and how many)
using Tile = void (*)(const float*, const float*, size_t, const float*, size_t, size_t,
                      float (*)[kRows], bool, const float*, size_t);

// Frames in the next group of a chunk with `left` frames to go, groups of at most `most` frames
// as even as possible (8 frames in groups of 6: 4 + 4, not 6 + 2).
size_t group_frames(size_t left, size_t most) {
    const size_t groups = (left + most - 1) / most;
    return (left + groups - 1) / groups;
}

// The chunk's frames copied group by group, each group's columns contiguous
// (pack[(t - t0) * cols + c * nr + j] = x[c * xs + t + j]): every panel then reads its
// group's inputs from a few dense lines, whatever the block's channel stride (a stride of a
// power of two put all of a group's columns in two L1 sets).
void pack_chunk(const float* x, size_t xs, size_t cols, size_t frames, size_t most,
                float* pack) {
    for (size_t t = 0, nr = 0; t < frames; t += nr) {
        nr = group_frames(frames - t, most);
        float* group = pack + t * cols;
        for (size_t c = 0; c < cols; ++c)
            for (size_t j = 0; j < nr; ++j)
                group[c * nr + j] = x[c * xs + t + j];
    }
}

// The epilogue on one stored row (frames t0 .. t0 + n of output row o), in place: the add, then
// the slope, each a contiguous loop that vectorises.
void finish_row(float* yr, size_t n, size_t o, size_t t0, const LinearEpilogue& e) {
    if (e.add) {
        const float* add = e.add + o * e.add_stride + t0;
        for (size_t t = 0; t < n; ++t)
            yr[t] += add[t];
    }
    if (e.slope)
        slope_row(yr, n, e.slope[e.slope_count > 1 ? o : 0]);
}

// (staged sums [frame][row] of one panel over a chunk, rows, frames, first output row o0, first
//  frame t0, y at row o0 and frame t0, ys, epilogue): the rows written out with the epilogue.
using Store = void (*)(const float (*)[kRows], size_t, size_t, size_t, size_t, float*, size_t,
                       const LinearEpilogue&);

void store_scalar(const float (*staged)[kRows], size_t rows, size_t frames, size_t o0, size_t t0,
                  float* y, size_t ys, const LinearEpilogue& e) {
    for (size_t r = 0; r < rows; ++r) {
        float* yr = y + r * ys;
        for (size_t t = 0; t < frames; ++t)
            yr[t] = staged[t][r];
        finish_row(yr, frames, o0 + r, t0, e);
    }
}

#ifdef RILL_HAVE_AVX2_PACKED
// 8 x 8 blocks of the staged sums transposed in registers, the epilogue applied, rows stored 8
// frames at a time; the last frames % 8 as in store_scalar.
__attribute__((target("avx2"))) void store_avx2(const float (*staged)[kRows], size_t rows,
                                                size_t frames, size_t o0, size_t t0, float* y,
                                                size_t ys, const LinearEpilogue& e) {
    const size_t full = frames / 8 * 8;
    for (size_t r0 = 0; r0 < rows; r0 += 8) {
        const size_t nrows = std::min<size_t>(8, rows - r0);
        for (size_t t = 0; t < full; t += 8) {
            __m256 v[8]; // frames t.. of rows r0.., then rows r0.. of frames t..
            for (size_t i = 0; i < 8; ++i)
                v[i] = _mm256_loadu_ps(staged[t + i] + r0);
            transpose8(v);
            for (size_t k = 0; k < nrows; ++k) {
                const size_t o = o0 + r0 + k;
                __m256 w = v[k];
                if (e.add)
                    w = _mm256_add_ps(w, _mm256_loadu_ps(e.add + o * e.add_stride + t0 + t));
                if (e.slope)
                    w = slope8(w, _mm256_set1_ps(e.slope[e.slope_count > 1 ? o : 0]));
                _mm256_storeu_ps(y + (r0 + k) * ys + t, w);
            }
        }
        for (size_t k = 0; k < nrows && full < frames; ++k) {
            float* yr = y + (r0 + k) * ys;
            for (size_t t = full; t < frames; ++t)
                yr[t] = staged[t][r0 + k];
            finish_row(yr + full, frames - full, o0 + r0 + k, t0 + full, e);
        }
    }
}
#endif

// The loop nest shared by both sets: chunks of frames, panels, groups of up to kFrames frames.
// The tiles' sums are staged [frame][row] for the panel's whole chunk, then stored row by row.
template <Tile tile, Store store, size_t Group = kFrames>
void apply(const PackedMatrix& m, const float* x, size_t xs, float* y, size_t ys, size_t n,
           float* pack, const LinearEpilogue& epilogue) {
    alignas(64) float staged[kChunk][kRows];
    // A block of one group whose channels are already adjacent is read in place.
    if (n <= Group && xs == n)
        pack = nullptr;
    for (size_t t0 = 0; t0 < n; t0 += kChunk) {
        const size_t t_end = std::min(n, t0 + kChunk);
        if (pack)
            pack_chunk(x + t0, xs, m.cols, t_end - t0, Group, pack);
        for (size_t q = 0; q < m.panels(); ++q) {
            const size_t rows = std::min(kRows, m.rows - q * kRows);
            // The next panel's columns, shared out over this panel's later groups (over its
            // only group when it has one).
            const size_t groups = (t_end - t0 + Group - 1) / Group;
            const size_t sharers = std::max<size_t>(groups - 1, 1);
            const size_t share = q + 1 < m.panels() ? (m.cols + sharers - 1) / sharers : 0;
            size_t requested = 0;
            for (size_t t = t0, nr = 0, g = 0; t < t_end; t += nr, ++g) {
                nr = group_frames(t_end - t, Group);
                const size_t ahead_cols =
                    g > 0 || groups == 1 ? std::min(share, m.cols - requested) : 0;
                const float* xg = pack ? pack + (t - t0) * m.cols : x + t;
                tile(m.panel(q), m.bias(q), m.cols, xg, pack ? nr : xs, nr, staged + (t - t0),
                     t == t0, share > 0 ? m.panel(q + 1) + requested * kRows : nullptr,
                     ahead_cols);
                requested += ahead_cols;
            }
            store(staged, rows, t_end - t0, q * kRows, t0, y + q * kRows * ys + t0, ys,
                  epilogue);
        }
    }
}

const PackedLinearKernels kScalar{Isa::Scalar, apply<tile_scalar, store_scalar>};
#ifdef RILL_HAVE_AVX2_PACKED
constexpr Tile kTileAvx2 = tile_either<tile_avx2_nr<true>, tile_avx2_nr<false>>;
const PackedLinearKernels kAvx2{Isa::Avx2, apply<kTileAvx2, store_avx2>};
// The AVX2 set's results on 16-lane vectors, where the processor has them (same bits).
constexpr Tile kTileAvx512 = tile_either<tile_avx512_nr<true>, tile_avx512_nr<false>>;
const PackedLinearKernels kAvx2Wide{Isa::Avx2, apply<kTileAvx512, store_avx2, kWideFrames>};
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

const PackedLinearKernels& packed_linear_kernels(Isa isa, bool wide) {
#ifdef RILL_HAVE_AVX2_PACKED
    if (isa == Isa::Avx2 && __builtin_cpu_supports("avx2"))
        return wide && __builtin_cpu_supports("avx512f") ? kAvx2Wide : kAvx2;
#endif
    return kScalar;
}

const PackedLinearKernels& packed_linear_kernels() {
    return packed_linear_kernels(mac_kernels().isa);
}

} // namespace rill
