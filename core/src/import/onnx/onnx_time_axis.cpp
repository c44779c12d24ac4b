// ONNX models over a symbolic time axis ([1, C, T], T symbolic: fully convolutional exports with
// dynamic axes) become Rill's own streaming graph, node by node: Conv -> conv1d with its padding
// turned into latency (the cached-convolution method), ConvTranspose -> conv_transpose1d,
// BatchNormalization -> batch_norm, activations, Add/Sub/Mul of two signals (the planner aligns
// their latencies) or with per-channel constants (affine), Concat over channels. The latency is
// planned and reported exactly as for native models. Nodes whose inputs are all constants are
// folded as in the tensor-program path (lowering.hpp).
#include "onnx_import_paths.hpp"

#include <cmath>

#include "lowering.hpp"
#include "onnx_ops.hpp"

namespace rill::onnx_import {
namespace {

class TimeAxisBuilder {
public:
    TimeAxisBuilder(const OnnxModel& m, RillFile& file) : file_(file), fold_(m.opset) {}

    void add_input(const std::string& name, uint32_t channels, double sample_rate) {
        file_.graph.inputs.push_back(PortDef{name, "audio", channels, sample_rate, ""});
        signals_[name] = {name, channels};
    }

    void lower(const OnnxGraph& g) {
        for (const auto& [name, c] : g.initializers)
            if (!signals_.count(name))
                fold_.set_const(name, c);
        for (const OnnxNode& n : g.nodes) {
            bool any_signal = false;
            for (const auto& in : n.inputs)
                any_signal = any_signal || signals_.count(in);
            try {
                if (any_signal)
                    node(n);
                else
                    lower_node(fold_, n);
            } catch (const CoreError& e) {
                const std::string what = e.what();
                if (what.rfind("node '", 0) == 0)
                    throw;
                throw CoreError(e.kind(), "node '" + n.name + "' (" + n.op_type + "): " + what);
            }
        }
        for (const ValueInfo& v : g.outputs) {
            const auto it = signals_.find(v.name);
            if (it == signals_.end())
                fail_unsupported("output '" + v.name + "' does not depend on the time-axis input");
            file_.graph.outputs.push_back(PortDef{v.name, "audio", it->second.channels, 0, it->second.ref});
        }
    }

private:
    struct Signal {
        std::string ref;
        uint32_t channels = 0;
    };

    const Signal& signal(const OnnxNode& n, size_t i) const {
        const auto it = signals_.find(input(n, i));
        if (it == signals_.end())
            unsupported(n, "input " + std::to_string(i) + " must be the time-axis signal");
        return it->second;
    }

    // A constant weight as a file tensor; returns its name.
    std::string weight(const OnnxNode& n, const std::string& value, std::vector<int64_t> shape = {}) {
        const Const& c = fold_.constant(value, n);
        std::vector<float> v(c.values.begin(), c.values.end());
        const std::string name = n.name + "/" + value;
        file_.tensors[name] = make_tensor(shape.empty() ? c.shape : shape, std::move(v));
        return name;
    }

    void add(const OnnxNode& n, const std::string& op, std::vector<std::string> inputs, nlohmann::json attrs,
             std::map<std::string, std::string> weights, uint32_t channels) {
        const std::string name = "n" + std::to_string(file_.graph.nodes.size()) + "_" + op;
        file_.graph.nodes.push_back(NodeDef{name, op, std::move(inputs), std::move(attrs), std::move(weights)});
        signals_[output(n, 0)] = {name, channels};
    }

    uint32_t channels_of(const Const& c) const { return static_cast<uint32_t>(c.shape.empty() ? 1 : c.shape[0]); }

