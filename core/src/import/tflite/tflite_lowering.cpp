// TFLite operators -> tensor program steps (tensor/program.hpp), with NHWC handled at import:
// 4-D activations are kept NCHW (planar, as Rill's frames are), weights are permuted once,
// constants that broadcast against 4-D activations are moved to NCHW, and axis attributes are
// mapped; operators that depend on the memory order (RESHAPE, FULLY_CONNECTED, MEAN without
// keep_dims) see their input in NHWC again. Semantics: the TFLite reference kernels; SAME padding
// puts floor(total / 2) before and the rest after.
#include "tflite_lowering.hpp"

#include <cmath>
#include <cstring>

#include "../onnx/lowering.hpp"
#include "../onnx/onnx_ops.hpp"
#include "../half_float.hpp"
#include "rill/core/error.hpp"

namespace rill::tflite_import {
namespace {

using onnx_import::Const;
using onnx_import::Lowering;
using tensor::Shape;

constexpr int32_t kCustom = 32;


class TfLowering {
public:
    explicit TfLowering(const TfModel& m)
        : m_(m), l_(13), nchw_(m.tensors.size(), false), source_(m.tensors.size(), -1) {}

    Lowering& lowering() { return l_; }

    // Declares model input t as a run-time NCHW (or as-is for other ranks) value.
    Shape declare_input(int32_t t) {
        const Shape s = to_nchw(tf_shape(t));
        l_.set_runtime(name(t), s);
        nchw_[static_cast<size_t>(t)] = s.size() == 4;
        return s;
    }

    void lower(const TfOperator& op, size_t index) {
        try {
            one(op);
        } catch (const CoreError& e) {
            throw CoreError(e.kind(), "TFLite operator " + std::to_string(index) + " (" + op_name(op) +
                                          "): " + e.what());
        }
    }

    std::string name(int32_t t) const { return "t" + std::to_string(t); }

    // Output t as the program sees it (NCHW for 4-D).
    std::string output_value(int32_t t) { return value(t); }

private:
    static std::string op_name(const TfOperator& op) {
        return op.builtin == kCustom ? "CUSTOM " + op.custom : builtin_name(op.builtin);
    }

    Shape tf_shape(int32_t t) const { return m_.tensors[static_cast<size_t>(t)].shape; }

    static Shape to_nchw(const Shape& s) {
        return s.size() == 4 ? Shape{s[0], s[3], s[1], s[2]} : s;
    }

    bool has_data(int32_t t) const {
        const uint32_t b = m_.tensors[static_cast<size_t>(t)].buffer;
        return b != 0 && b < m_.buffers.size() && !m_.buffers[b].empty();
    }

    // A constant tensor's values in TF layout.
    Const tf_const(int32_t t) const {
        const TfTensor& x = m_.tensors[static_cast<size_t>(t)];
        const auto& data = m_.buffers[x.buffer];
        Const c;
        c.shape = x.shape;
        const auto n = static_cast<size_t>(tensor::checked_numel(c.shape));
        auto need = [&](size_t bytes) {
            if (data.size() != n * bytes)
                fail_format("tensor '" + x.name + "' holds " + std::to_string(data.size()) + " bytes for " +
                            std::to_string(n) + " elements");
        };
        if (x.quantized && x.type != kFloat32 && x.type != kFloat16)
            fail_unsupported("quantized tensor '" + x.name + "'");
        c.values.resize(n);
        for (size_t i = 0; i < n; ++i) {
            switch (x.type) {
            case kFloat32: { need(4); float v; std::memcpy(&v, &data[4 * i], 4); c.values[i] = v; break; }
            case kFloat16: { need(2); uint16_t h; std::memcpy(&h, &data[2 * i], 2); c.values[i] = half_to_float(h); break; }
            case kInt32: { need(4); int32_t v; std::memcpy(&v, &data[4 * i], 4); c.values[i] = v; c.is_int = true; break; }
            case kInt64: { need(8); int64_t v; std::memcpy(&v, &data[8 * i], 8); c.values[i] = static_cast<double>(v); c.is_int = true; break; }
            default: fail_unsupported("constant tensor '" + x.name + "' of type " + std::to_string(x.type));
            }
        }
        return c;
    }

