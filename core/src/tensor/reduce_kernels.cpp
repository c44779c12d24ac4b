// Reductions and normalisations over axes of one tensor.
//   reduce {fn, axes (empty: all), keepdims}: mean, sum, max, min, prod, sum_square, l1, l2,
//     log_sum_exp over the axes. Sums (mean, sum, sum_square, l1, l2) accumulate in double: a
//     layer norm over a whole spectrogram sums 10^5..10^6 values.
//   softmax {axis, log}: y = exp(x - max) / sum exp(x - max) along one axis (log: log of it).
//   layer_norm {axis, epsilon}: over axes [axis, rank): y = (x - mean) / sqrt(var + eps) * scale
//     + bias (scale and bias broadcast over those axes; var is the biased variance); optional
//     outputs 1 and 2: mean and 1 / sqrt(var + eps), shape of x with those axes 1.
//   pool {mode avg|max, kernel, strides, pads, dilations, ceil_mode, count_include_pad} over the
//     1 or 2 spatial axes of [N, C, spatial...]: out = floor|ceil((in + pads - d (k - 1) - 1) / s)
//     + 1 (with ceil_mode a window must start inside the input or its left pad); avg divides by
//     the window positions inside the input, or inside the padded input with count_include_pad.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernel.hpp"
#include "vector_clones.hpp"

namespace rill::tensor {
namespace {

enum class ReduceFn { Mean, Sum, Max, Min, Prod, SumSquare, L1, L2, LogSumExp };

ReduceFn reduce_fn(const std::string& f) {
    if (f == "mean") return ReduceFn::Mean;
    if (f == "sum") return ReduceFn::Sum;
    if (f == "max") return ReduceFn::Max;
    if (f == "min") return ReduceFn::Min;
    if (f == "prod") return ReduceFn::Prod;
    if (f == "sum_square") return ReduceFn::SumSquare;
    if (f == "l1") return ReduceFn::L1;
    if (f == "l2") return ReduceFn::L2;
    if (f == "log_sum_exp") return ReduceFn::LogSumExp;
    fail_format("unknown reduction \"" + f + "\"");
}

class ReduceKernel final : public TensorKernel {
public:
    ReduceKernel(ReduceFn f, std::vector<int32_t> target, int64_t out_n, int64_t count)
        : f_(f), target_(std::move(target)), out_n_(out_n), count_(count) {}

    size_t scratch_floats() const override {
        if (f_ == ReduceFn::LogSumExp)
            return static_cast<size_t>(out_n_);
        return summing() ? 2 * static_cast<size_t>(out_n_) : 0; // double sums
    }

    // Reductions over trailing axes (global pooling of NCHW planes): contiguous blocks.
    int64_t block = 0; // elements per output when the reduced axes are a suffix, else 0

    void run(const float* const* in, float* const* out, float* scratch) const noexcept override {
        float* y = out[0];
        const float* x = in[0];
        if (block > 0 && (f_ == ReduceFn::Mean || f_ == ReduceFn::Sum)) {
            for (int64_t j = 0; j < out_n_; ++j) {
                double acc = 0;
                const float* b = x + j * block;
                for (int64_t i = 0; i < block; ++i)
                    acc += b[i];
                y[j] = static_cast<float>(f_ == ReduceFn::Mean ? acc / static_cast<double>(count_)
                                                               : acc);
            }
            return;
        }
        const size_t n = target_.size();
        switch (f_) {
        case ReduceFn::Max:
        case ReduceFn::LogSumExp:
            std::fill_n(y, out_n_, -std::numeric_limits<float>::infinity());
            for (size_t i = 0; i < n; ++i)
                y[target_[i]] = std::max(y[target_[i]], x[i]);
            break;
        case ReduceFn::Min:
            std::fill_n(y, out_n_, std::numeric_limits<float>::infinity());
            for (size_t i = 0; i < n; ++i)
                y[target_[i]] = std::min(y[target_[i]], x[i]);
            break;
        case ReduceFn::Prod:
            std::fill_n(y, out_n_, 1.0f);
            for (size_t i = 0; i < n; ++i)
                y[target_[i]] *= x[i];
            break;
        default: {
            double* acc = reinterpret_cast<double*>(scratch); // the arena aligns scratch
            std::fill_n(acc, out_n_, 0.0);
            for (size_t i = 0; i < n; ++i) {
                const double v = x[i];
                acc[target_[i]] += f_ == ReduceFn::SumSquare || f_ == ReduceFn::L2 ? v * v
                                   : f_ == ReduceFn::L1                           ? std::fabs(v)
                                                                                  : v;
            }
            for (int64_t j = 0; j < out_n_; ++j)
                y[j] = static_cast<float>(f_ == ReduceFn::Mean ? acc[j] / static_cast<double>(count_)
                                          : f_ == ReduceFn::L2 ? std::sqrt(acc[j])
                                                               : acc[j]);
        }
        }
        if (f_ == ReduceFn::LogSumExp) {
            std::copy_n(y, out_n_, scratch);
            std::fill_n(y, out_n_, 0.0f);
            for (size_t i = 0; i < n; ++i)
                y[target_[i]] += std::exp(x[i] - scratch[target_[i]]);
            for (int64_t j = 0; j < out_n_; ++j)
                y[j] = scratch[j] + std::log(y[j]);
        }
    }

private:
    bool summing() const noexcept {
        return f_ == ReduceFn::Mean || f_ == ReduceFn::Sum || f_ == ReduceFn::SumSquare ||
               f_ == ReduceFn::L1 || f_ == ReduceFn::L2;
    }

