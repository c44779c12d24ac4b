#include "onnx_graph.hpp"

#include <cstring>

#include <onnx/onnx_pb.h>

#include "../../tensor/shape.hpp"
#include "../half_float.hpp"
#include "rill/core/error.hpp"

namespace rill::onnx_import {
namespace {


template <typename T> void from_raw(const std::string& raw, size_t n, std::vector<double>& out) {
    if (raw.size() != n * sizeof(T))
        fail_format("tensor raw_data holds " + std::to_string(raw.size()) + " bytes, expected " +
                    std::to_string(n * sizeof(T)));
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
        out[i] = static_cast<double>(v);
    }
}

Const convert_tensor(const onnx::TensorProto& t) {
    Const c;
    for (int64_t d : t.dims()) {
        if (d < 0)
            fail_format("tensor '" + t.name() + "' has a negative dimension");
        c.shape.push_back(d);
    }
    const auto n = static_cast<size_t>(tensor::checked_numel(c.shape));
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
        fail_unsupported("tensor '" + t.name() + "' keeps its data in an external file");
    const std::string& raw = t.raw_data();
    const bool has_raw = t.has_raw_data();
    using TP = onnx::TensorProto;
    switch (t.data_type()) {
    case TP::FLOAT:
        if (has_raw)
            from_raw<float>(raw, n, c.values);
        else
            c.values.assign(t.float_data().begin(), t.float_data().end());
        break;
    case TP::DOUBLE:
        if (has_raw)
            from_raw<double>(raw, n, c.values);
        else
            c.values.assign(t.double_data().begin(), t.double_data().end());
        break;
    case TP::FLOAT16:
        c.values.resize(n);
        for (size_t i = 0; i < n; ++i) {
            uint16_t h;
            if (has_raw) {
                if (raw.size() != 2 * n)
                    fail_format("tensor '" + t.name() + "' raw_data size");
                std::memcpy(&h, raw.data() + 2 * i, 2);
            } else {
                if (static_cast<size_t>(t.int32_data_size()) != n)
                    fail_format("tensor '" + t.name() + "' data size");
                h = static_cast<uint16_t>(t.int32_data(static_cast<int>(i)));
            }
            c.values[i] = half_to_float(h);
        }
        break;
    case TP::INT64:
        c.is_int = true;
        if (has_raw)
            from_raw<int64_t>(raw, n, c.values);
        else
            c.values.assign(t.int64_data().begin(), t.int64_data().end());
        break;
    case TP::INT32:
    case TP::INT16:
    case TP::INT8:
    case TP::UINT8:
    case TP::BOOL:
        c.is_int = true;
        if (has_raw) {
            if (t.data_type() == TP::INT32)
                from_raw<int32_t>(raw, n, c.values);
            else if (t.data_type() == TP::INT16)
                from_raw<int16_t>(raw, n, c.values);
            else if (t.data_type() == TP::INT8)
                from_raw<int8_t>(raw, n, c.values);
            else
                from_raw<uint8_t>(raw, n, c.values);
        } else {
            c.values.assign(t.int32_data().begin(), t.int32_data().end());
        }
        break;
    default:
        fail_unsupported("tensor '" + t.name() + "' has data type " + std::to_string(t.data_type()) +
                         " (float, float16, double and integer types are supported)");
    }
    if (c.values.size() != n)
        fail_format("tensor '" + t.name() + "' holds " + std::to_string(c.values.size()) +
                    " values for shape of " + std::to_string(n));
    return c;
}

ValueInfo convert_value_info(const onnx::ValueInfoProto& v) {
    ValueInfo info;
    info.name = v.name();
    if (v.type().has_tensor_type()) {
        const auto& tt = v.type().tensor_type();
        info.elem_type = tt.elem_type();
        if (tt.has_shape()) {
            info.has_shape = true;
            for (const auto& d : tt.shape().dim()) {
                info.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
                info.dim_names.push_back(d.has_dim_param() ? d.dim_param() : "");
            }
        }
    }
    return info;
}

OnnxGraph convert_graph(const onnx::GraphProto& g);

Attr convert_attr(const onnx::AttributeProto& a) {
    Attr r;
    using AP = onnx::AttributeProto;
    switch (a.type()) {
    case AP::INT: r.type = Attr::Type::Int; r.i = a.i(); break;
    case AP::FLOAT: r.type = Attr::Type::Float; r.f = a.f(); break;
    case AP::STRING: r.type = Attr::Type::String; r.s = a.s(); break;
    case AP::INTS: r.type = Attr::Type::Ints; r.ints.assign(a.ints().begin(), a.ints().end()); break;
    case AP::FLOATS: r.type = Attr::Type::Floats; r.floats.assign(a.floats().begin(), a.floats().end()); break;
    case AP::STRINGS: r.type = Attr::Type::Strings; r.strings.assign(a.strings().begin(), a.strings().end()); break;
    case AP::TENSOR: r.type = Attr::Type::Tensor; r.t = std::make_shared<Const>(convert_tensor(a.t())); break;
    case AP::GRAPH: r.type = Attr::Type::Graph; r.g = std::make_shared<OnnxGraph>(convert_graph(a.g())); break;
    default: r.type = Attr::Type::Other; break;
    }
    return r;
}

OnnxGraph convert_graph(const onnx::GraphProto& g) {
    OnnxGraph r;
    for (const auto& t : g.initializer())
        r.initializers[t.name()] = convert_tensor(t);
    if (g.sparse_initializer_size() > 0)
        fail_unsupported("sparse initializers");
    for (const auto& v : g.input())
        r.inputs.push_back(convert_value_info(v));
    for (const auto& v : g.output())
        r.outputs.push_back(convert_value_info(v));
    for (const auto& n : g.node()) {
        OnnxNode node;
        node.name = n.name();
        node.op_type = n.op_type();
        node.domain = n.domain();
        node.inputs.assign(n.input().begin(), n.input().end());
        node.outputs.assign(n.output().begin(), n.output().end());
        for (const auto& a : n.attribute())
            node.attrs[a.name()] = convert_attr(a);
        r.nodes.push_back(std::move(node));
    }
    return r;
}

} // namespace

int64_t Const::numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

bool looks_like_onnx(const void* data, size_t size) {
    // ModelProto starts with field 1 (ir_version, varint): tag byte 0x08, and ir_version is small.
    const auto* p = static_cast<const unsigned char*>(data);
    return size >= 2 && p[0] == 0x08 && p[1] >= 1 && p[1] <= 64;
}

OnnxModel read_onnx(const void* data, size_t size) {
    onnx::ModelProto proto;
    if (size > static_cast<size_t>(INT32_MAX) || !proto.ParseFromArray(data, static_cast<int>(size)))
        fail_format("not a valid ONNX model (protobuf parse failed)");
    if (!proto.has_graph())
        fail_format("ONNX model has no graph");
    OnnxModel m;
    m.producer = proto.producer_name() + " " + proto.producer_version();
    for (const auto& o : proto.opset_import())
        if (o.domain().empty() || o.domain() == "ai.onnx")
            m.opset = o.version();
    m.graph = convert_graph(proto.graph());
    return m;
}

Const read_tensor_proto(const void* data, size_t size, std::string* name) {
    onnx::TensorProto t;
    if (size > static_cast<size_t>(INT32_MAX) || !t.ParseFromArray(data, static_cast<int>(size)))
        fail_format("not a valid ONNX TensorProto");
    if (name)
        *name = t.name();
    return convert_tensor(t);
}

} // namespace rill::onnx_import