    // The value of tensor t in program layout (4-D: NCHW), registering constants on first use.
    std::string value(int32_t t) {
        const std::string n = name(t);
        if (l_.has(n))
            return n;
        if (!has_data(t))
            fail_format("tensor '" + m_.tensors[static_cast<size_t>(t)].name + "' is used before it is computed");
        Const c = tf_const(t);
        if (c.shape.size() == 4) {
            l_.set_const(n + "_nhwc", c);
            l_.emit("transpose", {n + "_nhwc"}, {{"perm", {0, 3, 1, 2}}}, 1, {n});
            nchw_[static_cast<size_t>(t)] = true;
        } else {
            l_.set_const(n, c);
        }
        return n;
    }

    // A constant in TF layout that broadcasts against a 4-D NHWC tensor, moved to NCHW.
    std::string broadcast_operand(int32_t t, bool other_is_4d) {
        const std::string v = value(t);
        const Shape s = l_.shape(v);
        if (!other_is_4d || s.size() >= 4 || nchw_[static_cast<size_t>(t)])
            return v;
        Shape full(4 - s.size(), 1);
        full.insert(full.end(), s.begin(), s.end());
        const std::string r = l_.emit("reshape", {v}, {{"shape", full}})[0];
        return l_.emit("transpose", {r}, {{"perm", {0, 3, 1, 2}}})[0];
    }

    // Tensor t in TF (NHWC) memory order.
    std::string nhwc(int32_t t) {
        const std::string v = value(t);
        if (!nchw_[static_cast<size_t>(t)])
            return v;
        return l_.emit("transpose", {v}, {{"perm", {0, 2, 3, 1}}})[0];
    }

    // Defines output t from a TF-layout value (4-D results go to NCHW).
    void define_from_nhwc(int32_t t, const std::string& v) {
        const Shape s = l_.shape(v);
        if (s.size() == 4) {
            l_.emit("transpose", {v}, {{"perm", {0, 3, 1, 2}}}, 1, {name(t)});
            nchw_[static_cast<size_t>(t)] = true;
        } else {
            l_.alias(name(t), v);
        }
    }

    // A fused activation as unary-step attributes (null for NONE).
    static nlohmann::json activation_attrs(int8_t activation) {
        switch (activation) {
        case 0: return nullptr;
        case 1: return {{"fn", "relu"}};
        case 2: return {{"fn", "clip"}, {"alpha", -1.0}, {"beta", 1.0}};
        case 3: return {{"fn", "clip"}, {"alpha", 0.0}, {"beta", 6.0}};
        case 4: return {{"fn", "tanh"}};
        default: fail_unsupported("fused activation " + std::to_string(activation));
        }
    }

    // The fused activation, then the output name.
    void finish(int32_t out, const std::string& v, int8_t activation, bool out_nchw) {
        nchw_[static_cast<size_t>(out)] = out_nchw;
        const nlohmann::json a = activation_attrs(activation);
        if (a.is_null()) {
            l_.alias(name(out), v);
            return;
        }
        l_.emit("unary", {v}, a, 1, {name(out)});
    }

    static void same_pads(int64_t in, int64_t k, int64_t s, int64_t d, int64_t& b, int64_t& e) {
        const int64_t out = (in + s - 1) / s;
        const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
        b = total / 2;
        e = total - b;
    }

    std::vector<int64_t> pads_for(const TfOptions& o, const Shape& x_nchw, int64_t kh, int64_t kw) {
        std::vector<int64_t> p(4, 0);
        if (o.padding == 0) {
            same_pads(x_nchw[2], kh, o.stride_h, o.dilation_h, p[0], p[2]);
            same_pads(x_nchw[3], kw, o.stride_w, o.dilation_w, p[1], p[3]);
        }
        return p;
    }

    // A constant weight permuted at import (through DEQUANTIZE to its stored tensor).
    std::string permuted(int32_t t, std::vector<int64_t> perm) {
        while (source_[static_cast<size_t>(t)] >= 0)
            t = source_[static_cast<size_t>(t)];
        Const c = tf_const(t);
        const std::string raw = l_.add_const(std::move(c), "w");
        return l_.emit("transpose", {raw}, {{"perm", perm}})[0];
    }

    std::string bias(const TfOperator& op, size_t i) {
        return i < op.inputs.size() && op.inputs[i] >= 0 ? value(op.inputs[i]) : std::string();
    }