    ReduceFn f_;
    std::vector<int32_t> target_; // per input element: its output element
    int64_t out_n_, count_;
};

// Splits `shape` around `axis` into outer x axis x inner.
void around(const Shape& shape, int64_t axis, int64_t& outer, int64_t& len, int64_t& inner) {
    outer = inner = 1;
    for (int64_t a = 0; a < axis; ++a)
        outer *= shape[static_cast<size_t>(a)];
    len = shape[static_cast<size_t>(axis)];
    for (size_t a = static_cast<size_t>(axis) + 1; a < shape.size(); ++a)
        inner *= shape[a];
}

class SoftmaxKernel final : public TensorKernel {
public:
    SoftmaxKernel(int64_t outer, int64_t len, int64_t inner, bool log)
        : outer_(outer), len_(len), inner_(inner), log_(log) {}
    void run(const float* const* in, float* const* out, float*) const noexcept override {
        for (int64_t o = 0; o < outer_; ++o)
            for (int64_t i = 0; i < inner_; ++i) {
                const float* x = in[0] + o * len_ * inner_ + i;
                float* y = out[0] + o * len_ * inner_ + i;
                float m = -std::numeric_limits<float>::infinity();
                for (int64_t k = 0; k < len_; ++k)
                    m = std::max(m, x[k * inner_]);
                float sum = 0;
                for (int64_t k = 0; k < len_; ++k) {
                    y[k * inner_] = std::exp(x[k * inner_] - m);
                    sum += y[k * inner_];
                }
                if (log_) {
                    const float ls = std::log(sum);
                    for (int64_t k = 0; k < len_; ++k)
                        y[k * inner_] = x[k * inner_] - m - ls;
                } else {
                    const float inv = 1.0f / sum;
                    for (int64_t k = 0; k < len_; ++k)
                        y[k * inner_] *= inv;
                }
            }
    }

private:
    int64_t outer_, len_, inner_;
    bool log_;
};

class LayerNormKernel final : public TensorKernel {
public:
    LayerNormKernel(int64_t rows, int64_t len, float eps, std::vector<int64_t> ss,
                    std::vector<int64_t> bs, Shape tail)
        : rows_(rows), len_(len), eps_(eps), ss_(std::move(ss)), bs_(std::move(bs)),
          tail_(std::move(tail)) {}
    void run(const float* const* in, float* const* out, float*) const noexcept override {
        for (int64_t r = 0; r < rows_; ++r) {
            const float* x = in[0] + r * len_;
            float* y = out[0] + r * len_;
            double mean = 0, var = 0;
            for (int64_t k = 0; k < len_; ++k)
                mean += x[k];
            mean /= static_cast<double>(len_);
            for (int64_t k = 0; k < len_; ++k)
                var += (x[k] - mean) * (x[k] - mean);
            var /= static_cast<double>(len_);
            const float inv = static_cast<float>(1.0 / std::sqrt(var + eps_));
            if (out[1])
                out[1][r] = static_cast<float>(mean);
            if (out[2])
                out[2][r] = inv;
            for (int64_t k = 0; k < len_; ++k) {
                int64_t si = 0, bi = 0, rem = k;
                for (size_t a = tail_.size(); a-- > 0;) {
                    const int64_t c = rem % tail_[a];
                    rem /= tail_[a];
                    si += c * ss_[a];
                    bi += c * bs_[a];
                }
                const float v = (x[k] - static_cast<float>(mean)) * inv * in[1][si];
                y[k] = in[2] ? v + in[2][bi] : v;
            }
        }
    }

private:
    int64_t rows_, len_;
    float eps_;
    std::vector<int64_t> ss_, bs_;
    Shape tail_;
};

struct PoolAxis {
    int64_t in = 1, out = 1, k = 1, s = 1, d = 1, pad = 0, pad_end = 0;
};

// Per output position of one axis: the taps [lo, hi) inside the input, the first one's input
// index, and the taps inside the padded input (count_include_pad). Built at load, so the window
// loops of PoolKernel run without bounds checks.
struct PoolWindows {
    std::vector<int64_t> lo, hi, start, padded;

