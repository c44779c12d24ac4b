// ONNX Resize's coordinate_transformation_mode: the input coordinate of output index o on an
// axis of `in` -> `out` elements with scale s (out / in unless given):
//   asymmetric o / s; align_corners o (in - 1) / (in s - 1) (the unrounded output length, as
//   ONNX's reference; 0 when that is at most 1); half_pixel
//   (o + 1/2) / s - 1/2; pytorch_half_pixel the same but 0 when out = 1; tf_half_pixel_for_nn
//   (o + 1/2) / s. Shared by the nearest (index_map.cpp) and linear (resize_kernel.cpp) modes.
#pragma once

#include <cstdint>
#include <string>

#include "rill/core/error.hpp"

namespace rill::tensor {

inline double resize_source_coordinate(const std::string& mode, int64_t o, int64_t in, int64_t out, double s) {
    if (mode == "asymmetric")
        return static_cast<double>(o) / s;
    if (mode == "align_corners") {
        const double length = static_cast<double>(in) * s;
        return length > 1 ? static_cast<double>(o) * static_cast<double>(in - 1) / (length - 1) : 0.0;
    }
    if (mode == "half_pixel")
        return (static_cast<double>(o) + 0.5) / s - 0.5;
    if (mode == "pytorch_half_pixel")
        return out > 1 ? (static_cast<double>(o) + 0.5) / s - 0.5 : 0.0;
    if (mode == "tf_half_pixel_for_nn")
        return (static_cast<double>(o) + 0.5) / s;
    fail_unsupported("resize coordinate_transformation_mode \"" + mode + "\"");
}

} // namespace rill::tensor