    void one(const TfOperator& op) {
        const auto in = [&](size_t i) {
            if (i >= op.inputs.size() || op.inputs[i] < 0)
                fail_format("missing input " + std::to_string(i));
            return op.inputs[i];
        };
        if (op.outputs.empty())
            fail_format("operator without outputs");
        const int32_t out = op.outputs[0];
        const TfOptions& o = op.options;
        const bool custom_tconv = op.builtin == kCustom && op.custom == "Convolution2DTransposeBias";
        switch (custom_tconv ? -1 : op.builtin) {
        case 3: // CONV_2D: weight OHWI
        case 4: { // DEPTHWISE_CONV_2D: weight [1, KH, KW, C * M]
            const std::string x = value(in(0));
            const Shape xs = l_.shape(x), ws = tf_shape(in(1));
            if (xs.size() != 4 || ws.size() != 4)
                fail_format("needs 4-D input and weights");
            const bool depthwise = op.builtin == 4;
            const std::string w = depthwise ? permuted(in(1), {3, 0, 1, 2}) : permuted(in(1), {0, 3, 1, 2});
            nlohmann::json attrs = {{"strides", {o.stride_h, o.stride_w}}, {"dilations", {o.dilation_h, o.dilation_w}},
                                    {"pads", pads_for(o, xs, ws[1], ws[2])}, {"group", depthwise ? xs[1] : 1}};
            if (const nlohmann::json a = activation_attrs(o.activation); !a.is_null())
                attrs["activation"] = a; // applied by the conv step while its output is in cache
            l_.emit("conv", {x, w, bias(op, 2)}, attrs, 1, {name(out)});
            nchw_[static_cast<size_t>(out)] = true;
            return;
        }
        case 67: // TRANSPOSE_CONV: output_shape, weights OHWI, input, (bias)
        case -1: { // MediaPipe's Convolution2DTransposeBias: input, weights OHWI, bias
            const bool builtin = op.builtin == 67;
            const int32_t xi = builtin ? in(2) : in(0), wi = in(1);
            const std::string x = value(xi);
            const Shape xs = l_.shape(x), ws = tf_shape(wi), ys = to_nchw(tf_shape(out));
            int32_t stride_w = o.stride_w, stride_h = o.stride_h, padding = o.padding;
            if (!builtin) { // custom options: TfLiteTransposeConvParams {padding, stride_w, stride_h}
                if (op.custom_options.size() >= 12) {
                    std::memcpy(&padding, &op.custom_options[0], 4);
                    std::memcpy(&stride_w, &op.custom_options[4], 4);
                    std::memcpy(&stride_h, &op.custom_options[8], 4);
                    padding = padding == 2 ? 1 : 0; // TfLitePadding: 1 SAME, 2 VALID
                } else {
                    stride_w = stride_h = 2;
                    padding = 0;
                }
            }
            if (xs.size() != 4 || ws.size() != 4 || ys.size() != 4)
                fail_format("needs 4-D input, weights and output");
            std::vector<int64_t> pads(4, 0);
            if (padding == 0) {
                const int64_t th = std::max<int64_t>(0, (xs[2] - 1) * stride_h + ws[1] - ys[2]);
                const int64_t tw = std::max<int64_t>(0, (xs[3] - 1) * stride_w + ws[2] - ys[3]);
                pads = {th / 2, tw / 2, th - th / 2, tw - tw / 2};
            }
            const int64_t oh = std::max<int64_t>(0, ys[2] - ((xs[2] - 1) * stride_h + ws[1] - pads[0] - pads[2]));
            const int64_t ow = std::max<int64_t>(0, ys[3] - ((xs[3] - 1) * stride_w + ws[2] - pads[1] - pads[3]));
            const std::string w = permuted(wi, {3, 0, 1, 2}); // [I, O, KH, KW]
            const std::string y = l_.emit("conv_transpose", {x, w, bias(op, builtin ? 3 : 2)},
                                          {{"strides", {stride_h, stride_w}}, {"dilations", {1, 1}}, {"pads", pads},
                                           {"group", 1}, {"output_padding", {oh, ow}}})[0];
            finish(out, y, builtin ? o.activation : 0, true);
            return;
        }
        case 0: case 18: case 41: case 42: { // ADD, MUL, SUB, DIV
            const bool a4 = nchw_or_4d(in(0)), b4 = nchw_or_4d(in(1));
            const std::string a = broadcast_operand(in(0), b4), b = broadcast_operand(in(1), a4);
            const char* fn = op.builtin == 0 ? "add" : op.builtin == 18 ? "mul" : op.builtin == 41 ? "sub" : "div";
            finish(out, l_.emit("binary", {a, b}, {{"fn", fn}})[0], o.activation, a4 || b4);
            return;
        }
        case 117: case 19: case 21: case 14: case 28: case 98: { // HARD_SWISH RELU RELU6 LOGISTIC TANH LEAKY_RELU
            nlohmann::json a = op.builtin == 117 ? nlohmann::json{{"fn", "hard_swish"}}
                               : op.builtin == 19 ? nlohmann::json{{"fn", "relu"}}
                               : op.builtin == 21 ? nlohmann::json{{"fn", "clip"}, {"alpha", 0.0}, {"beta", 6.0}}
                               : op.builtin == 14 ? nlohmann::json{{"fn", "sigmoid"}}
                               : op.builtin == 28 ? nlohmann::json{{"fn", "tanh"}}
                                                  : nlohmann::json{{"fn", "leaky_relu"}, {"alpha", o.alpha}};
            const std::string x = value(in(0));
            nchw_[static_cast<size_t>(out)] = nchw_[static_cast<size_t>(in(0))];
            l_.emit("unary", {x}, a, 1, {name(out)});
            return;
        }
        case 1: case 17: { // AVERAGE_POOL_2D, MAX_POOL_2D
            const std::string x = value(in(0));
            const Shape xs = l_.shape(x);
            TfOptions po = o;
            po.dilation_h = po.dilation_w = 1;
            const std::string y = l_.emit("pool", {x},
                                          {{"mode", op.builtin == 1 ? "avg" : "max"}, {"kernel", {o.filter_h, o.filter_w}},
                                           {"strides", {o.stride_h, o.stride_w}}, {"dilations", {1, 1}},
                                           {"pads", pads_for(po, xs, o.filter_h, o.filter_w)}, {"ceil_mode", 0},
                                           {"count_include_pad", 0}})[0];
            finish(out, y, o.activation, true);
            return;
        }
        case 40: { // MEAN
            const Const& axes_c = l_.constant(value(in(1)), onnx_import::OnnxNode{});
            std::vector<int64_t> axes;
            const size_t rank = tf_shape(in(0)).size();
            for (double v : axes_c.values)
                axes.push_back(tensor::normalize_axis(static_cast<int64_t>(v), rank));
            if (o.keep_dims && nchw_[static_cast<size_t>(in(0))]) {
                static const int64_t to_nchw_axis[4] = {0, 2, 3, 1};
                for (auto& a : axes)
                    a = to_nchw_axis[a];
                const std::string y = l_.emit("reduce", {value(in(0))}, {{"fn", "mean"}, {"axes", axes}, {"keepdims", 1}})[0];
                finish(out, y, 0, true);
                return;
            }
            const std::string y =
                l_.emit("reduce", {nhwc(in(0))}, {{"fn", "mean"}, {"axes", axes}, {"keepdims", o.keep_dims ? 1 : 0}})[0];
            define_from_nhwc(out, y);
            return;
        }
        case 23: { // RESIZE_BILINEAR
            const std::string x = value(in(0));
            const Shape xs = l_.shape(x), ys = to_nchw(tf_shape(out));
            const std::string mode = o.align_corners ? "align_corners" : o.half_pixel_centers ? "half_pixel" : "asymmetric";
            std::vector<double> scales;
            for (size_t a = 0; a < 4; ++a)
                scales.push_back(static_cast<double>(ys[a]) / static_cast<double>(xs[a]));
            l_.emit("resize_linear", {x}, {{"sizes", ys}, {"scales", scales}, {"coordinate_mode", mode}}, 1, {name(out)});
            nchw_[static_cast<size_t>(out)] = true;
            return;
        }
        case 2: { // CONCATENATION
            std::vector<std::string> parts;
            bool four = true;
            for (int32_t t : op.inputs) {
                parts.push_back(value(t));
                four = four && nchw_[static_cast<size_t>(t)];
            }
            int64_t axis = tensor::normalize_axis(o.axis, tf_shape(out).size());
            if (four) {
                static const int64_t to_nchw_axis[4] = {0, 2, 3, 1};
                axis = to_nchw_axis[axis];
            } else {
                parts.clear();
                for (int32_t t : op.inputs)
                    parts.push_back(nhwc(t));
            }
            const std::string y = l_.emit("concat", parts, {{"axis", axis}})[0];
            if (four)
                finish(out, y, o.activation, true);
            else
                define_from_nhwc(out, y);
            return;
        }
        case 22: { // RESHAPE: to the output tensor's static shape
            const std::string y = l_.emit("reshape", {nhwc(in(0))}, {{"shape", tf_shape(out)}})[0];
            define_from_nhwc(out, y);
            return;
        }
        case 9: { // FULLY_CONNECTED: y = x W^T + b, W [O, K]
            const Shape ws = tf_shape(in(1));
            if (ws.size() != 2)
                fail_format("weights must be 2-D");
            const std::string x = l_.emit("reshape", {nhwc(in(0))},
                                          {{"shape", {tensor::numel(tf_shape(in(0))) / ws[1], ws[1]}}})[0];
            const std::string wt = l_.emit("transpose", {value(in(1))}, {{"perm", {1, 0}}})[0];
            std::string y = l_.emit("matmul", {x, wt}, nlohmann::json::object())[0];
            if (!bias(op, 2).empty())
                y = l_.emit("binary", {y, bias(op, 2)}, {{"fn", "add"}})[0];
            const std::string r = l_.emit("reshape", {y}, {{"shape", tf_shape(out)}})[0];
            finish(out, r, o.activation, false);
            if (tf_shape(out).size() == 4)
                fail_unsupported("a 4-D FULLY_CONNECTED output");
            return;
        }
        case 25: { // SOFTMAX over the last TF axis
            std::string x = value(in(0));
            if (o.beta != 1.0f)
                x = l_.emit("binary", {x, l_.add_const(onnx_import::scalar_const(o.beta))}, {{"fn", "mul"}})[0];
            const int64_t axis = nchw_[static_cast<size_t>(in(0))] ? 1 : -1;
            nchw_[static_cast<size_t>(out)] = nchw_[static_cast<size_t>(in(0))];
            l_.emit("softmax", {x}, {{"axis", axis}, {"log", 0}}, 1, {name(out)});
            return;
        }
        case 6: { // DEQUANTIZE (float16 weights): a constant
            if (!has_data(in(0)))
                fail_unsupported("dequantizing a run-time tensor");
            const std::string v = value(in(0));
            nchw_[static_cast<size_t>(out)] = nchw_[static_cast<size_t>(in(0))];
            source_[static_cast<size_t>(out)] = in(0);
            l_.alias(name(out), v);
            return;
        }
        default:
            fail_unsupported("operator " + op_name(op) + " is not supported");
        }
    }

