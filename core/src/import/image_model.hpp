// An image model (one video frame in, masks or maps out) as a streaming .rill graph: the shared
// back half of the TFLite and ONNX importers. The graph is
//   image port (planes x H x W, values in [0, 1], RGB)
//     -> image_normalize (the model's mean/std and plane order; omitted when it is the identity)
//     -> tensor_program (the imported network, one frame per run)
//     -> [softmax over planes, one plane kept: `mask_plane`]
//     -> mask_smooth on each 1-plane output (temporal smoothing; parameters smoothing, scene_cut)
//     -> image output ports (4-D outputs [1, P, H', W']) or frames ports (other outputs).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../tensor/shape.hpp"
#include "rill/core/rill_file.hpp"
#include "rill/core/tensor.hpp"

namespace rill {

struct ImageModelOptions {
    double frame_rate = 30;           // nominal frames per second (the ports' sample_rate)
    std::vector<double> mean{0.0};    // per model plane, on [0, 1] pixel values (1 value: all)
    std::vector<double> std_dev{1.0}; // likewise
    std::string channel_order = "rgb"; // "bgr": the model's plane 0 is blue
    int64_t mask_plane = -1;          // >= 0: softmax over output 0's planes, keep this one
    bool temporal_smoothing = true;   // mask_smooth on 1-plane image outputs
    double smoothing = 0.5;           // default of parameter "smoothing" (0 = off)
    double scene_cut = 0.2;           // default of parameter "scene_cut" (mean |luma change|)

    // Keys as above ("std" for std_dev); unknown keys are errors. `ignored` lists keys another
    // layer reads (frontend, ...), skipped here.
    static ImageModelOptions from_json(const nlohmann::json& j, const std::vector<std::string>& ignored);
};

struct ImageProgram {
    nlohmann::json desc;          // tensor program: one input [1, C, H, W], outputs, steps
    TensorMap constants;          // by the names the steps use
    std::vector<tensor::Shape> output_shapes;
    std::vector<std::string> output_names;
    std::string description, source;
};

// Throws CoreError{Format|Unsupported} when the program's input is not [1, C, H, W] with C = 1
// or 3, or the options do not fit the model.
RillFile image_model_file(ImageProgram program, const ImageModelOptions& options);

} // namespace rill
