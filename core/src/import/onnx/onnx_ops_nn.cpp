// ONNX operators of neural-network layers: convolutions, matrix products, recurrent layers,
// normalisations, reductions, pooling and resizing (ONNX operator specification semantics).
#include <algorithm>
#include <cmath>

#include "onnx_ops.hpp"

namespace rill::onnx_import {
namespace {

// Begin/end pads of one spatial axis for auto_pad SAME_UPPER / SAME_LOWER.
void same_pads(int64_t in, int64_t k, int64_t s, int64_t d, bool upper, int64_t& b, int64_t& e) {
    const int64_t out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
    b = upper ? total / 2 : total - total / 2;
    e = total - b;
}

// pads for a Conv/pool node over `spatial` axes, resolving auto_pad.
std::vector<int64_t> conv_pads(const OnnxNode& n, const Shape& x, const std::vector<int64_t>& k,
                               const std::vector<int64_t>& s, const std::vector<int64_t>& d) {
    const size_t sp = k.size();
    const std::string auto_pad = attr_s(n, "auto_pad", "NOTSET");
    std::vector<int64_t> pads = attr_is(n, "pads", std::vector<int64_t>(2 * sp, 0));
    if (auto_pad == "VALID")
        return std::vector<int64_t>(2 * sp, 0);
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        for (size_t i = 0; i < sp; ++i)
            same_pads(x[2 + i], k[i], s[i], d[i], auto_pad == "SAME_UPPER", pads[i], pads[i + sp]);
    } else if (auto_pad != "NOTSET") {
        unsupported(n, "auto_pad \"" + auto_pad + "\"");
    }
    return pads;
}

void conv(Lowering& l, const OnnxNode& n) {
    const Shape x = l.shape(input(n, 0)), w = l.shape(input(n, 1));
    if (x.size() < 3)
        unsupported(n, "input of rank " + std::to_string(x.size()));
    const size_t sp = x.size() - 2;
    const std::vector<int64_t> k(w.begin() + 2, w.end());
    const auto s = attr_is(n, "strides", std::vector<int64_t>(sp, 1));
    const auto d = attr_is(n, "dilations", std::vector<int64_t>(sp, 1));
    l.emit("conv", {input(n, 0), input(n, 1), input(n, 2)},
           {{"strides", s}, {"dilations", d}, {"pads", conv_pads(n, x, k, s, d)}, {"group", attr_i(n, "group", 1)}},
           1, {output(n, 0)});
}

void conv_transpose(Lowering& l, const OnnxNode& n) {
    const Shape x = l.shape(input(n, 0)), w = l.shape(input(n, 1));
    if (x.size() < 3)
        unsupported(n, "input of rank " + std::to_string(x.size()));
    const size_t sp = x.size() - 2;
    const auto s = attr_is(n, "strides", std::vector<int64_t>(sp, 1));
    const auto d = attr_is(n, "dilations", std::vector<int64_t>(sp, 1));
    auto op = attr_is(n, "output_padding", std::vector<int64_t>(sp, 0));
    auto pads = attr_is(n, "pads", std::vector<int64_t>(2 * sp, 0));
    const std::string auto_pad = attr_s(n, "auto_pad", "NOTSET");
    auto out_shape = attr_is(n, "output_shape", {});
    if (out_shape.size() > sp)
        out_shape.erase(out_shape.begin(), out_shape.end() - static_cast<long>(sp));
    if (out_shape.empty() && (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER"))
        for (size_t i = 0; i < sp; ++i)
            out_shape.push_back(x[2 + i] * s[i]);
    if (!out_shape.empty()) {
        for (size_t i = 0; i < sp; ++i) {
            const int64_t total = s[i] * (x[2 + i] - 1) + op[i] + (w[2 + i] - 1) * d[i] + 1 - out_shape[i];
            if (total < 0) { // the requested size is larger: extend with output padding
                op[i] -= total;
                pads[i] = pads[i + sp] = 0;
                continue;
            }
            const bool upper = auto_pad != "SAME_LOWER";
            pads[i] = upper ? total / 2 : total - total / 2;
            pads[i + sp] = total - pads[i];
        }
    } else if (auto_pad == "VALID") {
        pads.assign(2 * sp, 0);
    }
    l.emit("conv_transpose", {input(n, 0), input(n, 1), input(n, 2)},
           {{"strides", s}, {"dilations", d}, {"pads", pads}, {"group", attr_i(n, "group", 1)},
            {"output_padding", op}},
           1, {output(n, 0)});
}

void matmul(Lowering& l, const OnnxNode& n) {
    l.emit("matmul", {input(n, 0), input(n, 1)}, nlohmann::json::object(), 1, {output(n, 0)});
}

void gemm(Lowering& l, const OnnxNode& n) {
    std::string a = input(n, 0), b = input(n, 1);
    if (attr_i(n, "transA", 0))
        a = l.emit("transpose", {a}, {{"perm", {1, 0}}})[0];
    if (attr_i(n, "transB", 0))
        b = l.emit("transpose", {b}, {{"perm", {1, 0}}})[0];
    const double alpha = attr_f(n, "alpha", 1.0), beta = attr_f(n, "beta", 1.0);
    const bool has_c = !input(n, 2).empty() && beta != 0;
    std::string y = l.emit("matmul", {a, b}, nlohmann::json::object(), 1,
                           {alpha == 1.0 && !has_c ? output(n, 0) : std::string()})[0];
    if (alpha != 1.0)
        y = l.emit("binary", {y, l.add_const(scalar_const(alpha))}, {{"fn", "mul"}}, 1,
                   {has_c ? std::string() : output(n, 0)})[0];
    if (has_c) {
        std::string c = input(n, 2);
        if (beta != 1.0)
            c = l.emit("binary", {c, l.add_const(scalar_const(beta))}, {{"fn", "mul"}})[0];
        l.emit("binary", {y, c}, {{"fn", "add"}}, 1, {output(n, 0)});
    }
}

void rnn(Lowering& l, const OnnxNode& n) {
    if (attr_i(n, "layout", 0) != 0)
        unsupported(n, "layout 1 (batch first)");
    if (find_attr(n, "clip"))
        unsupported(n, "clip");
    const bool lstm = n.op_type == "LSTM";
    if (const Attr* acts = find_attr(n, "activations")) { // only the default activations
        const std::vector<std::string> defaults = lstm ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                                       : std::vector<std::string>{"Sigmoid", "Tanh"};
        for (size_t i = 0; i < acts->strings.size(); ++i)
            if (acts->strings[i] != defaults[i % defaults.size()])
                unsupported(n, "activation " + acts->strings[i] + " (only the defaults are supported)");
    }
    nlohmann::json a = {{"hidden_size", attr_i(n, "hidden_size", 0)},
                        {"direction", attr_s(n, "direction", "forward")}};
    if (!lstm)
        a["linear_before_reset"] = attr_i(n, "linear_before_reset", 0);
    std::vector<std::string> ins;
    for (size_t i = 0; i < (lstm ? 8u : 6u); ++i)
        ins.push_back(input(n, i));
    while (!ins.empty() && ins.back().empty())
        ins.pop_back();
    std::vector<std::string> outs;
    for (size_t i = 0; i < (lstm ? 3u : 2u); ++i)
        outs.push_back(output(n, i));
    l.emit(lstm ? "lstm" : "gru", ins, a, outs.size(), outs);
}

void batch_norm(Lowering& l, const OnnxNode& n) {
    if (attr_i(n, "training_mode", 0) != 0)
        unsupported(n, "training_mode 1");
    const Shape x = l.shape(input(n, 0));
    const Const &scale = l.constant(input(n, 1), n), &bias = l.constant(input(n, 2), n),
                &mean = l.constant(input(n, 3), n), &var = l.constant(input(n, 4), n);
    const double eps = attr_f(n, "epsilon", 1e-5);
    const int64_t c = x.size() > 1 ? x[1] : 1;
    if (scale.numel() != c || bias.numel() != c || mean.numel() != c || var.numel() != c)
        unsupported(n, "parameters do not have one value per channel");
    // y = x a + b with a = scale / sqrt(var + eps), b = bias - mean a, per channel (axis 1).
    Const ca, cb;
    ca.shape = cb.shape = Shape(x.size() > 1 ? x.size() - 1 : 1, 1);
    ca.shape[0] = cb.shape[0] = c;
    for (int64_t i = 0; i < c; ++i) {
        const auto k = static_cast<size_t>(i);
        const double a = scale.values[k] / std::sqrt(var.values[k] + eps);
        ca.values.push_back(a);
        cb.values.push_back(bias.values[k] - mean.values[k] * a);
    }
    if (x.size() >= 3 && l.fold_channel_affine(input(n, 0), ca, cb, output(n, 0)))
        return; // into the preceding convolution's weights
    const std::string y = l.emit("binary", {input(n, 0), l.add_const(ca, "bn_scale")}, {{"fn", "mul"}})[0];
    l.emit("binary", {y, l.add_const(cb, "bn_shift")}, {{"fn", "add"}}, 1, {output(n, 0)});
}

void layer_norm(Lowering& l, const OnnxNode& n) {
    l.emit("layer_norm", {input(n, 0), input(n, 1), input(n, 2)},
           {{"axis", attr_i(n, "axis", -1)}, {"epsilon", attr_f(n, "epsilon", 1e-5)}}, 3,
           {output(n, 0), output(n, 1), output(n, 2)});
}

// InstanceNormalization: x [N, C, D...], y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c],
// mean and the biased var over D... of each (n, c): a layer_norm over axes [2, rank) with a unit
// scale, then the per-channel scale and shift (reshaped to [C, 1, ...] to broadcast; skipped when
// they are constant ones and zeros, as in PyTorch's export of GroupNorm).
void instance_norm(Lowering& l, const OnnxNode& n) {
    const Shape x = l.shape(input(n, 0));
    if (x.size() < 3)
        unsupported(n, "input of rank " + std::to_string(x.size()) + " (needs [N, C, D...])");
    Shape per_channel(x.size() - 1, 1);
    per_channel[0] = x[1];
    auto constant_all = [&](size_t i, double v) {
        if (!l.is_const(input(n, i)))
            return false;
        const auto& values = l.constant(input(n, i), n).values;
        return std::all_of(values.begin(), values.end(), [v](double e) { return e == v; });
    };
    for (size_t i : {1u, 2u})
        if (tensor::numel(l.shape(input(n, i))) != x[1])
            unsupported(n, "scale and B must hold one value per channel");
    const bool scaled = !constant_all(1, 1.0), shifted = !constant_all(2, 0.0);
    std::string y = l.emit("layer_norm", {input(n, 0), l.add_const(scalar_const(1.0), "unit_scale")},
                           {{"axis", 2}, {"epsilon", attr_f(n, "epsilon", 1e-5)}}, 1,
                           {scaled || shifted ? std::string() : output(n, 0)})[0];
    if (scaled) {
        const std::string scale = l.emit("reshape", {input(n, 1)}, {{"shape", per_channel}})[0];
        y = l.emit("binary", {y, scale}, {{"fn", "mul"}}, 1, {shifted ? std::string() : output(n, 0)})[0];
    }
    if (shifted) {
        const std::string bias = l.emit("reshape", {input(n, 2)}, {{"shape", per_channel}})[0];
        l.emit("binary", {y, bias}, {{"fn", "add"}}, 1, {output(n, 0)});
    }
}

void softmax(Lowering& l, const OnnxNode& n) {
    const Shape x = l.shape(input(n, 0));
    const bool log = n.op_type == "LogSoftmax";
    const int64_t axis = tensor::normalize_axis(attr_i(n, "axis", l.opset() >= 13 ? -1 : 1), x.size());
    if (l.opset() >= 13 || axis == static_cast<int64_t>(x.size()) - 1) {
        l.emit("softmax", {input(n, 0)}, {{"axis", axis}, {"log", log ? 1 : 0}}, 1, {output(n, 0)});
        return;
    }
    // Before opset 13 the input is flattened to 2-D at `axis` and normalised over the second part.
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i)
        outer *= x[static_cast<size_t>(i)];
    const std::string flat =
        l.emit("reshape", {input(n, 0)}, {{"shape", {outer, tensor::numel(x) / std::max<int64_t>(outer, 1)}}})[0];
    const std::string y = l.emit("softmax", {flat}, {{"axis", 1}, {"log", log ? 1 : 0}})[0];
    l.emit("reshape", {y}, {{"shape", x}}, 1, {output(n, 0)});
}

void reduce(Lowering& l, const OnnxNode& n) {
    static const std::map<std::string, std::string> fns = {
        {"ReduceMean", "mean"}, {"ReduceSum", "sum"}, {"ReduceMax", "max"}, {"ReduceMin", "min"},
        {"ReduceProd", "prod"}, {"ReduceSumSquare", "sum_square"}, {"ReduceL1", "l1"},
        {"ReduceL2", "l2"}, {"ReduceLogSumExp", "log_sum_exp"}};
    const bool axes_input = l.opset() >= 18 || (n.op_type == "ReduceSum" && l.opset() >= 13);
    const auto axes = axes_input ? const_ints(l, n, 1) : attr_is(n, "axes", {});
    if (axes.empty() && attr_i(n, "noop_with_empty_axes", 0)) {
        l.alias(output(n, 0), input(n, 0));
        return;
    }
    l.emit("reduce", {input(n, 0)},
           {{"fn", fns.at(n.op_type)}, {"axes", axes}, {"keepdims", attr_i(n, "keepdims", 1)}}, 1,
           {output(n, 0)});
}

void global_pool(Lowering& l, const OnnxNode& n) {
    const Shape x = l.shape(input(n, 0));
    std::vector<int64_t> axes;
    for (size_t a = 2; a < x.size(); ++a)
        axes.push_back(static_cast<int64_t>(a));
    l.emit("reduce", {input(n, 0)},
           {{"fn", n.op_type == "GlobalMaxPool" ? "max" : "mean"}, {"axes", axes}, {"keepdims", 1}}, 1,
           {output(n, 0)});
}

void pool(Lowering& l, const OnnxNode& n) {
    const Shape x = l.shape(input(n, 0));
    if (x.size() < 3)
        unsupported(n, "input of rank " + std::to_string(x.size()));
    if (n.outputs.size() > 1 && !output(n, 1).empty())
        unsupported(n, "the Indices output");
    const size_t sp = x.size() - 2;
    const auto k = attr_is(n, "kernel_shape", {});
    if (k.size() != sp)
        unsupported(n, "kernel_shape must have one value per spatial axis");
    const auto s = attr_is(n, "strides", std::vector<int64_t>(sp, 1));
    const auto d = attr_is(n, "dilations", std::vector<int64_t>(sp, 1));
    l.emit("pool", {input(n, 0)},
           {{"mode", n.op_type == "MaxPool" ? "max" : "avg"}, {"kernel", k}, {"strides", s},
            {"dilations", d}, {"pads", conv_pads(n, x, k, s, d)}, {"ceil_mode", attr_i(n, "ceil_mode", 0)},
            {"count_include_pad", attr_i(n, "count_include_pad", 0)}},
           1, {output(n, 0)});
}

void resize(Lowering& l, const OnnxNode& n) {
    const std::string mode = attr_s(n, "mode", "nearest");
    if (mode != "nearest" && mode != "linear" && mode != "bilinear")
        unsupported(n, "mode \"" + mode + "\" (nearest and linear are supported)");
    if (attr_s(n, "coordinate_transformation_mode", "") == "tf_crop_and_resize")
        unsupported(n, "coordinate_transformation_mode tf_crop_and_resize");
    const Shape x = l.shape(input(n, 0));
    std::vector<double> scales;
    Shape sizes;
    const size_t scales_input = l.opset() >= 11 ? 2 : 1;
    if (const Attr* a = find_attr(n, "scales"))
        scales = a->floats; // Upsample-7
    else if (!input(n, scales_input).empty())
        scales = l.constant(input(n, scales_input), n).values;
    if (l.opset() >= 11 && !input(n, 3).empty())
        sizes = const_ints(l, n, 3);
    if (!find_attr(n, "axes") && scales.size() != x.size() && sizes.size() != x.size())
        unsupported(n, "needs scales or sizes for every axis");
    if (find_attr(n, "axes"))
        unsupported(n, "the axes attribute");
    if (!sizes.empty()) {
        scales.clear();
        for (size_t a = 0; a < x.size(); ++a)
            scales.push_back(static_cast<double>(sizes[a]) / static_cast<double>(x[a]));
    } else {
        for (size_t a = 0; a < x.size(); ++a)
            sizes.push_back(static_cast<int64_t>(std::floor(static_cast<double>(x[a]) * scales[a])));
    }
    const bool old = l.opset() < 11;
    if (mode != "nearest") {
        if (attr_i(n, "exclude_outside", 0) != 0 || attr_f(n, "extrapolation_value", 0.0) != 0.0)
            unsupported(n, "exclude_outside / extrapolation_value");
        l.emit("resize_linear", {input(n, 0)},
               {{"sizes", sizes}, {"scales", scales},
                {"coordinate_mode", old ? "asymmetric" : attr_s(n, "coordinate_transformation_mode", "half_pixel")}},
               1, {output(n, 0)});
        return;
    }
    l.emit("resize_nearest", {input(n, 0)},
           {{"sizes", sizes}, {"scales", scales},
            {"coordinate_mode", old ? "asymmetric" : attr_s(n, "coordinate_transformation_mode", "half_pixel")},
            {"nearest_mode", old ? "floor" : attr_s(n, "nearest_mode", "round_prefer_floor")}},
           1, {output(n, 0)});
}

// LinearAttention (opset 27): one step on Rill's linear-attention kernels.
void linear_attention(Lowering& l, const OnnxNode& n) {
    std::vector<std::string> ins;
    for (size_t i = 0; i < 6; ++i)
        ins.push_back(input(n, i));
    while (!ins.empty() && ins.back().empty())
        ins.pop_back();
    l.emit("linear_attention", ins,
           {{"q_num_heads", attr_i(n, "q_num_heads", 0)}, {"kv_num_heads", attr_i(n, "kv_num_heads", 0)},
            {"scale", attr_f(n, "scale", 0.0)}, {"update_rule", attr_s(n, "update_rule", "gated_delta")}},
           2, {output(n, 0), output(n, 1)});
}

// CausalConvWithState (opset 27): the past (or zeros) in front of the input, a depthwise valid
// convolution, optional SiLU; the new state is the last k - 1 positions of that sequence.
void causal_conv_with_state(Lowering& l, const OnnxNode& n) {
    const Shape x = l.shape(input(n, 0)), w = l.shape(input(n, 1));
    if (x.size() != 3 || w.size() != 3 || w[0] != x[1] || w[1] != 1)
        unsupported(n, "input must be [B, C, L] and weight [C, 1, k]");
    const int64_t k = w[2], length = x[2];
    const std::string activation = attr_s(n, "activation", "none");
    if (activation != "none" && activation != "silu" && activation != "swish")
        unsupported(n, "activation \"" + activation + "\"");
    std::string seq = input(n, 0);
    if (k > 1)
        seq = input(n, 3).empty()
                  ? l.emit("pad", {seq}, {{"pads", {0, 0, k - 1, 0, 0, 0}}, {"mode", "constant"}, {"value", 0}})[0]
                  : l.emit("concat", {input(n, 3), seq}, {{"axis", 2}})[0];
    const bool act = activation != "none";
    const std::string y = l.emit("conv", {seq, input(n, 1), input(n, 2)},
                                 {{"strides", {1}}, {"dilations", {1}}, {"pads", {0, 0}}, {"group", x[1]}}, 1,
                                 {act ? std::string() : output(n, 0)})[0];
    if (act) {
        const std::string sig = l.emit("unary", {y}, {{"fn", "sigmoid"}})[0];
        l.emit("binary", {y, sig}, {{"fn", "mul"}}, 1, {output(n, 0)});
    }
    if (!output(n, 1).empty()) {
        if (k > 1)
            l.emit("slice", {seq}, {{"starts", {length}}, {"ends", {length + k - 1}}, {"axes", {2}}}, 1,
                   {output(n, 1)});
        else
            unsupported(n, "present_state of a kernel of size 1 (an empty tensor)");
    }
}

} // namespace

void add_nn_translators(TranslatorTable& t) {
    t["Einsum"] = lower_einsum;
    t["LinearAttention"] = linear_attention;
    t["CausalConvWithState"] = causal_conv_with_state;
    t["Conv"] = conv;
    t["ConvTranspose"] = conv_transpose;
    t["MatMul"] = matmul;
    t["Gemm"] = gemm;
    t["GRU"] = rnn;
    t["LSTM"] = rnn;
    t["BatchNormalization"] = batch_norm;
    t["LayerNormalization"] = layer_norm;
    t["InstanceNormalization"] = instance_norm;
    t["Softmax"] = softmax;
    t["LogSoftmax"] = softmax;
    for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
                           "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSumExp"})
        t[op] = reduce;
    t["GlobalAveragePool"] = global_pool;
    t["GlobalMaxPool"] = global_pool;
    t["AveragePool"] = pool;
    t["MaxPool"] = pool;
    t["Resize"] = resize;
    t["Upsample"] = resize;
}

} // namespace rill::onnx_import