    void node(const OnnxNode& n) {
        const std::string& op = n.op_type;
        if (op == "Identity" || op == "Dropout") {
            signals_[output(n, 0)] = signal(n, 0);
        } else if (op == "Conv" || op == "ConvTranspose") {
            conv(n, op == "ConvTranspose");
        } else if (op == "BatchNormalization") {
            const Signal& x = signal(n, 0);
            add(n, "batch_norm", {x.ref}, {{"eps", attr_f(n, "epsilon", 1e-5)}},
                {{"weight", weight(n, input(n, 1))}, {"bias", weight(n, input(n, 2))},
                 {"running_mean", weight(n, input(n, 3))}, {"running_var", weight(n, input(n, 4))}},
                x.channels);
        } else if (op == "Relu" || op == "Sigmoid" || op == "Tanh") {
            const Signal& x = signal(n, 0);
            add(n, op == "Relu" ? "relu" : op == "Sigmoid" ? "sigmoid" : "tanh", {x.ref}, nlohmann::json::object(), {},
                x.channels);
        } else if (op == "LeakyRelu" || op == "Elu") {
            const Signal& x = signal(n, 0);
            add(n, op == "Elu" ? "elu" : "leaky_relu", {x.ref},
                {{op == "Elu" ? "alpha" : "negative_slope", attr_f(n, "alpha", op == "Elu" ? 1.0 : 0.01)}}, {},
                x.channels);
        } else if (op == "Gelu") {
            const Signal& x = signal(n, 0);
            add(n, "gelu", {x.ref}, {{"approximate", attr_s(n, "approximate", "none")}}, {}, x.channels);
        } else if (op == "PRelu") {
            const Signal& x = signal(n, 0);
            const Const& slope = fold_.constant(input(n, 1), n);
            if (slope.numel() != 1 && slope.numel() != x.channels)
                unsupported(n, "slope must have one value or one per channel");
            add(n, "prelu", {x.ref}, nlohmann::json::object(), {{"weight", weight(n, input(n, 1), {slope.numel()})}},
                x.channels);
        } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
            arithmetic(n);
        } else if (op == "Concat") {
            if (attr_i(n, "axis", 0) != 1 && attr_i(n, "axis", 0) != -2)
                unsupported(n, "concatenation along an axis other than the channels");
            std::vector<std::string> refs;
            uint32_t channels = 0;
            for (size_t i = 0; i < n.inputs.size(); ++i) {
                refs.push_back(signal(n, i).ref);
                channels += signal(n, i).channels;
            }
            add(n, "concat", refs, nlohmann::json::object(), {}, channels);
        } else {
            unsupported(n, "operator " + op + " is not supported on a time-axis signal (the stream_axis "
                           "import maps Conv, ConvTranspose, BatchNormalization, activations, Add/Sub/Mul/Div "
                           "and Concat)");
        }
    }

    void conv(const OnnxNode& n, bool transposed) {
        const Signal& x = signal(n, 0);
        const Const& w = fold_.constant(input(n, 1), n);
        if (w.shape.size() != 3)
            unsupported(n, "only 1-D convolutions run on the time axis");
        const int64_t k = w.shape[2], group = attr_i(n, "group", 1);
        const auto s = attr_is(n, "strides", {1}), d = attr_is(n, "dilations", {1});
        auto pads = attr_is(n, "pads", {0, 0});
        const std::string auto_pad = attr_s(n, "auto_pad", "NOTSET");
        if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
            if (s[0] != 1 || transposed)
                unsupported(n, "auto_pad SAME with a stride or on a transposed convolution");
            const int64_t total = (k - 1) * d[0];
            pads = {auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2, 0};
            pads[1] = total - pads[0];
        } else if (auto_pad == "VALID") {
            pads = {0, 0};
        }
        std::map<std::string, std::string> weights = {{"weight", weight(n, input(n, 1))}};
        if (!input(n, 2).empty())
            weights["bias"] = weight(n, input(n, 2));
        if (!transposed) {
            if (pads[0] > (k - 1) * d[0])
                unsupported(n, "left padding wider than the kernel's reach");
            add(n, "conv1d", {x.ref},
                {{"stride", s[0]}, {"dilation", d[0]}, {"groups", group}, {"padding", {pads[0], pads[1]}}}, weights,
                static_cast<uint32_t>(w.shape[0]));
            return;
        }
        if (pads[0] != pads[1])
            unsupported(n, "asymmetric pads on a transposed convolution");
        if (find_attr(n, "output_shape"))
            unsupported(n, "output_shape on the time axis");
        const auto op = attr_is(n, "output_padding", {0});
        add(n, "conv_transpose1d", {x.ref},
            {{"stride", s[0]}, {"dilation", d[0]}, {"groups", group}, {"padding", pads[0]}, {"output_padding", op[0]}},
            weights, static_cast<uint32_t>(w.shape[1] * group));
    }

