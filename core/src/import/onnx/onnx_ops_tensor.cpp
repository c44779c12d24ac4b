// ONNX operators on tensors as such: constants and shape arithmetic, data movement, element-wise
// math, control flow with a constant condition. Operator semantics follow the ONNX operator
// specification (https://onnx.ai/onnx/operators/) for opsets 7 to 21.
#include <cmath>
#include <numeric>

#include "onnx_ops.hpp"

namespace rill::onnx_import {
namespace {

void identity(Lowering& l, const OnnxNode& n) { l.alias(output(n, 0), input(n, 0)); }

// Inference-mode dropout is the identity; training mode and the mask output are not inference.
void dropout(Lowering& l, const OnnxNode& n) {
    if (!output(n, 1).empty())
        unsupported(n, "the mask output");
    const bool training = !input(n, 2).empty() && l.constant(input(n, 2), n).values.at(0) != 0;
    const double ratio = input(n, 1).empty() ? 0.5 : l.constant(input(n, 1), n).values.at(0);
    if (training && ratio != 0)
        unsupported(n, "training_mode true (random dropping)");
    identity(l, n);
}

void cast(Lowering& l, const OnnxNode& n) {
    const int64_t to = attr_i(n, "to", 1);
    const bool to_float = to == 1 || to == 10 || to == 11 || to == 16;
    if (l.is_const(input(n, 0))) {
        Const c = l.constant(input(n, 0), n);
        if (!to_float) {
            for (double& v : c.values)
                v = to == 9 ? (v != 0 ? 1 : 0) : std::trunc(v);
        }
        c.is_int = !to_float;
        l.set_const(output(n, 0), std::move(c));
        return;
    }
    if (!to_float)
        unsupported(n, "casting a run-time tensor to an integer type");
    l.alias(output(n, 0), input(n, 0));
}

void constant(Lowering& l, const OnnxNode& n) {
    Const c;
    if (const Attr* a = find_attr(n, "value")) {
        if (!a->t)
            unsupported(n, "attribute 'value' is not a tensor");
        c = *a->t;
    } else if (const Attr* f = find_attr(n, "value_float")) {
        c = scalar_const(f->f);
    } else if (const Attr* fs = find_attr(n, "value_floats")) {
        c.values = fs->floats;
        c.shape = {static_cast<int64_t>(fs->floats.size())};
    } else if (const Attr* i = find_attr(n, "value_int")) {
        c = scalar_const(static_cast<double>(i->i), true);
    } else if (const Attr* is = find_attr(n, "value_ints")) {
        c.is_int = true;
        c.values.assign(is->ints.begin(), is->ints.end());
        c.shape = {static_cast<int64_t>(is->ints.size())};
    } else {
        unsupported(n, "only value, value_float(s) and value_int(s) are supported");
    }
    l.set_const(output(n, 0), std::move(c));
}

Const int_vector(const std::vector<int64_t>& v) {
    Const c;
    c.is_int = true;
    c.shape = {static_cast<int64_t>(v.size())};
    c.values.assign(v.begin(), v.end());
    return c;
}

void shape_op(Lowering& l, const OnnxNode& n) {
    const Shape s = l.shape(input(n, 0));
    const auto r = static_cast<int64_t>(s.size());
    int64_t start = attr_i(n, "start", 0), end = attr_i(n, "end", r);
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, start, r);
    l.set_const(output(n, 0), int_vector(std::vector<int64_t>(s.begin() + start, s.begin() + end)));
}

void size_op(Lowering& l, const OnnxNode& n) {
    l.set_const(output(n, 0), scalar_const(static_cast<double>(tensor::numel(l.shape(input(n, 0)))), true));
}

void constant_of_shape(Lowering& l, const OnnxNode& n) {
    Const c;
    c.shape = const_ints(l, n, 0);
    tensor::checked_numel(c.shape);
    double v = 0;
    if (const Attr* a = find_attr(n, "value")) {
        if (!a->t)
            unsupported(n, "attribute 'value' is not a tensor");
        v = a->t->values.empty() ? 0 : a->t->values[0];
        c.is_int = a->t->is_int;
    }
    c.values.assign(static_cast<size_t>(c.numel()), v);
    l.set_const(output(n, 0), std::move(c));
}

void range(Lowering& l, const OnnxNode& n) {
    const Const &s = l.constant(input(n, 0), n), &e = l.constant(input(n, 1), n),
                &d = l.constant(input(n, 2), n);
    const double start = s.values.at(0), limit = e.values.at(0), delta = d.values.at(0);
    if (delta == 0)
        unsupported(n, "delta 0");
    const auto count = static_cast<int64_t>(std::max(0.0, std::ceil((limit - start) / delta)));
    if (count > (1 << 24))
        unsupported(n, "a range of more than 2^24 elements");
    Const c;
    c.is_int = s.is_int;
    c.shape = {count};
    for (int64_t i = 0; i < count; ++i)
        c.values.push_back(start + static_cast<double>(i) * delta);
    l.set_const(output(n, 0), std::move(c));
}

void reshape_to(Lowering& l, const OnnxNode& n, const Shape& target) {
    l.emit("reshape", {input(n, 0)}, {{"shape", target}}, 1, {output(n, 0)});
}

void reshape(Lowering& l, const OnnxNode& n) {
    const Shape in = l.shape(input(n, 0));
    std::vector<int64_t> s = l.opset() < 5 ? attr_is(n, "shape", {}) : const_ints(l, n, 1);
    const bool allowzero = attr_i(n, "allowzero", 0) != 0;
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == 0 && !allowzero) {
            if (i >= in.size())
                unsupported(n, "shape copies a dimension the input does not have");
            s[i] = in[i];
        }
        if (s[i] == -1) {
            if (infer >= 0)
                unsupported(n, "two -1 entries in the shape");
            infer = static_cast<int64_t>(i);
        } else {
            known *= s[i];
        }
    }
    if (infer >= 0)
        s[static_cast<size_t>(infer)] = known ? tensor::numel(in) / known : 0;
    reshape_to(l, n, s);
}

