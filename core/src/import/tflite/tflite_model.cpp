#include "tflite_model.hpp"

#include <cstring>

#include <flatbuffers/flatbuffers.h>

#include "rill/core/error.hpp"

namespace rill::tflite_import {
namespace {

using flatbuffers::String;
using flatbuffers::Table;
using flatbuffers::Vector;
using flatbuffers::Verifier;

// Field slot i of a table: vtable offset 4 + 2 i (union fields take two slots: type, value).
constexpr flatbuffers::voffset_t slot(int i) { return static_cast<flatbuffers::voffset_t>(4 + 2 * i); }

class Reader {
public:
    Reader(const uint8_t* data, size_t size) : v_(data, size, 64, 1000000) {}

    void table(const Table* t, const char* what) {
        if (!t || !t->VerifyTableStart(v_))
            fail_format(std::string("TFLite: malformed ") + what + " table");
        v_.EndTable();
    }

    template <typename T> T scalar(const Table* t, int field, T fallback, const char* what) {
        if (!t->VerifyField<T>(v_, slot(field), sizeof(T)))
            fail_format(std::string("TFLite: malformed field of ") + what);
        return t->GetField<T>(slot(field), fallback);
    }

    template <typename T> const Vector<T>* vector(const Table* t, int field, const char* what) {
        if (!t->VerifyOffset(v_, slot(field)))
            fail_format(std::string("TFLite: malformed ") + what);
        const auto* vec = t->GetPointer<const Vector<T>*>(slot(field));
        if (vec && !v_.VerifyVector(vec))
            fail_format(std::string("TFLite: malformed ") + what);
        return vec;
    }

    std::string string(const Table* t, int field, const char* what) {
        if (!t->VerifyOffset(v_, slot(field)))
            fail_format(std::string("TFLite: malformed ") + what);
        const auto* s = t->GetPointer<const String*>(slot(field));
        if (!s)
            return "";
        if (!v_.VerifyString(s))
            fail_format(std::string("TFLite: malformed ") + what);
        return s->str();
    }

    const Table* child(const Table* t, int field, const char* what) {
        if (!t->VerifyOffset(v_, slot(field)))
            fail_format(std::string("TFLite: malformed ") + what);
        const auto* c = t->GetPointer<const Table*>(slot(field));
        if (c)
            table(c, what);
        return c;
    }