    explicit PoolWindows(const PoolAxis& a) {
        for (int64_t o = 0; o < a.out; ++o) {
            int64_t l = a.k, h = 0, p = 0;
            for (int64_t i = 0; i < a.k; ++i) {
                const int64_t at = o * a.s - a.pad + i * a.d;
                p += at >= -a.pad && at < a.in + a.pad_end;
                if (at >= 0 && at < a.in) {
                    l = std::min(l, i);
                    h = i + 1;
                }
            }
            lo.push_back(std::min(l, h));
            hi.push_back(h);
            start.push_back(o * a.s - a.pad + std::min(l, h) * a.d);
            padded.push_back(p);
        }
    }
};

class PoolKernel final : public TensorKernel {
public:
    PoolKernel(int64_t planes, PoolAxis h, PoolAxis w, bool max, bool include_pad)
        : planes_(planes), h_(h), w_(w), rows_(h), cols_(w), max_(max), include_pad_(include_pad) {
        // Columns whose window lies wholly inside the input run as vector loops across the row.
        full_lo_ = w.out, full_hi_ = w.out;
        for (int64_t ox = 0; ox < w.out; ++ox)
            if (cols_.lo[static_cast<size_t>(ox)] == 0 && cols_.hi[static_cast<size_t>(ox)] == w.k) {
                full_lo_ = std::min(full_lo_, ox);
                full_hi_ = ox + 1;
            }
        bool one_run = full_hi_ - full_lo_ >= 8; // else (a global pool, say) not worth a row pass
        for (int64_t ox = full_lo_; ox < full_hi_; ++ox)
            one_run = one_run && cols_.lo[static_cast<size_t>(ox)] == 0 && cols_.hi[static_cast<size_t>(ox)] == w.k;
        if (!one_run)
            full_lo_ = full_hi_ = w.out; // every column takes the general loop
    }
    void run(const float* const* in, float* const* out, float*) const noexcept override {
        for (int64_t p = 0; p < planes_; ++p)
            for (int64_t oy = 0; oy < h_.out; ++oy) {
                const float* x = in[0] + p * h_.in * w_.in;
                float* y = out[0] + (p * h_.out + oy) * w_.out;
                window_columns(x, y, oy, 0, full_lo_);
                if (full_lo_ < full_hi_) {
                    full_columns(x, y, oy);
                    window_columns(x, y, oy, full_hi_, w_.out);
                }
            }
    }

private:
    // Each output of [from, to) of row oy from its own window (taps in row-major order).
    void window_columns(const float* x, float* y, int64_t oy, int64_t from, int64_t to) const noexcept {
        const auto ry = static_cast<size_t>(oy);
        const int64_t ni = rows_.hi[ry] - rows_.lo[ry];
        for (int64_t ox = from; ox < to; ++ox) {
            const auto rx = static_cast<size_t>(ox);
            const int64_t nj = cols_.hi[rx] - cols_.lo[rx];
            const float* base = x + rows_.start[ry] * w_.in + cols_.start[rx];
            float acc = max_ ? -std::numeric_limits<float>::infinity() : 0.0f;
            for (int64_t i = 0; i < ni; ++i)
                for (int64_t j = 0; j < nj; ++j) {
                    const float v = base[i * h_.d * w_.in + j * w_.d];
                    acc = max_ ? (acc < v ? v : acc) : acc + v;
                }
            if (!max_)
                acc /= static_cast<float>(std::max<int64_t>(1, include_pad_ ? rows_.padded[ry] * cols_.padded[rx] : ni * nj));
            y[ox] = acc;
        }
    }

