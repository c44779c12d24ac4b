// Static shapes of the per-frame tensor programs (row-major, every dimension known at load).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rill/core/error.hpp"

namespace rill::tensor {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s)
        n *= d;
    return n;
}

// The largest tensor a program (or a constant folded at import) may hold: 2^26 elements. Bounds
// the memory a malformed or hostile model file can make the importer take.
constexpr int64_t kMaxElements = int64_t(1) << 26;

// numel, checked against kMaxElements without overflowing; throws CoreError{Unsupported}.
inline int64_t checked_numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) {
        if (d < 0)
            fail_format("negative dimension in a tensor shape");
        if (d > 0 && n > kMaxElements / d)
            fail_unsupported("a tensor of more than 2^26 elements");
        n *= d;
    }
    return n;
}

// Elements between consecutive indices of each axis.
inline std::vector<int64_t> strides_of(const Shape& s) {
    std::vector<int64_t> st(s.size(), 1);
    for (size_t i = s.size(); i-- > 1;)
        st[i - 1] = st[i] * s[i];
    return st;
}

inline std::string to_string(const Shape& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i)
        r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

// Axis in [-rank, rank) -> [0, rank); throws CoreError{Format} otherwise.
inline int64_t normalize_axis(int64_t axis, size_t rank, const char* what = "axis") {
    const auto r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r)
        fail_format(std::string(what) + " " + std::to_string(axis) + " is outside a rank-" +
                    std::to_string(r) + " tensor");
    return axis < 0 ? axis + r : axis;
}

// Numpy broadcasting of two shapes; throws when they do not broadcast.
inline Shape broadcast_shapes(const Shape& a, const Shape& b) {
    const size_t r = std::max(a.size(), b.size());
    Shape out(r, 1);
    for (size_t i = 0; i < r; ++i) {
        const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
        const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
        if (da != db && da != 1 && db != 1)
            fail_format("shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

// Strides for reading `s` broadcast to `target` (0 on broadcast axes).
inline std::vector<int64_t> broadcast_strides(const Shape& s, const Shape& target) {
    std::vector<int64_t> st(target.size(), 0);
    const auto own = strides_of(s);
    const size_t off = target.size() - s.size();
    for (size_t i = 0; i < s.size(); ++i)
        st[off + i] = s[i] == 1 ? 0 : own[i];
    return st;
}

} // namespace rill::tensor