void flatten(Lowering& l, const OnnxNode& n) {
    const Shape in = l.shape(input(n, 0));
    const int64_t axis = attr_i(n, "axis", 1);
    const int64_t a = axis < 0 ? axis + static_cast<int64_t>(in.size()) : axis;
    int64_t outer = 1;
    for (int64_t i = 0; i < a; ++i)
        outer *= in[static_cast<size_t>(i)];
    reshape_to(l, n, {outer, outer ? tensor::numel(in) / outer : 0});
}

std::vector<int64_t> axes_of(Lowering& l, const OnnxNode& n, int64_t input_opset) {
    return l.opset() >= input_opset ? const_ints(l, n, 1) : attr_is(n, "axes", {});
}

void squeeze(Lowering& l, const OnnxNode& n) {
    const Shape in = l.shape(input(n, 0));
    const auto axes = axes_of(l, n, 13);
    std::vector<bool> drop(in.size(), axes.empty());
    for (int64_t a : axes)
        drop[static_cast<size_t>(tensor::normalize_axis(a, in.size()))] = true;
    Shape out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (drop[i] && in[i] != 1 && !axes.empty())
            unsupported(n, "squeezing an axis of size " + std::to_string(in[i]));
        if (!(drop[i] && in[i] == 1))
            out.push_back(in[i]);
    }
    reshape_to(l, n, out);
}

void unsqueeze(Lowering& l, const OnnxNode& n) {
    const Shape in = l.shape(input(n, 0));
    const auto axes = axes_of(l, n, 13);
    const size_t r = in.size() + axes.size();
    std::vector<bool> added(r, false);
    for (int64_t a : axes)
        added[static_cast<size_t>(tensor::normalize_axis(a, r))] = true;
    Shape out;
    size_t k = 0;
    for (size_t i = 0; i < r; ++i)
        out.push_back(added[i] ? 1 : in.at(k++));
    reshape_to(l, n, out);
}

void transpose(Lowering& l, const OnnxNode& n) {
    l.emit("transpose", {input(n, 0)}, {{"perm", attr_is(n, "perm", {})}}, 1, {output(n, 0)});
}