    // The same sums for the columns [full_lo_, full_hi_) together, tap by tap across the row.
    RILL_VECTOR_CLONES void full_columns(const float* x, float* y, int64_t oy) const noexcept {
        const auto ry = static_cast<size_t>(oy);
        const int64_t ni = rows_.hi[ry] - rows_.lo[ry], lo = full_lo_, hi = full_hi_, s = w_.s;
        const float init = max_ ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (int64_t ox = lo; ox < hi; ++ox)
            y[ox] = init;
        for (int64_t i = 0; i < ni; ++i)
            for (int64_t j = 0; j < w_.k; ++j) {
                const float* r = x + (rows_.start[ry] + i * h_.d) * w_.in + cols_.start[static_cast<size_t>(lo)] +
                                 j * w_.d - lo * s;
                if (max_)
                    for (int64_t ox = lo; ox < hi; ++ox)
                        y[ox] = y[ox] < r[ox * s] ? r[ox * s] : y[ox];
                else if (s == 2)
                    for (int64_t ox = lo; ox < hi; ++ox)
                        y[ox] += r[ox * 2];
                else
                    for (int64_t ox = lo; ox < hi; ++ox)
                        y[ox] += r[ox * s];
            }
        if (!max_) {
            const auto count = static_cast<float>(
                std::max<int64_t>(1, include_pad_ ? rows_.padded[ry] * w_.k : ni * w_.k));
            for (int64_t ox = lo; ox < hi; ++ox)
                y[ox] /= count;
        }
    }

