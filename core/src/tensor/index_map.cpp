#include "index_map.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "resize_coordinate.hpp"

namespace rill::tensor {
namespace {

// Calls f(multi_index, flat_index) for every element of `shape` in row-major order.
void for_each_index(const Shape& shape, const std::function<void(const std::vector<int64_t>&, size_t)>& f) {
    const int64_t n = numel(shape);
    std::vector<int64_t> idx(shape.size(), 0);
    for (int64_t flat = 0; flat < n; ++flat) {
        f(idx, static_cast<size_t>(flat));
        for (size_t a = shape.size(); a-- > 0;) {
            if (++idx[a] < shape[a])
                break;
            idx[a] = 0;
        }
    }
}

int64_t flat_of(const std::vector<int64_t>& idx, const std::vector<int64_t>& strides) {
    int64_t f = 0;
    for (size_t a = 0; a < idx.size(); ++a)
        f += idx[a] * strides[a];
    return f;
}

IndexMap sized(const Shape& shape) {
    checked_numel(shape);
    IndexMap m;
    m.shape = shape;
    m.input.assign(static_cast<size_t>(numel(shape)), 0);
    m.index.assign(static_cast<size_t>(numel(shape)), 0);
    return m;
}

} // namespace

IndexMap map_transpose(const Shape& in, std::vector<int64_t> perm) {
    if (perm.empty())
        for (size_t a = in.size(); a-- > 0;)
            perm.push_back(static_cast<int64_t>(a));
    if (perm.size() != in.size())
        fail_format("transpose perm has " + std::to_string(perm.size()) + " axes, tensor " +
                    to_string(in));
    std::vector<bool> seen(in.size(), false);
    Shape out(in.size());
    for (size_t a = 0; a < perm.size(); ++a) {
        const int64_t p = normalize_axis(perm[a], in.size(), "perm axis");
        if (seen[static_cast<size_t>(p)])
            fail_format("transpose perm repeats axis " + std::to_string(p));
        seen[static_cast<size_t>(p)] = true;
        perm[a] = p;
        out[a] = in[static_cast<size_t>(p)];
    }
    const auto st = strides_of(in);
    IndexMap m = sized(out);
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) {
        int64_t f = 0;
        for (size_t a = 0; a < idx.size(); ++a)
            f += idx[a] * st[static_cast<size_t>(perm[a])];
        m.index[i] = f;
    });
    return m;
}

IndexMap map_slice(const Shape& in, const std::vector<int64_t>& starts,
                   const std::vector<int64_t>& ends, std::vector<int64_t> axes,
                   std::vector<int64_t> steps) {
    if (axes.empty())
        for (size_t a = 0; a < starts.size(); ++a)
            axes.push_back(static_cast<int64_t>(a));
    if (steps.empty())
        steps.assign(starts.size(), 1);
    if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
        fail_format("slice starts, ends, axes and steps differ in length");
    std::vector<int64_t> begin(in.size(), 0), step(in.size(), 1);
    Shape out = in;
    for (size_t k = 0; k < starts.size(); ++k) {
        const auto a = static_cast<size_t>(normalize_axis(axes[k], in.size(), "slice axis"));
        const int64_t d = in[a], s = steps[k];
        if (s == 0)
            fail_format("slice step 0");
        int64_t b = starts[k], e = ends[k];
        if (b < 0)
            b += d;
        if (e < 0)
            e += d;
        if (s > 0) {
            b = std::clamp<int64_t>(b, 0, d);
            e = std::clamp<int64_t>(e, 0, d);
            out[a] = e > b ? (e - b + s - 1) / s : 0;
        } else {
            b = std::clamp<int64_t>(b, 0, d - 1);
            e = std::clamp<int64_t>(e, -1, d - 1);
            out[a] = b > e ? (b - e + (-s) - 1) / (-s) : 0;
        }
        begin[a] = b;
        step[a] = s;
    }
    const auto st = strides_of(in);
    IndexMap m = sized(out);
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) {
        int64_t f = 0;
        for (size_t a = 0; a < idx.size(); ++a)
            f += (begin[a] + idx[a] * step[a]) * st[a];
        m.index[i] = f;
    });
    return m;
}