void slice(Lowering& l, const OnnxNode& n) {
    nlohmann::json a;
    if (l.opset() < 10) {
        a = {{"starts", attr_is(n, "starts", {})}, {"ends", attr_is(n, "ends", {})},
             {"axes", attr_is(n, "axes", {})}};
    } else {
        a = {{"starts", const_ints(l, n, 1)}, {"ends", const_ints(l, n, 2)},
             {"axes", const_ints(l, n, 3)}, {"steps", const_ints(l, n, 4)}};
    }
    // ONNX uses INT64_MAX / INT64_MIN for "to the end"; clamp them into the axis range.
    for (const char* k : {"starts", "ends"})
        for (auto& v : a[k])
            v = std::clamp<int64_t>(v.get<int64_t>(), -(int64_t(1) << 40), int64_t(1) << 40);
    l.emit("slice", {input(n, 0)}, a, 1, {output(n, 0)});
}

void split(Lowering& l, const OnnxNode& n) {
    const Shape in = l.shape(input(n, 0));
    const int64_t axis = tensor::normalize_axis(attr_i(n, "axis", 0), in.size());
    const int64_t len = in[static_cast<size_t>(axis)];
    std::vector<int64_t> sizes = l.opset() >= 13 ? const_ints(l, n, 1) : attr_is(n, "split", {});
    const auto parts = static_cast<int64_t>(n.outputs.size());
    if (sizes.empty()) {
        const int64_t each = (len + parts - 1) / parts; // the last part may be smaller (opset 18)
        for (int64_t i = 0, left = len; i < parts; ++i, left -= each)
            sizes.push_back(std::min(each, left));
    }
    if (static_cast<int64_t>(sizes.size()) != parts)
        unsupported(n, "split sizes do not match the number of outputs");
    int64_t start = 0;
    for (int64_t i = 0; i < parts; ++i) {
        l.emit("slice", {input(n, 0)},
               {{"starts", {start}}, {"ends", {start + sizes[static_cast<size_t>(i)]}}, {"axes", {axis}}},
               1, {output(n, static_cast<size_t>(i))});
        start += sizes[static_cast<size_t>(i)];
    }
}

void concat(Lowering& l, const OnnxNode& n) {
    std::vector<std::string> ins;
    for (const auto& in : n.inputs)
        if (!in.empty() && tensor::numel(l.shape(in)) > 0)
            ins.push_back(in);
    if (ins.empty())
        ins.push_back(input(n, 0));
    l.emit("concat", ins, {{"axis", attr_i(n, "axis", 0)}}, 1, {output(n, 0)});
}

void gather(Lowering& l, const OnnxNode& n) {
    const Const& idx = l.constant(input(n, 1), n);
    std::vector<int64_t> indices;
    for (double v : idx.values)
        indices.push_back(to_int(v));
    l.emit("gather", {input(n, 0)},
           {{"axis", attr_i(n, "axis", 0)}, {"indices", indices}, {"indices_shape", idx.shape}}, 1,
           {output(n, 0)});
}

void pad(Lowering& l, const OnnxNode& n) {
    const Shape in = l.shape(input(n, 0));
    const std::string mode = attr_s(n, "mode", "constant");
    std::vector<int64_t> pads;
    double value = 0;
    if (l.opset() < 11) {
        pads = attr_is(n, "pads", {});
        value = attr_f(n, "value", 0);
    } else {
        pads = const_ints(l, n, 1);
        if (!input(n, 2).empty())
            value = l.constant(input(n, 2), n).values.at(0);
        const auto axes = const_ints(l, n, 3);
        if (!axes.empty()) { // opset 18: pads for the listed axes only
            std::vector<int64_t> full(2 * in.size(), 0);
            for (size_t i = 0; i < axes.size(); ++i) {
                const auto a = static_cast<size_t>(tensor::normalize_axis(axes[i], in.size()));
                full[a] = pads.at(i);
                full[a + in.size()] = pads.at(i + axes.size());
            }
            pads = full;
        }
    }
    if (mode != "constant" && mode != "reflect" && mode != "edge")
        unsupported(n, "pad mode \"" + mode + "\"");
    l.emit("pad", {input(n, 0)}, {{"pads", pads}, {"mode", mode}, {"value", value}}, 1, {output(n, 0)});
}

void expand(Lowering& l, const OnnxNode& n) {
    l.emit("expand", {input(n, 0)}, {{"shape", const_ints(l, n, 1)}}, 1, {output(n, 0)});
}

void tile(Lowering& l, const OnnxNode& n) {
    l.emit("tile", {input(n, 0)}, {{"repeats", const_ints(l, n, 1)}}, 1, {output(n, 0)});
}

