// ONNX model -> tensor program -> streaming Rill graph (see rill/core/import_onnx.hpp).
#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "../image_model.hpp"
#include "lowering.hpp"
#include "onnx_import_paths.hpp"
#include "rill/core/error.hpp"
#include "rill/core/import_onnx.hpp"

namespace rill {
namespace {

using onnx_import::Const;
using onnx_import::Lowering;
using onnx_import::OnnxModel;
using onnx_import::ValueInfo;
using tensor::Shape;

bool is_int_type(int32_t elem_type) {
    return elem_type == 6 || elem_type == 7 || elem_type == 9 || elem_type == 2 || elem_type == 3 ||
           elem_type == 5 || elem_type == 12 || elem_type == 13;
}

Shape resolve_shape(const ValueInfo& v, const OnnxImportOptions& o) {
    if (const auto it = o.shapes.find(v.name); it != o.shapes.end())
        return it->second;
    if (!v.has_shape)
        fail_argument("ONNX input '" + v.name + "' has no shape in the model: give it with the 'shapes' option");
    Shape s;
    for (size_t i = 0; i < v.dims.size(); ++i) {
        if (v.dims[i] >= 0) {
            s.push_back(v.dims[i]);
            continue;
        }
        const std::string& name = v.dim_names[i];
        if (const auto d = o.dims.find(name); d != o.dims.end())
            s.push_back(d->second);
        else if (name.find("batch") != std::string::npos || name == "N")
            s.push_back(1); // one stream is one batch element
        else
            fail_argument("ONNX input '" + v.name + "' has the symbolic dimension '" + name +
                          "': give its size with the 'dims' option (or the input's 'shapes')");
    }
    return s;
}

// A bound input: its shape from the 'shapes' option, else [n] (a scalar for one value when
// the model declares a scalar).
Const bound_const(const ValueInfo& v, const std::vector<double>& values, const OnnxImportOptions& o) {
    Const c;
    c.is_int = is_int_type(v.elem_type);
    c.values = values;
    if (const auto it = o.shapes.find(v.name); it != o.shapes.end())
        c.shape = it->second;
    else if (values.size() != 1 || (v.has_shape && !v.dims.empty()))
        c.shape = {static_cast<int64_t>(values.size())};
    if (c.numel() != static_cast<int64_t>(values.size()))
        fail_argument("bound input '" + v.name + "' has " + std::to_string(values.size()) +
                      " values for its shape");
    return c;
}

// The output that carries input `in` to the next frame, by the usual naming conventions.
std::string state_partner(const std::string& in, const std::vector<ValueInfo>& outputs) {
    const std::vector<std::string> names = {in + "_out", in + "N", in + "_new", "new_" + in,
                                            in + "_next", "next_" + in, in + "_o", "out_" + in,
                                            in + "n", in + "_1"};
    for (const auto& n : names)
        for (const auto& o : outputs)
            if (o.name == n)
                return n;
    return "";
}

struct Plan {
    std::string data_input;
    std::vector<std::pair<std::string, std::string>> state; // input, next
    std::vector<std::string> data_outputs;
};

struct Built {
    Lowering lowering;
    Plan plan;
    std::map<std::string, Shape> state_shapes;
    std::map<std::string, Shape> input_shapes;
    explicit Built(int64_t opset) : lowering(opset) {}
};

// Binds constants, classifies inputs, and sets the run-time inputs' shapes.
void declare_inputs(const OnnxModel& m, const OnnxImportOptions& o, Built& b, bool stream) {
    const double sr = o.sample_rate > 0 ? o.sample_rate : 16000;
    std::vector<std::string> runtime;
    for (const ValueInfo& v : m.graph.inputs) {
        if (m.graph.initializers.count(v.name) && !o.bind.count(v.name) && !o.shapes.count(v.name))
            continue; // a weight listed as an input (old exporters)
        if (const auto it = o.bind.find(v.name); it != o.bind.end()) {
            b.lowering.set_const(v.name, bound_const(v, it->second, o));
            continue;
        }
        if (stream && v.name == "sr" && is_int_type(v.elem_type)) { // Silero's sample-rate input
            b.lowering.set_const(v.name, bound_const(v, {sr}, o));
            continue;
        }
        if (is_int_type(v.elem_type))
            fail_argument("ONNX input '" + v.name + "' is an integer tensor: bind it to a constant with the 'bind' option");
        b.input_shapes[v.name] = resolve_shape(v, o);
        runtime.push_back(v.name);
    }
    if (!stream) {
        for (const auto& name : runtime)
            b.lowering.set_runtime(name, b.input_shapes[name]);
        return;
    }
    std::set<std::string> state_inputs, state_outputs;
    for (const auto& [in, out] : o.state) {
        if (!b.input_shapes.count(in))
            fail_argument("state input '" + in + "' is not a float input of the model");
        b.plan.state.push_back({in, out});
    }
    if (o.state.empty())
        for (const auto& name : runtime)
            if (const std::string next = state_partner(name, m.graph.outputs); !next.empty())
                b.plan.state.push_back({name, next});
    for (const auto& [in, out] : b.plan.state) {
        state_inputs.insert(in);
        state_outputs.insert(out);
    }
    for (const auto& name : runtime)
        if (!state_inputs.count(name)) {
            if (!b.plan.data_input.empty())
                fail_argument("the model has several data inputs ('" + b.plan.data_input + "', '" + name +
                              "'): declare the state ones with the 'state' option");
            b.plan.data_input = name;
        }
    if (b.plan.data_input.empty())
        fail_argument("the model has no data input (all inputs were taken as state)");
    for (const ValueInfo& v : m.graph.outputs)
        if (!state_outputs.count(v.name))
            b.plan.data_outputs.push_back(v.name);
    if (b.plan.data_outputs.empty())
        fail_argument("the model has no data output (all outputs were taken as state)");
    for (const auto& [in, out] : b.plan.state) {
        b.state_shapes[in] = b.input_shapes[in];
        b.lowering.set_runtime(in, b.input_shapes[in]);
    }
}

struct Frontend {
    std::string kind; // stft, window, frames
    int64_t n_fft = 0, hop = 0, size = 0;
    int64_t channels = 1; // window: audio channels, the input [..., channels, size]
    int64_t bins() const { return n_fft / 2 + 1; }
};

Frontend choose_frontend(const OnnxModel& m, const OnnxImportOptions& o, const Built& b) {
    Frontend f;
    const Shape& x = b.input_shapes.at(b.plan.data_input);
    f.kind = o.frontend;
    const int64_t n = tensor::numel(x);
    const bool stft_shape = x.size() >= 2 && x.back() == 2 && n > 2 && (n / 2) % 2 == 1;
    const bool has_sr = std::any_of(m.graph.inputs.begin(), m.graph.inputs.end(),
                                    [](const ValueInfo& v) { return v.name == "sr"; });
    if (f.kind.empty())
        f.kind = has_sr ? "window" : stft_shape ? "stft" : "frames";
    if (f.kind == "stft") {
        f.n_fft = o.n_fft ? o.n_fft : 2 * (tensor::numel(x) / 2 - 1);
        f.hop = o.hop ? o.hop : f.n_fft / 2;
        if (tensor::numel(x) != 2 * f.bins())
            fail_argument("stft front end: input '" + b.plan.data_input + "' " + tensor::to_string(x) +
                          " does not hold n_fft/2+1 = " + std::to_string(f.bins()) + " complex bins");
    } else if (f.kind == "window") {
        const double sr = o.sample_rate > 0 ? o.sample_rate : 16000;
        const int64_t chunk = sr == 8000 ? 256 : 512, context = sr == 8000 ? 32 : 64;
        f.size = o.window_size ? o.window_size : (has_sr ? chunk + context : tensor::numel(x));
        f.hop = o.hop ? o.hop : (has_sr ? chunk : f.size);
        if (f.hop < 1 || f.hop > f.size)
            fail_argument("window front end: hop must be in 1..window_size");
        if (n != f.size && x.size() >= 2 && x.back() == f.size && n % f.size == 0)
            f.channels = n / f.size; // [1, C, W]: C signals windowed together
    } else if (f.kind != "frames") {
        fail_argument("unknown front end \"" + f.kind + "\" (stft, window, frames or time_axis)");
    }
    return f;
}

// Sources S of an output holding `window` samples per source ([1, W], [1, 1, W], [1, S, W]:
// leading dimensions 1), or 0 when its shape is not one of those.
int64_t window_sources(const Shape& s, int64_t window) {
    if (s.size() < 2 || s.back() != window)
        return 0;
    for (size_t i = 0; i + 2 < s.size(); ++i)
        if (s[i] != 1)
            return 0;
    return s[s.size() - 2];
}

// The back end of data output `name` of shape s when it is not the istft one: "overlap_add" or
// "hold". Auto: overlap_add for window-shaped outputs of a window front end on a model without
// state (each window on its own: the offline windows mode); a stateful model's per-window
// outputs (Silero's probability, features of W values) stay on hold unless the option asks.
std::string choose_backend(const Frontend& f, const OnnxImportOptions& o, const Plan& plan,
                           const std::string& name, const Shape& s) {
    const int64_t sources = f.kind == "window" ? window_sources(s, f.size) : 0;
    if (o.backend.empty())
        return sources > 0 && plan.state.empty() ? "overlap_add" : "hold";
    if (o.backend == "hold")
        return o.backend;
    if (o.backend != "overlap_add")
        fail_argument("unknown back end \"" + o.backend + "\" (overlap_add or hold)");
    if (f.kind != "window")
        fail_argument("overlap_add back end needs the window front end (got \"" + f.kind + "\")");
    if (sources == 0)
        fail_argument("overlap_add back end: output '" + name + "' " + tensor::to_string(s) +
                      " does not hold window_size = " + std::to_string(f.size) +
                      " samples per source ([1, W], [1, 1, W] or [1, S, W])");
    return "overlap_add";
}

Tensor to_tensor(const Const& c) {
    std::vector<float> v(c.values.begin(), c.values.end());
    return make_tensor(c.shape, std::move(v));
}

OnnxModel load(const void* data, size_t size) {
    if (!data || size == 0)
        fail_argument("empty ONNX model");
    return onnx_import::read_onnx(data, size);
}

} // namespace

OnnxImportOptions OnnxImportOptions::from_json(const nlohmann::json& j) {
    OnnxImportOptions o;
    if (j.is_null())
        return o;
    if (!j.is_object())
        fail_argument("import options must be a JSON object");
    try {
        for (const auto& [key, v] : j.items()) {
            if (key == "sample_rate") o.sample_rate = v.get<double>();
            else if (key == "frontend") o.frontend = v.get<std::string>();
            else if (key == "n_fft") o.n_fft = v.get<int64_t>();
            else if (key == "hop") o.hop = v.get<int64_t>();
            else if (key == "window_size") o.window_size = v.get<int64_t>();
            else if (key == "window") o.window = v.get<std::string>();
            else if (key == "pad_mode") o.pad_mode = v.get<std::string>();
            else if (key == "backend") o.backend = v.get<std::string>();
            else if (key == "crossfade") o.crossfade = v.get<std::string>();
            else if (key == "align") o.align = v.get<std::string>();
            else if (key == "bind") {
                for (const auto& [name, val] : v.items())
                    o.bind[name] = val.is_array() ? val.get<std::vector<double>>() : std::vector<double>{val.get<double>()};
            } else if (key == "dims") o.dims = v.get<std::map<std::string, int64_t>>();
            else if (key == "shapes") o.shapes = v.get<std::map<std::string, std::vector<int64_t>>>();
            else if (key == "state") {
                for (const auto& [in, out] : v.items())
                    o.state.push_back({in, out.get<std::string>()});
            } else if (key == "frame_rate" || key == "mean" || key == "std" || key == "channel_order" ||
                       key == "mask_plane" || key == "temporal_smoothing" || key == "smoothing" || key == "scene_cut")
                o.image[key] = v;
            else
                fail_argument("unknown import option '" + key + "'");
        }
    } catch (const nlohmann::json::exception& e) {
        fail_argument(std::string("bad import option value: ") + e.what());
    }
    return o;
}

bool is_onnx_model(const void* data, size_t size) { return onnx_import::looks_like_onnx(data, size); }

std::vector<std::string> onnx_supported_operators() { return onnx_import::supported_onnx_operators(); }

OnnxProgram import_onnx_program(const void* data, size_t size, const OnnxImportOptions& options) {
    const OnnxModel m = load(data, size);
    Built b(m.opset);
    declare_inputs(m, options, b, false);
    b.lowering.lower(m.graph);
    OnnxProgram p;
    p.desc = {{"inputs", nlohmann::json::array()}, {"outputs", nlohmann::json::array()}};
    for (const ValueInfo& v : m.graph.inputs)
        if (b.input_shapes.count(v.name)) {
            p.desc["inputs"].push_back({{"value", v.name}, {"shape", b.input_shapes[v.name]}});
            p.inputs.push_back(v.name);
        }
    nlohmann::json steps = b.lowering.steps();
    for (const ValueInfo& v : m.graph.outputs) {
        std::string value = v.name;
        if (b.lowering.is_const(v.name)) { // a constant output: materialise it with a copy
            value = "~const_out_" + v.name;
            const Shape s = b.lowering.shape(v.name);
            steps.push_back({{"op", "reshape"}, {"inputs", {v.name}}, {"outputs", {value}}, {"attrs", {{"shape", s}}}});
        }
        p.desc["outputs"].push_back({{"value", value}});
        p.outputs.push_back(v.name);
        p.output_shapes.push_back(b.lowering.shape(v.name));
    }
    p.desc["steps"] = steps;
    auto weights = b.lowering.used_weights();
    for (const ValueInfo& v : m.graph.outputs)
        if (b.lowering.is_const(v.name))
            weights[v.name] = b.lowering.constant(v.name, onnx_import::OnnxNode{});
    for (const auto& [name, c] : weights)
        p.constants[name] = to_tensor(c);
    return p;
}

namespace {

// One video frame [1, C, H, W] in (C = 1 or 3, static), maps out: an image model.
bool is_image_model(const OnnxModel& m, const OnnxImportOptions& o) {
    if (o.frontend == "image")
        return true;
    if (!o.frontend.empty())
        return false;
    for (const ValueInfo& v : m.graph.inputs) {
        if (m.graph.initializers.count(v.name) || o.bind.count(v.name))
            continue;
        const auto& d = v.dims;
        return d.size() == 4 && d[0] == 1 && (d[1] == 1 || d[1] == 3) && d[2] >= 8 && d[3] >= 8;
    }
    return false;
}

RillFile import_onnx_image(const void* data, size_t size, const OnnxModel& m, const OnnxImportOptions& o) {
    const ImageModelOptions image_options = ImageModelOptions::from_json(o.image, {});
    OnnxProgram p = import_onnx_program(data, size, o);
    ImageProgram image;
    image.desc = std::move(p.desc);
    image.constants = std::move(p.constants);
    image.output_shapes = p.output_shapes;
    image.output_names = p.outputs;
    image.description = "Imported from ONNX (" + m.producer + ", opset " + std::to_string(m.opset) + "); image model";
    image.source = "onnx";
    return image_model_file(std::move(image), image_options);
}

} // namespace

RillFile import_onnx_memory(const void* data, size_t size, const OnnxImportOptions& options) {
    const OnnxModel m = load(data, size);
    if (is_image_model(m, options))
        return import_onnx_image(data, size, m, options);
    if (!options.image.empty())
        fail_argument("image import options were given for a model that is not an image model");
    OnnxImportOptions o = options;
    // A symbolic time axis: Rill's own streaming ops (cached convolutions).
    for (const ValueInfo& v : m.graph.inputs) {
        if (m.graph.initializers.count(v.name) || o.bind.count(v.name))
            continue;
        if (o.frontend == "time_axis" || (o.frontend.empty() && onnx_import::has_time_axis(v) && !o.shapes.count(v.name)))
            return onnx_import::import_time_axis(m, v, o.sample_rate > 0 ? o.sample_rate : 16000);
        break;
    }
    const bool has_sr = std::any_of(m.graph.inputs.begin(), m.graph.inputs.end(),
                                    [](const ValueInfo& v) { return v.name == "sr"; });
    if (has_sr) { // Silero v5/v6: context + chunk samples per call, LSTM state [2, batch, 128]
        const int64_t window = o.window_size ? o.window_size : (o.sample_rate == 8000 ? 288 : 576);
        if (!o.dims.count("sequence"))
            o.dims["sequence"] = window;
        for (const ValueInfo& v : m.graph.inputs) {
            if (o.shapes.count(v.name))
                continue;
            if (v.name == "input" && v.dims.size() == 2 && v.dims[1] < 0)
                o.shapes[v.name] = {1, window};
            else if (v.name == "state" && v.dims.size() == 3 && v.dims[1] < 0)
                o.shapes[v.name] = {v.dims[0] < 0 ? 2 : v.dims[0], 1, v.dims[2] < 0 ? 128 : v.dims[2]};
        }
    }
    Built b(m.opset);
    declare_inputs(m, o, b, true);
    const Frontend f = choose_frontend(m, o, b);
    const double sr = o.sample_rate > 0 ? o.sample_rate : 16000;
    Lowering& l = b.lowering;
    const Shape x = b.input_shapes.at(b.plan.data_input);
    nlohmann::json desc;
    // Front end inside the program: the frame port's channels in the input's layout.
    std::string program_input = "~frame";
    Shape frame_shape;
    if (f.kind == "stft") {
        frame_shape = {2, f.bins()}; // stft op channels: real parts, then imaginary parts
        l.set_runtime(program_input, frame_shape);
        const std::string t = l.emit("transpose", {program_input}, {{"perm", {1, 0}}})[0];
        l.emit("reshape", {t}, {{"shape", x}}, 1, {b.plan.data_input});
    } else {
        // The frame op's channels are c * size + j: the row-major [C, W] of the input.
        frame_shape = {f.kind == "window" ? f.channels * f.size : tensor::numel(x)};
        if (frame_shape[0] != tensor::numel(x))
            fail_argument("window front end: input '" + b.plan.data_input + "' " + tensor::to_string(x) +
                          " does not hold window_size = " + std::to_string(f.size) +
                          " samples (or [..., C, window_size] for C signals)");
        l.set_runtime(program_input, frame_shape);
        l.emit("reshape", {program_input}, {{"shape", x}}, 1, {b.plan.data_input});
    }
    l.lower(m.graph);
    // Back end: stft models give the same frame layout back for the istft.
    std::vector<std::string> program_outputs;
    bool istft = false;
    for (const auto& out : b.plan.data_outputs) {
        const Shape s = l.shape(out);
        if (f.kind == "stft" && s == x && !istft) {
            const std::string r = l.emit("reshape", {out}, {{"shape", {f.bins(), 2}}})[0];
            program_outputs.push_back(l.emit("transpose", {r}, {{"perm", {1, 0}}})[0]);
            istft = true;
        } else {
            program_outputs.push_back(l.is_const(out) ? l.emit("reshape", {out}, {{"shape", s}})[0] : out);
        }
    }
    desc["inputs"] = {{{"value", program_input}, {"shape", frame_shape}}};
    desc["outputs"] = nlohmann::json::array();
    for (const auto& v : program_outputs)
        desc["outputs"].push_back({{"value", v}});
    desc["state"] = nlohmann::json::array();
    for (const auto& [in, next] : b.plan.state) {
        if (!l.has(next))
            fail_format("state output '" + next + "' is not produced by the graph");
        std::string value = next;
        if (l.is_const(next)) // a state that never changes still needs a run-time value
            value = l.emit("reshape", {next}, {{"shape", l.shape(next)}})[0];
        desc["state"].push_back({{"value", in}, {"shape", b.state_shapes[in]}, {"next", value}});
    }
    desc["steps"] = l.steps();

    RillFile file;
    GraphDef& g = file.graph;
    g.inputs.push_back(PortDef{"audio", "audio", static_cast<uint32_t>(f.channels), sr, ""});
    NodeDef front;
    if (f.kind == "stft") {
        front = NodeDef{"stft", "stft", {"audio"},
                        {{"n_fft", f.n_fft}, {"hop", f.hop}, {"window", o.window}, {"center", 1},
                         {"pad_mode", o.pad_mode}}, {}};
    } else if (f.kind == "window") {
        front = NodeDef{"frame", "frame", {"audio"}, {{"size", f.size}, {"hop", f.hop}}, {}};
    } else {
        fail_argument("the frames front end needs a frames input port; use frontend stft or window for audio models");
    }
    g.nodes.push_back(front);
    NodeDef model{"model", "tensor_program", {front.name}, desc, {}};
    for (const auto& [name, c] : l.used_weights()) {
        const std::string tensor_name = "model/" + name;
        model.weights[name] = tensor_name;
        file.tensors[tensor_name] = to_tensor(c);
    }
    g.nodes.push_back(model);
    std::set<std::string> backends;
    for (size_t j = 0; j < program_outputs.size(); ++j) {
        const std::string src = j == 0 ? "model" : "model:" + std::to_string(j);
        const std::string name = b.plan.data_outputs[j];
        const Shape s = l.shape(name);
        const std::string back = j == 0 && istft ? "istft" : choose_backend(f, o, b.plan, name, s);
        backends.insert(back);
        if (back == "istft") {
            g.nodes.push_back(NodeDef{"istft", "istft", {src},
                                      {{"n_fft", f.n_fft}, {"hop", f.hop}, {"window", o.window}, {"center", 1}}, {}});
            g.outputs.push_back(PortDef{name, "audio", 1, 0, "istft"});
        } else if (back == "overlap_add") {
            // Windows of S signals crossfaded back into S audio channels (offline windows mode).
            const std::string ola = "overlap_add_" + std::to_string(j);
            g.nodes.push_back(NodeDef{ola, "overlap_add", {src},
                                      {{"size", f.size}, {"hop", f.hop}, {"window", o.crossfade},
                                       {"align", o.align}}, {}});
            g.outputs.push_back(PortDef{name, "audio", static_cast<uint32_t>(window_sources(s, f.size)), 0, ola});
        } else {
            // A result per frame, held for the frame's samples so the port runs at the audio rate.
            const std::string hold = "hold_" + std::to_string(j);
            g.nodes.push_back(NodeDef{hold, "hold", {src}, {{"factor", f.hop}}, {}});
            g.outputs.push_back(PortDef{name, "frames", static_cast<uint32_t>(tensor::numel(s)), 0, hold});
        }
    }
    std::string back_ends;
    for (const auto& k : backends)
        back_ends += (back_ends.empty() ? "" : ", ") + k;
    g.meta = {{"description", "Imported from ONNX (" + m.producer + ", opset " + std::to_string(m.opset) +
                                  "); front end " + f.kind + ", back end " + back_ends},
              {"source", "onnx"}};
    return file;
}

RillFile import_onnx_file(const std::string& path, const OnnxImportOptions& options) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw CoreError(ErrorKind::Io, "cannot open '" + path + "'");
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return import_onnx_memory(bytes.data(), bytes.size(), options);
}

} // namespace rill
