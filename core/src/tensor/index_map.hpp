// Data movement (transpose, slice, gather, concat, pad, expand, tile, scatter_nd, split) as one
// table: output element i is element index[i] of input input[i], or `fill` where input[i] < 0.
// Built once at load from shapes and constant attributes; the same table moves float activations
// at run time (as copy runs, see MoveKernel) and int64 shape tensors during constant folding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shape.hpp"

namespace rill::tensor {

struct IndexMap {
    Shape shape;
    std::vector<int32_t> input;
    std::vector<int64_t> index;
    double fill = 0;

    template <class T>
    std::vector<T> apply(const std::vector<const T*>& in) const {
        std::vector<T> out(index.size());
        for (size_t i = 0; i < index.size(); ++i)
            out[i] = input[i] < 0 ? static_cast<T>(fill) : in[static_cast<size_t>(input[i])][index[i]];
        return out;
    }
};

enum class PadMode { Constant, Reflect, Edge };

// perm empty: reverse the axes (ONNX default).
IndexMap map_transpose(const Shape& in, std::vector<int64_t> perm);
// ONNX Slice: axes empty = all, steps empty = 1; starts/ends clamped as ONNX specifies.
IndexMap map_slice(const Shape& in, const std::vector<int64_t>& starts,
                   const std::vector<int64_t>& ends, std::vector<int64_t> axes,
                   std::vector<int64_t> steps);
// out = in.take(indices, axis): shape in[:axis] + indices_shape + in[axis+1:].
IndexMap map_gather(const Shape& in, int64_t axis, const std::vector<int64_t>& indices,
                    const Shape& indices_shape);
IndexMap map_concat(const std::vector<Shape>& in, int64_t axis);
// pads: begins of every axis, then ends (negative values crop).
IndexMap map_pad(const Shape& in, const std::vector<int64_t>& pads, PadMode mode, double value);
IndexMap map_expand(const Shape& in, const Shape& target);
IndexMap map_tile(const Shape& in, const std::vector<int64_t>& repeats);
// Inputs: 0 = data, 1 = updates. indices has shape indices_shape = [..., k].
IndexMap map_scatter_nd(const Shape& data, const std::vector<int64_t>& indices,
                        const Shape& indices_shape, const Shape& updates);
// Nearest-neighbour resize (ONNX Resize mode "nearest") to `out` with per-axis scales.
IndexMap map_resize_nearest(const Shape& in, const Shape& out, const std::vector<double>& scales,
                            const std::string& coordinate_mode, const std::string& nearest_mode);

} // namespace rill::tensor

#include <nlohmann/json.hpp>
namespace rill::tensor {
// The map of a data-movement step (transpose, slice, gather, concat, pad, expand, tile,
// scatter_nd, resize_nearest) from its step attributes.
IndexMap move_map(const std::string& op, const nlohmann::json& attrs, const std::vector<Shape>& in);
} // namespace rill::tensor