void scatter_nd(Lowering& l, const OnnxNode& n) {
    if (attr_s(n, "reduction", "none") != "none")
        unsupported(n, "reduction \"" + attr_s(n, "reduction", "") + "\"");
    const Const& idx = l.constant(input(n, 1), n);
    std::vector<int64_t> indices;
    for (double v : idx.values)
        indices.push_back(to_int(v));
    l.emit("scatter_nd", {input(n, 0), input(n, 2)},
           {{"indices", indices}, {"indices_shape", idx.shape}}, 1, {output(n, 0)});
}

void where(Lowering& l, const OnnxNode& n) {
    const Const& cond = l.constant(input(n, 0), n);
    if (!l.is_const(input(n, 1)) || !l.is_const(input(n, 2)))
        unsupported(n, "Where on run-time values");
    const Const &a = l.constant(input(n, 1), n), &b = l.constant(input(n, 2), n);
    Const c;
    c.is_int = a.is_int && b.is_int;
    c.shape = tensor::broadcast_shapes(tensor::broadcast_shapes(cond.shape, a.shape), b.shape);
    const auto sc = tensor::broadcast_strides(cond.shape, c.shape), sa = tensor::broadcast_strides(a.shape, c.shape),
               sb = tensor::broadcast_strides(b.shape, c.shape);
    const int64_t count = tensor::numel(c.shape);
    std::vector<int64_t> idx(c.shape.size(), 0);
    for (int64_t i = 0; i < count; ++i) {
        int64_t oc = 0, oa = 0, ob = 0;
        for (size_t d = 0; d < idx.size(); ++d)
            oc += idx[d] * sc[d], oa += idx[d] * sa[d], ob += idx[d] * sb[d];
        c.values.push_back(cond.values[static_cast<size_t>(oc)] != 0 ? a.values[static_cast<size_t>(oa)]
                                                                     : b.values[static_cast<size_t>(ob)]);
        for (size_t d = idx.size(); d-- > 0;) {
            if (++idx[d] < c.shape[d])
                break;
            idx[d] = 0;
        }
    }
    l.set_const(output(n, 0), std::move(c));
}

