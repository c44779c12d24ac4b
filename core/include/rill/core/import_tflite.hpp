// TFLite import: a .tflite image model (the MediaPipe selfie segmentation models and models with
// the same operators) as a streaming .rill graph with image ports. The reader and the operator
// lowering live in core/src/import/tflite/; the wrapping (normalisation, temporal smoothing of
// masks, ports) is shared with ONNX image models (core/src/import/image_model.hpp).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "rill/core/rill_file.hpp"

namespace rill {

bool is_tflite_model(const void* data, size_t size);

// options: a JSON object with the image-model keys (frame_rate, mean, std, channel_order,
// mask_plane, temporal_smoothing, smoothing, scene_cut; docs/tflite.md), or null.
// Throws CoreError{Format} for malformed files, {Unsupported} naming an operator it cannot run,
// {InvalidArgument} for bad options.
RillFile import_tflite_memory(const void* data, size_t size, const nlohmann::json& options);

} // namespace rill