IndexMap map_gather(const Shape& in, int64_t axis, const std::vector<int64_t>& indices,
                    const Shape& indices_shape) {
    const auto ax = static_cast<size_t>(normalize_axis(axis, in.size(), "gather axis"));
    if (numel(indices_shape) != static_cast<int64_t>(indices.size()))
        fail_format("gather indices do not fill their shape " + to_string(indices_shape));
    Shape out(in.begin(), in.begin() + static_cast<long>(ax));
    out.insert(out.end(), indices_shape.begin(), indices_shape.end());
    out.insert(out.end(), in.begin() + static_cast<long>(ax) + 1, in.end());
    std::vector<int64_t> resolved(indices);
    for (int64_t& v : resolved) {
        if (v < 0)
            v += in[ax];
        if (v < 0 || v >= in[ax])
            fail_format("gather index outside axis of size " + std::to_string(in[ax]));
    }
    const auto st = strides_of(in);
    const auto ist = strides_of(indices_shape);
    const size_t r = indices_shape.size();
    IndexMap m = sized(out);
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) {
        int64_t f = 0, k = 0;
        for (size_t a = 0; a < ax; ++a)
            f += idx[a] * st[a];
        for (size_t a = 0; a < r; ++a)
            k += idx[ax + a] * ist[a];
        f += resolved[static_cast<size_t>(k)] * st[ax];
        for (size_t a = ax + 1; a < in.size(); ++a)
            f += idx[a + r - 1] * st[a];
        m.index[i] = f;
    });
    return m;
}

IndexMap map_concat(const std::vector<Shape>& in, int64_t axis) {
    if (in.empty())
        fail_format("concat of no tensors");
    const auto ax = static_cast<size_t>(normalize_axis(axis, in[0].size(), "concat axis"));
    Shape out = in[0];
    out[ax] = 0;
    std::vector<int64_t> offset;
    for (const Shape& s : in) {
        if (s.size() != out.size())
            fail_format("concat of tensors of different ranks");
        for (size_t a = 0; a < s.size(); ++a)
            if (a != ax && s[a] != in[0][a])
                fail_format("concat of " + to_string(in[0]) + " and " + to_string(s));
        offset.push_back(out[ax]);
        out[ax] += s[ax];
    }
    std::vector<std::vector<int64_t>> st;
    for (const Shape& s : in)
        st.push_back(strides_of(s));
    IndexMap m = sized(out);
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) {
        size_t k = in.size() - 1;
        while (idx[ax] < offset[k])
            --k;
        std::vector<int64_t> local = idx;
        local[ax] -= offset[k];
        m.input[i] = static_cast<int32_t>(k);
        m.index[i] = flat_of(local, st[k]);
    });
    return m;
}

IndexMap map_pad(const Shape& in, const std::vector<int64_t>& pads, PadMode mode, double value) {
    const size_t r = in.size();
    if (pads.size() != 2 * r)
        fail_format("pad needs " + std::to_string(2 * r) + " values for " + to_string(in));
    Shape out(r);
    for (size_t a = 0; a < r; ++a) {
        out[a] = in[a] + pads[a] + pads[a + r];
        if (out[a] < 0)
            fail_format("pad crops more than axis " + std::to_string(a) + " holds");
        if (mode == PadMode::Reflect && (pads[a] >= in[a] || pads[a + r] >= in[a]) &&
            (pads[a] > 0 || pads[a + r] > 0))
            fail_format("reflect pad wider than the axis minus one");
        if (mode != PadMode::Constant && in[a] == 0 && out[a] > 0)
            fail_format("edge/reflect pad of an empty axis");
    }
    const auto st = strides_of(in);
    IndexMap m = sized(out);
    m.fill = value;
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) {
        int64_t f = 0;
        for (size_t a = 0; a < r; ++a) {
            int64_t s = idx[a] - pads[a];
            if (s < 0 || s >= in[a]) {
                if (mode == PadMode::Constant) {
                    m.input[i] = -1;
                    return;
                }
                if (mode == PadMode::Edge)
                    s = std::clamp<int64_t>(s, 0, in[a] - 1);
                else
                    s = s < 0 ? -s : 2 * (in[a] - 1) - s;
            }
            f += s * st[a];
        }
        m.index[i] = f;
    });
    return m;
}