// Element-wise operators: ONNX name -> our function name.
const std::map<std::string, std::string>& unary_names() {
    static const std::map<std::string, std::string> m = {
        {"Relu", "relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}, {"Exp", "exp"},
        {"Log", "log"}, {"Sqrt", "sqrt"}, {"Abs", "abs"}, {"Neg", "neg"},
        {"Reciprocal", "reciprocal"}, {"Erf", "erf"}, {"Floor", "floor"}, {"Ceil", "ceil"},
        {"Round", "round"}, {"Sin", "sin"}, {"Cos", "cos"}, {"Not", "not"},
        {"Softplus", "softplus"}, {"HardSwish", "hard_swish"}};
    return m;
}
const std::map<std::string, std::string>& binary_names() {
    static const std::map<std::string, std::string> m = {
        {"Add", "add"}, {"Sub", "sub"}, {"Mul", "mul"}, {"Div", "div"}, {"Pow", "pow"},
        {"Max", "max"}, {"Min", "min"}, {"Sum", "add"}, {"PRelu", "prelu"}, {"Equal", "equal"},
        {"Less", "less"}, {"Greater", "greater"}, {"And", "and"}, {"Or", "or"}, {"Mod", "mod"}};
    return m;
}

// Activations a convolution can apply to its own output (conv step attr `activation`).
bool fusable(const std::string& fn) {
    return fn == "relu" || fn == "sigmoid" || fn == "tanh" || fn == "hard_swish" || fn == "leaky_relu" ||
           fn == "clip" || fn == "elu";
}

void emit_activation(Lowering& l, const OnnxNode& n, const nlohmann::json& a) {
    if (fusable(a.at("fn").get<std::string>()) && l.fuse_activation(input(n, 0), a, "", output(n, 0)))
        return;
    l.emit("unary", {input(n, 0)}, a, 1, {output(n, 0)});
}

void unary(Lowering& l, const OnnxNode& n) {
    emit_activation(l, n, {{"fn", unary_names().at(n.op_type)}});
}

void parametric_unary(Lowering& l, const OnnxNode& n) {
    nlohmann::json a;
    if (n.op_type == "LeakyRelu")
        a = {{"fn", "leaky_relu"}, {"alpha", attr_f(n, "alpha", 0.01)}};
    else if (n.op_type == "Elu")
        a = {{"fn", "elu"}, {"alpha", attr_f(n, "alpha", 1.0)}};
    else if (n.op_type == "HardSigmoid")
        a = {{"fn", "hard_sigmoid"}, {"alpha", attr_f(n, "alpha", 0.2)}, {"beta", attr_f(n, "beta", 0.5)}};
    else if (n.op_type == "Gelu") {
        if (attr_s(n, "approximate", "none") != "none")
            unsupported(n, "approximate \"" + attr_s(n, "approximate", "") + "\"");
        a = {{"fn", "gelu"}};
    } else { // Clip
        double lo = -INFINITY, hi = INFINITY;
        if (l.opset() < 11) {
            lo = attr_f(n, "min", lo);
            hi = attr_f(n, "max", hi);
        } else {
            if (!input(n, 1).empty())
                lo = l.constant(input(n, 1), n).values.at(0);
            if (!input(n, 2).empty())
                hi = l.constant(input(n, 2), n).values.at(0);
        }
        a = {{"fn", "clip"}, {"alpha", std::max(lo, -3.0e38)}, {"beta", std::min(hi, 3.0e38)}};
    }
    emit_activation(l, n, a);
}

void binary(Lowering& l, const OnnxNode& n) {
    std::string fn = binary_names().at(n.op_type);
    if (fn == "mod" && attr_i(n, "fmod", 0) == 0)
        fn = "floor_mod"; // ONNX Mod's default: the sign of the divisor (integers; floats need fmod 1)
    if (n.inputs.size() == 1) {
        l.alias(output(n, 0), input(n, 0));
        return;
    }
    if (fn == "prelu" && l.is_const(input(n, 1)) &&
        l.fuse_activation(input(n, 0), {{"fn", "prelu"}}, input(n, 1), output(n, 0)))
        return;
    std::string acc = input(n, 0);
    for (size_t i = 1; i < n.inputs.size(); ++i) {
        const bool last = i + 1 == n.inputs.size();
        acc = l.emit("binary", {acc, input(n, i)}, {{"fn", fn}}, 1,
                     {last ? output(n, 0) : std::string()})[0];
    }
}

void if_op(Lowering& l, const OnnxNode& n) {
    const Const& cond = l.constant(input(n, 0), n);
    if (cond.values.size() != 1)
        unsupported(n, "condition with more than one element");
    const Attr* branch = find_attr(n, cond.values[0] != 0 ? "then_branch" : "else_branch");
    if (!branch || !branch->g)
        unsupported(n, "missing branch graph");
    l.lower(*branch->g);
    if (branch->g->outputs.size() != n.outputs.size())
        unsupported(n, "branch outputs do not match the node outputs");
    for (size_t i = 0; i < n.outputs.size(); ++i)
        l.alias(n.outputs[i], branch->g->outputs[i].name);
}

} // namespace

void add_tensor_translators(TranslatorTable& t) {
    t["Identity"] = identity;
    t["Dropout"] = dropout;
    t["Cast"] = cast;
    t["CastLike"] = cast;
    t["Constant"] = constant;
    t["Shape"] = shape_op;
    t["Size"] = size_op;
    t["ConstantOfShape"] = constant_of_shape;
    t["Range"] = range;
    t["Reshape"] = reshape;
    t["Flatten"] = flatten;
    t["Squeeze"] = squeeze;
    t["Unsqueeze"] = unsqueeze;
    t["Transpose"] = transpose;
    t["Slice"] = slice;
    t["Split"] = split;
    t["Concat"] = concat;
    t["Gather"] = gather;
    t["Pad"] = pad;
    t["Expand"] = expand;
    t["Tile"] = tile;
    t["ScatterND"] = scatter_nd;
    t["Where"] = where;
    t["If"] = if_op;
    for (const auto& [op, fn] : unary_names())
        t[op] = unary;
    for (const char* op : {"LeakyRelu", "Elu", "HardSigmoid", "Gelu", "Clip"})
        t[op] = parametric_unary;
    for (const auto& [op, fn] : binary_names())
        t[op] = binary;
}

} // namespace rill::onnx_import
