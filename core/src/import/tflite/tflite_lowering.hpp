// A TFLite model's first subgraph as a tensor program (tensor/program.hpp): 4-D tensors are NCHW
// (the model's NHWC input [1, H, W, C] is the program input [1, C, H, W], planar).
#pragma once

#include <nlohmann/json.hpp>

#include "../../tensor/shape.hpp"
#include "rill/core/tensor.hpp"
#include "tflite_model.hpp"

namespace rill::tflite_import {

struct TfliteProgram {
    nlohmann::json desc;
    TensorMap constants;
    std::vector<tensor::Shape> input_shapes, output_shapes;
};

// Throws CoreError{Unsupported} naming the operator (index and name) it cannot run.
TfliteProgram lower_tflite(const TfModel& m);

} // namespace rill::tflite_import
