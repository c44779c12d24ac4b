// An ONNX model read from its protobuf (Debian's libonnx_proto + libprotobuf) into plain structs,
// so the rest of the importer never touches protobuf types.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rill::onnx_import {

// A tensor value known at import: weights, folded shape arithmetic. Integers and booleans are
// kept exactly (as int64 in double's exact range is enough for shapes; see `is_int`).
struct Const {
    bool is_int = false;
    std::vector<int64_t> shape;
    std::vector<double> values;
    int64_t numel() const;
};

struct OnnxGraph;

struct Attr {
    enum class Type { Int, Float, String, Ints, Floats, Strings, Tensor, Graph, Other } type = Type::Other;
    int64_t i = 0;
    double f = 0;
    std::string s;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::vector<std::string> strings;
    std::shared_ptr<Const> t;
    std::shared_ptr<OnnxGraph> g;
};

struct OnnxNode {
    std::string name, op_type, domain;
    std::vector<std::string> inputs, outputs; // "" = absent optional
    std::map<std::string, Attr> attrs;
};

struct ValueInfo {
    std::string name;
    int32_t elem_type = 0;           // ONNX TensorProto.DataType
    std::vector<int64_t> dims;       // -1 where symbolic or unknown
    std::vector<std::string> dim_names; // symbolic names ("" when fixed)
    bool has_shape = false;
};

struct OnnxGraph {
    std::vector<OnnxNode> nodes;
    std::map<std::string, Const> initializers;
    std::vector<ValueInfo> inputs, outputs;
};

struct OnnxModel {
    OnnxGraph graph;
    int64_t opset = 0; // default domain
    std::string producer;
};

// Throws CoreError{Format} for bytes that are not an ONNX model, {Unsupported} for external data.
OnnxModel read_onnx(const void* data, size_t size);
// A serialized TensorProto (the conformance cases' input_*.pb / output_*.pb).
Const read_tensor_proto(const void* data, size_t size, std::string* name = nullptr);

// True when the bytes look like an ONNX ModelProto (field 1 ir_version varint first).
bool looks_like_onnx(const void* data, size_t size);

} // namespace rill::onnx_import
