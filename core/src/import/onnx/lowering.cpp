#include "lowering.hpp"

#include <cmath>

#include "../../tensor/elementwise.hpp"
#include "../../tensor/index_map.hpp"
#include "../../tensor/kernel.hpp"
#include "rill/core/error.hpp"

namespace rill::onnx_import {

const Const& Lowering::constant(const std::string& name, const OnnxNode& node) const {
    const auto it = consts_.find(name);
    if (it == consts_.end())
        fail_unsupported("node '" + node.name + "' (" + node.op_type + "): input '" + name +
                         "' must be a constant known at import (it is computed at run time)");
    return it->second;
}

Shape Lowering::shape(const std::string& name) const {
    if (const auto c = consts_.find(name); c != consts_.end())
        return c->second.shape;
    const auto it = shapes_.find(name);
    if (it == shapes_.end())
        fail_format("ONNX value '" + name + "' is used before it is defined");
    return it->second;
}

std::string Lowering::fresh(const std::string& hint) {
    return "~" + hint + std::to_string(counter_++);
}

std::string Lowering::add_const(Const c, const std::string& hint) {
    const std::string name = fresh(hint);
    consts_[name] = std::move(c);
    return name;
}

void Lowering::alias(const std::string& out, const std::string& in) {
    if (is_const(in)) {
        consts_[out] = consts_.at(in);
        return;
    }
    emit("reshape", {in}, {{"shape", shape(in)}}, 1, {out});
}

std::vector<std::string> Lowering::emit(const std::string& op, const std::vector<std::string>& inputs,
                                        const nlohmann::json& attrs, size_t outputs,
                                        const std::vector<std::string>& names) {
    std::vector<std::string> outs;
    for (size_t i = 0; i < outputs; ++i)
        outs.push_back(i < names.size() && !names[i].empty() ? names[i] : fresh(op));
    bool all_const = true;
    for (const auto& in : inputs)
        if (!in.empty() && !is_const(in))
            all_const = false;
    if (all_const) {
        fold(op, inputs, attrs, outs);
        return outs;
    }
    // Shapes (and a check of the step) from the kernel builder, with constants as floats.
    std::vector<std::vector<float>> holder;
    holder.reserve(inputs.size());
    tensor::StepSpec spec{op, attrs, {}, {}, {}};
    for (const auto& in : inputs) {
        spec.present.push_back(!in.empty());
        spec.in_shapes.push_back(in.empty() ? Shape{} : shape(in));
        if (!in.empty() && is_const(in)) {
            holder.emplace_back(consts_.at(in).values.begin(), consts_.at(in).values.end());
            spec.constants.push_back(holder.back().data());
        } else {
            spec.constants.push_back(nullptr);
        }
    }
    const tensor::BuiltStep built = tensor::build_step(spec);
    for (size_t i = 0; i < outs.size() && i < built.out_shapes.size(); ++i) {
        tensor::checked_numel(built.out_shapes[i]);
        shapes_[outs[i]] = built.out_shapes[i];
    }
    steps_.push_back({{"op", op}, {"inputs", inputs}, {"outputs", outs}, {"attrs", attrs}});
    return outs;
}

void Lowering::fold(const std::string& op, const std::vector<std::string>& inputs,
                    const nlohmann::json& attrs, const std::vector<std::string>& outs) {
    std::vector<const Const*> in;
    for (const auto& name : inputs)
        in.push_back(name.empty() ? nullptr : &consts_.at(name));
    if (op == "reshape") {
        Const c = *in[0];
        c.shape = tensor::attr_ints(attrs, "shape", {});
        if (tensor::checked_numel(c.shape) != in[0]->numel())
            fail_format("reshape of a constant to a different size");
        consts_[outs[0]] = std::move(c);
        return;
    }
    if (op == "unary" || op == "binary") {
        Const c;
        if (op == "unary") {
            const auto f = tensor::unary_fn(tensor::attr_string(attrs, "fn", ""));
            const double a = tensor::attr_float(attrs, "alpha", 0), b = tensor::attr_float(attrs, "beta", 0);
            c = *in[0];
            for (double& v : c.values)
                v = tensor::apply_unary(f, v, a, b);
            c.is_int = in[0]->is_int && f == tensor::UnaryFn::Not;
        } else {
            const std::string fn = tensor::attr_string(attrs, "fn", "");
            const auto f = tensor::binary_fn(fn);
            c.shape = tensor::broadcast_shapes(in[0]->shape, in[1]->shape);
            if (c.shape.size() > tensor::kMaxRank)
                fail_unsupported("tensors of rank " + std::to_string(c.shape.size()));
            c.values.resize(static_cast<size_t>(tensor::checked_numel(c.shape)));
            tensor::broadcast_binary(f, in[0]->values.data(), tensor::broadcast_strides(in[0]->shape, c.shape),
                                     in[1]->values.data(), tensor::broadcast_strides(in[1]->shape, c.shape),
                                     c.shape, c.values.data());
            const bool both_int = in[0]->is_int && in[1]->is_int;
            const bool logical = fn == "equal" || fn == "less" || fn == "greater" || fn == "and" || fn == "or";
            c.is_int = both_int || logical;
            if (both_int && fn == "div")
                for (double& v : c.values)
                    v = std::trunc(v);
        }
        consts_[outs[0]] = std::move(c);
        return;
    }
    try {
        std::vector<Shape> shapes;
        for (const Const* c : in)
            shapes.push_back(c ? c->shape : Shape{});
        const tensor::IndexMap m = tensor::move_map(op, attrs, shapes);
        std::vector<const double*> data;
        for (const Const* c : in)
            data.push_back(c ? c->values.data() : nullptr);
        Const c;
        c.shape = m.shape;
        c.values = m.apply<double>(data);
        c.is_int = in[0]->is_int;
        consts_[outs[0]] = std::move(c);
        return;
    } catch (const CoreError& e) {
        if (e.kind() != ErrorKind::Unsupported)
            throw;
    }
    // Any other step: run its kernel once on float copies.
    std::vector<std::vector<float>> values;
    tensor::StepSpec spec{op, attrs, {}, {}, {}};
    for (const Const* c : in) {
        spec.present.push_back(c != nullptr);
        spec.in_shapes.push_back(c ? c->shape : Shape{});
        values.emplace_back();
        if (c)
            values.back().assign(c->values.begin(), c->values.end());
    }
    for (size_t i = 0; i < in.size(); ++i)
        spec.constants.push_back(in[i] ? values[i].data() : nullptr);
    const tensor::BuiltStep built = tensor::build_step(spec);
    std::vector<std::vector<float>> results;
    for (const Shape& s : built.out_shapes)
        results.emplace_back(static_cast<size_t>(std::max<int64_t>(tensor::checked_numel(s), 1)));
    std::vector<float> scratch(built.kernel ? built.kernel->scratch_floats() + 1 : 1);
    std::vector<const float*> ip(64, nullptr);
    std::vector<float*> op_(8, nullptr);
    for (size_t i = 0; i < values.size(); ++i)
        ip[i] = spec.constants[i];
    for (size_t i = 0; i < results.size(); ++i)
        op_[i] = results[i].data();
    built.kernel->run(ip.data(), op_.data(), scratch.data());
    for (size_t i = 0; i < outs.size() && i < results.size(); ++i) {
        Const c;
        c.shape = built.out_shapes[i];
        c.values.assign(results[i].begin(), results[i].begin() + tensor::numel(c.shape));
        consts_[outs[i]] = std::move(c);
    }
}

nlohmann::json* Lowering::sole_conv_producer(const std::string& x) {
    if (uses_[x] != 1 || steps_.empty())
        return nullptr;
    auto& step = steps_.back();
    if (step.at("op") != "conv" || step.at("outputs").at(0) != x)
        return nullptr;
    return &step;
}

bool Lowering::fuse_activation(const std::string& x, const nlohmann::json& activation, const std::string& slope,
                               const std::string& y) {
    nlohmann::json* step = sole_conv_producer(x);
    if (!step || step->at("attrs").contains("activation"))
        return false;
    const int64_t channels = shapes_.at(x).size() > 1 ? shapes_.at(x)[1] : 0;
    if (!slope.empty()) {
        // The slope must vary along the channel axis (1) of x only, under right-aligned broadcasting.
        if (!is_const(slope))
            return false;
        const Shape& ss = consts_.at(slope).shape;
        const auto rank = static_cast<int64_t>(shapes_.at(x).size());
        const int64_t channel_axis = 1 - (rank - static_cast<int64_t>(ss.size()));
        for (int64_t a = 0; a < static_cast<int64_t>(ss.size()); ++a)
            if (ss[static_cast<size_t>(a)] != 1 && !(a == channel_axis && ss[static_cast<size_t>(a)] == channels))
                return false;
        while ((*step)["inputs"].size() < 3)
            (*step)["inputs"].push_back("");
        (*step)["inputs"].push_back(slope);
    }
    (*step)["attrs"]["activation"] = activation;
    (*step)["outputs"][0] = y;
    shapes_[y] = shapes_.at(x);
    shapes_.erase(x);
    return true;
}

bool Lowering::fold_channel_affine(const std::string& x, const Const& scale, const Const& shift,
                                   const std::string& y) {
    nlohmann::json* found = sole_conv_producer(x);
    if (!found || found->at("attrs").contains("activation"))
        return false;
    auto& step = *found;
    const auto& ins = step.at("inputs");
    const std::string w = ins.at(1).get<std::string>();
    const std::string b = ins.size() > 2 ? ins.at(2).get<std::string>() : "";
    if (!is_const(w) || (!b.empty() && !is_const(b)))
        return false;
    Const wc = consts_.at(w);
    const int64_t m = wc.shape.at(0);
    if (scale.numel() != m || shift.numel() != m)
        return false;
    const int64_t per = wc.numel() / m;
    Const bc;
    bc.shape = {m};
    for (int64_t o = 0; o < m; ++o) {
        const double a = scale.values[static_cast<size_t>(o)];
        for (int64_t i = 0; i < per; ++i)
            wc.values[static_cast<size_t>(o * per + i)] *= a;
        const double bias = b.empty() ? 0.0 : consts_.at(b).values[static_cast<size_t>(o)];
        bc.values.push_back(bias * a + shift.values[static_cast<size_t>(o)]);
    }
    const std::string wn = add_const(std::move(wc), "folded_w"), bn = add_const(std::move(bc), "folded_b");
    step["inputs"] = {ins.at(0), wn, bn};
    step["outputs"][0] = y;
    shapes_[y] = shapes_.at(x);
    shapes_.erase(x);
    return true;
}

void Lowering::lower(const OnnxGraph& g) {
    for (const OnnxNode& n : g.nodes)
        for (const auto& in : n.inputs)
            ++uses_[in];
    for (const ValueInfo& v : g.outputs)
        ++uses_[v.name];
    for (const auto& [name, c] : g.initializers)
        if (!shapes_.count(name)) // weights also listed as graph inputs stay weights
            consts_[name] = c;
    for (const OnnxNode& n : g.nodes) {
        if (!n.domain.empty() && n.domain != "ai.onnx")
            fail_unsupported("node '" + n.name + "': operator " + n.domain + "::" + n.op_type +
                             " (custom domains are not supported)");
        try {
            lower_node(*this, n);
        } catch (const CoreError& e) {
            const std::string what = e.what();
            if (what.rfind("node '", 0) == 0)
                throw;
            throw CoreError(e.kind(), "node '" + n.name + "' (" + n.op_type + "): " + what);
        }
    }
}

std::map<std::string, Const> Lowering::used_weights() const {
    std::map<std::string, Const> used;
    for (const auto& step : steps_)
        for (const auto& in : step.at("inputs")) {
            const std::string name = in.get<std::string>();
            if (!name.empty() && is_const(name))
                used[name] = consts_.at(name);
        }
    return used;
}

} // namespace rill::onnx_import