    bool nchw_or_4d(int32_t t) { return nchw_[static_cast<size_t>(t)] || tf_shape(t).size() == 4; }

    const TfModel& m_;
    Lowering l_;
    std::vector<bool> nchw_;
    std::vector<int32_t> source_; // DEQUANTIZE output -> its stored tensor
};

} // namespace

TfliteProgram lower_tflite(const TfModel& m) {
    TfLowering tl(m);
    TfliteProgram p;
    p.desc = {{"inputs", nlohmann::json::array()}, {"outputs", nlohmann::json::array()}};
    for (int32_t t : m.inputs) {
        const Shape s = tl.declare_input(t);
        p.desc["inputs"].push_back({{"value", tl.name(t)}, {"shape", s}});
        p.input_shapes.push_back(s);
    }
    for (size_t i = 0; i < m.operators.size(); ++i)
        tl.lower(m.operators[i], i);
    nlohmann::json steps;
    for (int32_t t : m.outputs) {
        const std::string v = tl.output_value(t);
        p.desc["outputs"].push_back({{"value", v}});
        p.output_shapes.push_back(tl.lowering().shape(v));
    }
    p.desc["steps"] = tl.lowering().steps();
    for (const auto& [name, c] : tl.lowering().used_weights()) {
        std::vector<float> v(c.values.begin(), c.values.end());
        p.constants[name] = make_tensor(c.shape, std::move(v));
    }
    return p;
}

} // namespace rill::tflite_import