    int64_t planes_;
    PoolAxis h_, w_;
    PoolWindows rows_, cols_;
    int64_t full_lo_ = 0, full_hi_ = 0;
    bool max_, include_pad_;
};

} // namespace

BuiltStep build_reduce(const StepSpec& s) {
    expect_step_inputs(s, 1, 1);
    const Shape& x = s.in_shapes[0];
    const ReduceFn f = reduce_fn(attr_string(s.attrs, "fn", ""));
    auto axes = attr_ints(s.attrs, "axes", {});
    const bool keep = attr_int(s.attrs, "keepdims", 1) != 0;
    std::vector<bool> reduced(x.size(), axes.empty());
    for (int64_t a : axes)
        reduced[static_cast<size_t>(normalize_axis(a, x.size()))] = true;
    Shape out, kept;
    int64_t count = 1;
    for (size_t a = 0; a < x.size(); ++a) {
        if (reduced[a]) {
            count *= x[a];
            if (keep)
                out.push_back(1);
            kept.push_back(1);
        } else {
            out.push_back(x[a]);
            kept.push_back(x[a]);
        }
    }
    const auto ks = strides_of(kept);
    std::vector<int32_t> target(static_cast<size_t>(numel(x)));
    std::vector<int64_t> idx(x.size(), 0);
    for (size_t i = 0; i < target.size(); ++i) {
        int64_t t = 0;
        for (size_t a = 0; a < x.size(); ++a)
            t += reduced[a] ? 0 : idx[a] * ks[a];
        target[i] = static_cast<int32_t>(t);
        for (size_t a = x.size(); a-- > 0;) {
            if (++idx[a] < x[a])
                break;
            idx[a] = 0;
        }
    }
    auto kernel = std::make_shared<ReduceKernel>(f, std::move(target), numel(out), count);
    size_t first = x.size();
    while (first > 0 && reduced[first - 1])
        --first;
    bool suffix = first < x.size();
    for (size_t a = 0; a < first; ++a)
        suffix = suffix && !reduced[a];
    if (suffix)
        kernel->block = count;
    return {kernel, {out}};
}

BuiltStep build_softmax(const StepSpec& s) {
    expect_step_inputs(s, 1, 1);
    const Shape& x = s.in_shapes[0];
    const int64_t axis = normalize_axis(attr_int(s.attrs, "axis", -1), x.size());
    int64_t outer, len, inner;
    around(x, axis, outer, len, inner);
    return {std::make_shared<SoftmaxKernel>(outer, len, inner, attr_int(s.attrs, "log", 0) != 0), {x}};
}

BuiltStep build_layer_norm(const StepSpec& s) {
    expect_step_inputs(s, 2, 3);
    const Shape& x = s.in_shapes[0];
    const auto axis = static_cast<size_t>(normalize_axis(attr_int(s.attrs, "axis", -1), x.size()));
    const Shape tail(x.begin() + static_cast<long>(axis), x.end());
    auto strides_for = [&](size_t i) {
        const Shape& w = s.in_shapes[i];
        if (w.size() > tail.size() || broadcast_shapes(w, tail) != tail)
            fail_format("layer_norm: scale/bias " + to_string(w) + " do not broadcast to " + to_string(tail));
        return broadcast_strides(w, tail);
    };
    const auto ss = strides_for(1);
    const auto bs = s.in_shapes.size() > 2 && s.present[2] ? strides_for(2) : std::vector<int64_t>(tail.size(), 0);
    const int64_t len = numel(tail);
    Shape stats = x;
    std::fill(stats.begin() + static_cast<long>(axis), stats.end(), 1);
    return {std::make_shared<LayerNormKernel>(numel(x) / std::max<int64_t>(len, 1), len,
                                              static_cast<float>(attr_float(s.attrs, "epsilon", 1e-5)),
                                              ss, bs, tail),
            {x, stats, stats}};
}

BuiltStep build_pool(const StepSpec& s) {
    expect_step_inputs(s, 1, 1);
    const Shape& x = s.in_shapes[0];
    if (x.size() != 3 && x.size() != 4)
        fail_unsupported("pool over " + std::to_string(x.size()) + "-D tensors");
    const size_t sp = x.size() - 2;
    const std::string mode = attr_string(s.attrs, "mode", "avg");
    if (mode != "avg" && mode != "max")
        fail_format("pool mode \"" + mode + "\"");
    const auto k = attr_ints(s.attrs, "kernel", {});
    const auto st = attr_ints(s.attrs, "strides", std::vector<int64_t>(sp, 1));
    const auto di = attr_ints(s.attrs, "dilations", std::vector<int64_t>(sp, 1));
    const auto pa = attr_ints(s.attrs, "pads", std::vector<int64_t>(2 * sp, 0));
    if (k.size() != sp || st.size() != sp || di.size() != sp || pa.size() != 2 * sp)
        fail_format("pool: kernel, strides, dilations and pads must match the spatial axes");
    const bool ceil_mode = attr_int(s.attrs, "ceil_mode", 0) != 0;
    PoolAxis ax[2];
    for (size_t i = 0; i < sp; ++i) {
        PoolAxis& a = ax[2 - sp + i];
        a.in = x[2 + i], a.k = k[i], a.s = st[i], a.d = di[i], a.pad = pa[i], a.pad_end = pa[i + sp];
        if (a.k < 1 || a.s < 1 || a.d < 1)
            fail_format("pool: kernel, strides and dilations must be >= 1");
        const int64_t span = a.in + a.pad + a.pad_end - a.d * (a.k - 1) - 1;
        a.out = (ceil_mode ? (span + a.s - 1) / a.s : span / a.s) + 1;
        if (ceil_mode && (a.out - 1) * a.s >= a.in + a.pad)
            --a.out;
        if (a.out < 1)
            fail_format("pool: window larger than the padded input");
    }
    Shape out = x;
    for (size_t i = 0; i < sp; ++i)
        out[2 + i] = ax[2 - sp + i].out;
    return {std::make_shared<PoolKernel>(x[0] * x[1], ax[0], ax[1], mode == "max",
                                         attr_int(s.attrs, "count_include_pad", 0) != 0),
            {out}};
}

} // namespace rill::tensor
