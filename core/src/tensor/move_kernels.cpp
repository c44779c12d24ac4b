// Data-movement steps: the IndexMap of the op (index_map.hpp), compressed into copy runs of
// consecutive source elements, so slices and concatenations are memcpy's and transposes
// element copies.
#include <cstring>

#include "index_map.hpp"
#include "kernel.hpp"

namespace rill::tensor {
namespace {

class MoveKernel final : public TensorKernel {
public:
    explicit MoveKernel(const IndexMap& m) : fill_(static_cast<float>(m.fill)) {
        for (size_t i = 0; i < m.index.size(); ++i) {
            if (!runs_.empty()) {
                Run& r = runs_.back();
                const bool same_input = r.input == m.input[i];
                if (same_input && (r.input < 0 || m.index[i] == r.src + r.len)) {
                    ++r.len;
                    continue;
                }
            }
            runs_.push_back(Run{m.input[i], m.index[i], static_cast<int64_t>(i), 1});
        }
    }

    void run(const float* const* in, float* const* out, float*) const noexcept override {
        float* y = out[0];
        for (const Run& r : runs_) {
            if (r.input < 0)
                std::fill_n(y + r.dst, r.len, fill_);
            else if (r.len == 1)
                y[r.dst] = in[r.input][r.src];
            else
                std::memcpy(y + r.dst, in[r.input] + r.src, static_cast<size_t>(r.len) * sizeof(float));
        }
    }

private:
    struct Run {
        int32_t input;
        int64_t src, dst, len;
    };
    std::vector<Run> runs_;
    float fill_;
};

PadMode pad_mode(const std::string& m) {
    if (m == "constant")
        return PadMode::Constant;
    if (m == "reflect")
        return PadMode::Reflect;
    if (m == "edge")
        return PadMode::Edge;
    fail_unsupported("pad mode \"" + m + "\"");
}

} // namespace

// The map of a data-movement step from its attributes (also used by constant folding).
IndexMap move_map(const std::string& op, const nlohmann::json& a, const std::vector<Shape>& in) {
    auto need = [&](size_t n) {
        if (in.size() != n)
            fail_format(op + " takes " + std::to_string(n) + " inputs, got " + std::to_string(in.size()));
    };
    if (op == "transpose")
        return need(1), map_transpose(in[0], attr_ints(a, "perm", {}));
    if (op == "slice")
        return need(1), map_slice(in[0], attr_ints(a, "starts", {}), attr_ints(a, "ends", {}),
                                  attr_ints(a, "axes", {}), attr_ints(a, "steps", {}));
    if (op == "gather")
        return need(1), map_gather(in[0], attr_int(a, "axis", 0), attr_ints(a, "indices", {}),
                                   attr_ints(a, "indices_shape", {}));
    if (op == "concat")
        return map_concat(in, attr_int(a, "axis", 0));
    if (op == "pad")
        return need(1), map_pad(in[0], attr_ints(a, "pads", {}),
                                pad_mode(attr_string(a, "mode", "constant")), attr_float(a, "value", 0));
    if (op == "expand")
        return need(1), map_expand(in[0], attr_ints(a, "shape", {}));
    if (op == "tile")
        return need(1), map_tile(in[0], attr_ints(a, "repeats", {}));
    if (op == "scatter_nd")
        return need(2), map_scatter_nd(in[0], attr_ints(a, "indices", {}),
                                       attr_ints(a, "indices_shape", {}), in[1]);
    if (op == "resize_nearest") {
        need(1);
        std::vector<double> scales;
        if (a.contains("scales"))
            for (const auto& v : a.at("scales"))
                scales.push_back(v.get<double>());
        return map_resize_nearest(in[0], attr_ints(a, "sizes", {}), scales,
                                  attr_string(a, "coordinate_mode", "half_pixel"),
                                  attr_string(a, "nearest_mode", "round_prefer_floor"));
    }
    fail_unsupported("unknown data-movement op \"" + op + "\"");
}

BuiltStep build_move(const StepSpec& s) {
    for (bool p : s.present)
        if (!p)
            fail_format(s.op + ": absent input");
    const IndexMap m = move_map(s.op, s.attrs, s.in_shapes);
    return {std::make_shared<MoveKernel>(m), {m.shape}};
}

} // namespace rill::tensor