    // Element i of a vector of tables.
    const Table* element(const Vector<flatbuffers::Offset<Table>>* vec, size_t i, const char* what) {
        const Table* t = vec->Get(static_cast<flatbuffers::uoffset_t>(i));
        table(t, what);
        return t;
    }

private:
    Verifier v_;
};

template <typename T> std::vector<int64_t> ints(const Vector<T>* v) {
    std::vector<int64_t> r;
    if (v)
        for (auto x : *v)
            r.push_back(static_cast<int64_t>(x));
    return r;
}

TfOptions read_options(Reader& r, const Table* o, uint8_t type) {
    TfOptions p;
    if (!o)
        return p;
    const char* w = "operator options";
    switch (type) {
    case 1: // Conv2DOptions
        p.padding = r.scalar<int8_t>(o, 0, 0, w);
        p.stride_w = r.scalar<int32_t>(o, 1, 1, w);
        p.stride_h = r.scalar<int32_t>(o, 2, 1, w);
        p.activation = r.scalar<int8_t>(o, 3, 0, w);
        p.dilation_w = r.scalar<int32_t>(o, 4, 1, w);
        p.dilation_h = r.scalar<int32_t>(o, 5, 1, w);
        break;
    case 2: // DepthwiseConv2DOptions
        p.padding = r.scalar<int8_t>(o, 0, 0, w);
        p.stride_w = r.scalar<int32_t>(o, 1, 1, w);
        p.stride_h = r.scalar<int32_t>(o, 2, 1, w);
        p.depth_multiplier = r.scalar<int32_t>(o, 3, 1, w);
        p.activation = r.scalar<int8_t>(o, 4, 0, w);
        p.dilation_w = r.scalar<int32_t>(o, 5, 1, w);
        p.dilation_h = r.scalar<int32_t>(o, 6, 1, w);
        break;
    case 5: // Pool2DOptions
        p.padding = r.scalar<int8_t>(o, 0, 0, w);
        p.stride_w = r.scalar<int32_t>(o, 1, 1, w);
        p.stride_h = r.scalar<int32_t>(o, 2, 1, w);
        p.filter_w = r.scalar<int32_t>(o, 3, 1, w);
        p.filter_h = r.scalar<int32_t>(o, 4, 1, w);
        p.activation = r.scalar<int8_t>(o, 5, 0, w);
        break;
    case 8: // FullyConnectedOptions
        p.activation = r.scalar<int8_t>(o, 0, 0, w);
        p.keep_num_dims = r.scalar<uint8_t>(o, 2, 0, w) != 0;
        break;
    case 9: // SoftmaxOptions
        p.beta = r.scalar<float>(o, 0, 1.0f, w);
        break;
    case 10: // ConcatenationOptions
        p.axis = r.scalar<int32_t>(o, 0, 0, w);
        p.activation = r.scalar<int8_t>(o, 1, 0, w);
        break;
    case 11: case 21: case 28: case 29: // Add, Mul, Sub, Div options: activation first
        p.activation = r.scalar<int8_t>(o, 0, 0, w);
        break;
    case 15: // ResizeBilinearOptions
        p.align_corners = r.scalar<uint8_t>(o, 2, 0, w) != 0;
        p.half_pixel_centers = r.scalar<uint8_t>(o, 3, 0, w) != 0;
        break;
    case 17: // ReshapeOptions
        p.new_shape = ints(r.vector<int32_t>(o, 0, "reshape options"));
        break;
    case 27: // ReducerOptions
        p.keep_dims = r.scalar<uint8_t>(o, 0, 0, w) != 0;
        break;
    case 49: // TransposeConvOptions
        p.padding = r.scalar<int8_t>(o, 0, 0, w);
        p.stride_w = r.scalar<int32_t>(o, 1, 1, w);
        p.stride_h = r.scalar<int32_t>(o, 2, 1, w);
        p.activation = r.scalar<int8_t>(o, 3, 0, w);
        break;
    case 75: // LeakyReluOptions
        p.alpha = r.scalar<float>(o, 0, 0.0f, w);
        break;
    default:
        break;
    }
    return p;
}

} // namespace

bool looks_like_tflite(const void* data, size_t size) {
    return size >= 8 && std::memcmp(static_cast<const char*>(data) + 4, "TFL3", 4) == 0;
}

TfModel read_tflite(const void* data, size_t size) {
    if (!looks_like_tflite(data, size) || size > (size_t(1) << 31))
        fail_format("not a TFLite model (file identifier TFL3)");
    const auto* bytes = static_cast<const uint8_t*>(data);
    Reader r(bytes, size);
    uint32_t root_offset;
    std::memcpy(&root_offset, bytes, 4);
    if (root_offset < 8 || root_offset >= size)
        fail_format("TFLite: bad root offset");
    const auto* model = reinterpret_cast<const Table*>(bytes + root_offset);
    r.table(model, "Model");
    TfModel m;
    m.version = r.scalar<uint32_t>(model, 0, 0, "Model");
    m.description = r.string(model, 3, "description");
    std::vector<std::pair<int32_t, std::string>> codes;
    if (const auto* oc = r.vector<flatbuffers::Offset<Table>>(model, 1, "operator codes"))
        for (size_t i = 0; i < oc->size(); ++i) {
            const Table* c = r.element(oc, i, "OperatorCode");
            const int32_t deprecated = r.scalar<int8_t>(c, 0, 0, "OperatorCode");
            const int32_t builtin = r.scalar<int32_t>(c, 3, 0, "OperatorCode");
            codes.push_back({std::max(deprecated, builtin), r.string(c, 1, "custom code")});
        }
    if (const auto* bufs = r.vector<flatbuffers::Offset<Table>>(model, 4, "buffers"))
        for (size_t i = 0; i < bufs->size(); ++i) {
            const Table* b = r.element(bufs, i, "Buffer");
            const auto* d = r.vector<uint8_t>(b, 0, "buffer data");
            if (r.scalar<uint64_t>(b, 1, 0, "Buffer") > 1)
                fail_unsupported("TFLite buffers stored outside the flatbuffer (models over 2 GB)");
            m.buffers.emplace_back(d ? std::vector<uint8_t>(d->begin(), d->end()) : std::vector<uint8_t>());
        }
    const auto* subgraphs = r.vector<flatbuffers::Offset<Table>>(model, 2, "subgraphs");
    if (!subgraphs || subgraphs->size() == 0)
        fail_format("TFLite: no subgraph");
    const Table* g = r.element(subgraphs, 0, "SubGraph");
    if (const auto* ts = r.vector<flatbuffers::Offset<Table>>(g, 0, "tensors"))
        for (size_t i = 0; i < ts->size(); ++i) {
            const Table* t = r.element(ts, i, "Tensor");
            TfTensor tensor;
            tensor.shape = ints(r.vector<int32_t>(t, 0, "tensor shape"));
            tensor.type = r.scalar<int8_t>(t, 1, 0, "Tensor");
            tensor.buffer = r.scalar<uint32_t>(t, 2, 0, "Tensor");
            tensor.name = r.string(t, 3, "tensor name");
            if (const Table* q = r.child(t, 4, "quantization")) {
                const auto* scale = r.vector<float>(q, 2, "quantization scale");
                tensor.quantized = scale && scale->size() > 0;
            }
            if (tensor.buffer >= m.buffers.size() && tensor.buffer != 0)
                fail_format("TFLite: tensor '" + tensor.name + "' refers to a missing buffer");
            m.tensors.push_back(std::move(tensor));
        }
    m.inputs.assign(0, 0);
    for (auto v : ints(r.vector<int32_t>(g, 1, "subgraph inputs")))
        m.inputs.push_back(static_cast<int32_t>(v));
    for (auto v : ints(r.vector<int32_t>(g, 2, "subgraph outputs")))
        m.outputs.push_back(static_cast<int32_t>(v));
    if (const auto* ops = r.vector<flatbuffers::Offset<Table>>(g, 3, "operators"))
        for (size_t i = 0; i < ops->size(); ++i) {
            const Table* o = r.element(ops, i, "Operator");
            TfOperator op;
            const uint32_t code = r.scalar<uint32_t>(o, 0, 0, "Operator");
            if (code >= codes.size())
                fail_format("TFLite: operator " + std::to_string(i) + " has an unknown opcode index");
            op.builtin = codes[code].first;
            op.custom = codes[code].second;
            for (auto v : ints(r.vector<int32_t>(o, 1, "operator inputs")))
                op.inputs.push_back(static_cast<int32_t>(v));
            for (auto v : ints(r.vector<int32_t>(o, 2, "operator outputs")))
                op.outputs.push_back(static_cast<int32_t>(v));
            op.options_type = r.scalar<uint8_t>(o, 3, 0, "Operator");
            op.options = read_options(r, r.child(o, 4, "builtin options"), op.options_type);
            if (const auto* co = r.vector<uint8_t>(o, 5, "custom options"))
                op.custom_options.assign(co->begin(), co->end());
            for (int32_t t : op.inputs)
                if (t < -1 || t >= static_cast<int32_t>(m.tensors.size()))
                    fail_format("TFLite: operator " + std::to_string(i) + " refers to a missing tensor");
            for (int32_t t : op.outputs)
                if (t < 0 || t >= static_cast<int32_t>(m.tensors.size()))
                    fail_format("TFLite: operator " + std::to_string(i) + " refers to a missing tensor");
            m.operators.push_back(std::move(op));
        }
    for (int32_t t : m.inputs)
        if (t < 0 || t >= static_cast<int32_t>(m.tensors.size()))
            fail_format("TFLite: a subgraph input refers to a missing tensor");
    for (int32_t t : m.outputs)
        if (t < 0 || t >= static_cast<int32_t>(m.tensors.size()))
            fail_format("TFLite: a subgraph output refers to a missing tensor");
    return m;
}

std::string builtin_name(int32_t code) {
    static const std::pair<int32_t, const char*> names[] = {
        {0, "ADD"}, {1, "AVERAGE_POOL_2D"}, {2, "CONCATENATION"}, {3, "CONV_2D"}, {4, "DEPTHWISE_CONV_2D"},
        {6, "DEQUANTIZE"}, {9, "FULLY_CONNECTED"}, {14, "LOGISTIC"}, {17, "MAX_POOL_2D"}, {18, "MUL"},
        {19, "RELU"}, {21, "RELU6"}, {22, "RESHAPE"}, {23, "RESIZE_BILINEAR"}, {25, "SOFTMAX"}, {28, "TANH"},
        {32, "CUSTOM"}, {34, "PAD"}, {39, "TRANSPOSE"}, {40, "MEAN"}, {41, "SUB"}, {42, "DIV"}, {54, "PRELU"},
        {67, "TRANSPOSE_CONV"}, {97, "RESIZE_NEAREST_NEIGHBOR"}, {98, "LEAKY_RELU"}, {117, "HARD_SWISH"}};
    for (const auto& [c, n] : names)
        if (c == code)
            return n;
    return "BUILTIN_" + std::to_string(code);
}

} // namespace rill::tflite_import
