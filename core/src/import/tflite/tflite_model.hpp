// A TFLite model (the flatbuffer of tensorflow/lite/schema/schema.fbs, file identifier "TFL3")
// read into plain structs with accessors written here on Debian's flatbuffers runtime: every
// table, vector and string is checked by a flatbuffers::Verifier before it is read, so a
// malformed file gives a CoreError{Format}, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rill::tflite_import {

// TensorType values used here.
enum TensorType : int8_t { kFloat32 = 0, kFloat16 = 1, kInt32 = 2, kUint8 = 3, kInt64 = 4, kInt8 = 9 };

struct TfTensor {
    std::vector<int64_t> shape;
    int8_t type = kFloat32;
    uint32_t buffer = 0;
    std::string name;
    bool quantized = false; // has scale / zero_point (not supported as activations)
};

// The options of one operator, by the union type of builtin_options (only the tables the
// importer reads; fields keep the schema's defaults when absent).
struct TfOptions {
    int8_t padding = 0; // 0 SAME, 1 VALID
    int32_t stride_w = 1, stride_h = 1, dilation_w = 1, dilation_h = 1;
    int32_t filter_w = 1, filter_h = 1, depth_multiplier = 1, axis = 0;
    int8_t activation = 0; // NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT
    bool keep_dims = false, align_corners = false, half_pixel_centers = false, keep_num_dims = false;
    float beta = 1.0f, alpha = 0.0f;
    std::vector<int64_t> new_shape;
};

struct TfOperator {
    int32_t builtin = 0;        // BuiltinOperator
    std::string custom;         // custom_code when builtin == 32 (CUSTOM)
    std::vector<int32_t> inputs, outputs; // tensor indices, -1 = absent
    uint8_t options_type = 0;
    TfOptions options;
    std::vector<uint8_t> custom_options;
};

struct TfModel {
    uint32_t version = 0;
    std::string description;
    std::vector<TfTensor> tensors;
    std::vector<int32_t> inputs, outputs;
    std::vector<TfOperator> operators;
    std::vector<std::vector<uint8_t>> buffers;
};

bool looks_like_tflite(const void* data, size_t size);
// The first subgraph of the model. Throws CoreError{Format} for malformed files.
TfModel read_tflite(const void* data, size_t size);

// Name of a builtin operator code (for messages), "BUILTIN_<n>" when not known here.
std::string builtin_name(int32_t code);

} // namespace rill::tflite_import