IndexMap map_expand(const Shape& in, const Shape& target) {
    const Shape out = broadcast_shapes(in, target);
    const auto st = broadcast_strides(in, out);
    IndexMap m = sized(out);
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) { m.index[i] = flat_of(idx, st); });
    return m;
}

IndexMap map_tile(const Shape& in, const std::vector<int64_t>& repeats) {
    if (repeats.size() != in.size())
        fail_format("tile repeats must have one value per axis");
    Shape out(in.size());
    for (size_t a = 0; a < in.size(); ++a) {
        if (repeats[a] < 0)
            fail_format("negative tile repeat");
        out[a] = in[a] * repeats[a];
    }
    const auto st = strides_of(in);
    IndexMap m = sized(out);
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) {
        int64_t f = 0;
        for (size_t a = 0; a < idx.size(); ++a)
            f += (idx[a] % in[a]) * st[a];
        m.index[i] = f;
    });
    return m;
}

IndexMap map_scatter_nd(const Shape& data, const std::vector<int64_t>& indices,
                        const Shape& indices_shape, const Shape& updates) {
    if (indices_shape.empty())
        fail_format("scatter_nd indices must have rank 1 or more");
    const auto k = static_cast<size_t>(indices_shape.back());
    if (k < 1 || k > data.size())
        fail_format("scatter_nd index tuples of length " + std::to_string(k) + " for " + to_string(data));
    Shape expect(indices_shape.begin(), indices_shape.end() - 1);
    expect.insert(expect.end(), data.begin() + static_cast<long>(k), data.end());
    if (expect != updates)
        fail_format("scatter_nd updates have shape " + to_string(updates) + ", expected " + to_string(expect));
    IndexMap m = sized(data);
    for (size_t i = 0; i < m.index.size(); ++i)
        m.index[i] = static_cast<int64_t>(i);
    const auto st = strides_of(data);
    int64_t inner = 1;
    for (size_t a = k; a < data.size(); ++a)
        inner *= data[a];
    const int64_t tuples = numel(indices_shape) / static_cast<int64_t>(k);
    for (int64_t t = 0; t < tuples; ++t) {
        int64_t base = 0;
        for (size_t a = 0; a < k; ++a) {
            int64_t v = indices[static_cast<size_t>(t) * k + a];
            if (v < 0)
                v += data[a];
            if (v < 0 || v >= data[a])
                fail_format("scatter_nd index outside the data");
            base += v * st[a];
        }
        for (int64_t j = 0; j < inner; ++j) {
            m.input[static_cast<size_t>(base + j)] = 1;
            m.index[static_cast<size_t>(base + j)] = t * inner + j;
        }
    }
    return m;
}

IndexMap map_resize_nearest(const Shape& in, const Shape& out, const std::vector<double>& scales,
                            const std::string& coordinate_mode, const std::string& nearest_mode) {
    if (out.size() != in.size() || scales.size() != in.size())
        fail_format("resize needs one scale and size per axis");
    const auto st = strides_of(in);
    IndexMap m = sized(out);
    std::vector<std::vector<int64_t>> src(in.size());
    for (size_t a = 0; a < in.size(); ++a) {
        for (int64_t o = 0; o < out[a]; ++o) {
            const double x = resize_source_coordinate(coordinate_mode, o, in[a], out[a], scales[a]);
            int64_t i;
            if (nearest_mode == "floor")
                i = static_cast<int64_t>(std::floor(x));
            else if (nearest_mode == "ceil")
                i = static_cast<int64_t>(std::ceil(x));
            else if (nearest_mode == "round_prefer_ceil")
                i = static_cast<int64_t>(std::floor(x + 0.5));
            else if (nearest_mode == "round_prefer_floor")
                i = static_cast<int64_t>(std::ceil(x - 0.5));
            else
                fail_unsupported("resize nearest_mode \"" + nearest_mode + "\"");
            src[a].push_back(std::clamp<int64_t>(i, 0, in[a] - 1));
        }
    }
    for_each_index(out, [&](const std::vector<int64_t>& idx, size_t i) {
        int64_t f = 0;
        for (size_t a = 0; a < idx.size(); ++a)
            f += src[a][static_cast<size_t>(idx[a])] * st[a];
        m.index[i] = f;
    });
    return m;
}

} // namespace rill::tensor