    // Two signals: add/sub/mul. A signal and a per-channel (or scalar) constant: affine.
    void arithmetic(const OnnxNode& n) {
        const std::string& op = n.op_type;
        const bool a_sig = signals_.count(input(n, 0)) > 0, b_sig = signals_.count(input(n, 1)) > 0;
        if (a_sig && b_sig) {
            if (op == "Div")
                unsupported(n, "division of two signals");
            const Signal &a = signal(n, 0), &b = signal(n, 1);
            add(n, op == "Add" ? "add" : op == "Sub" ? "sub" : "mul", {a.ref, b.ref}, nlohmann::json::object(), {},
                std::max(a.channels, b.channels));
            return;
        }
        const Signal& x = signal(n, a_sig ? 0 : 1);
        const Const& c = fold_.constant(input(n, a_sig ? 1 : 0), n);
        // The constant must broadcast per channel over [1, C, T]: numel 1 or C with T axis 1.
        const int64_t count = c.numel();
        if (count != 1 && (count != x.channels || (!c.shape.empty() && c.shape.back() != 1 && c.shape.size() >= 2)))
            unsupported(n, "a constant that is not per channel");
        std::vector<float> wv(static_cast<size_t>(x.channels), 1.0f), bv(static_cast<size_t>(x.channels), 0.0f);
        for (uint32_t ch = 0; ch < x.channels; ++ch) {
            const auto v = static_cast<float>(c.values[count == 1 ? 0 : ch]);
            if (op == "Add")
                bv[ch] = v;
            else if (op == "Sub")
                a_sig ? (bv[ch] = -v) : (wv[ch] = -1.0f, bv[ch] = v);
            else if (op == "Mul")
                wv[ch] = v;
            else if (a_sig)
                wv[ch] = 1.0f / v;
            else
                unsupported(n, "a constant divided by a signal");
        }
        const std::string base = n.name + "/" + op;
        file_.tensors[base + ".weight"] = make_tensor({x.channels}, std::move(wv));
        file_.tensors[base + ".bias"] = make_tensor({x.channels}, std::move(bv));
        add(n, "affine", {x.ref}, nlohmann::json::object(), {{"weight", base + ".weight"}, {"bias", base + ".bias"}},
            x.channels);
    }

    RillFile& file_;
    Lowering fold_;
    std::map<std::string, Signal> signals_;
};

} // namespace

bool has_time_axis(const ValueInfo& v) {
    return v.has_shape && v.dims.size() == 3 && v.dims[2] < 0 && v.dims[1] > 0;
}

RillFile import_time_axis(const OnnxModel& m, const ValueInfo& input, double sample_rate) {
    if (!has_time_axis(input))
        fail_argument("input '" + input.name + "' is not [N, C, T] with a fixed C and a symbolic time axis T");
    RillFile file;
    TimeAxisBuilder b(m, file);
    b.add_input(input.name, static_cast<uint32_t>(input.dims[1]), sample_rate);
    b.lower(m.graph);
    file.graph.meta = {{"description", "Imported from ONNX (" + m.producer + ", opset " + std::to_string(m.opset) +
                                           "); time axis streamed with cached convolutions"},
                       {"source", "onnx"}};
    return file;
}

} // namespace rill::onnx_import
