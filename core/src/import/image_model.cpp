// Image models as streaming graphs (see image_model.hpp).
#include "image_model.hpp"

#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"

namespace rill {
namespace {

std::vector<double> numbers(const nlohmann::json& v, const std::string& key) {
    std::vector<double> out;
    for (const auto& e : v.is_array() ? v : nlohmann::json::array({v})) {
        if (!e.is_number() || !std::isfinite(e.get<double>()))
            fail_argument("import option '" + key + "' must be a number or a list of numbers, got " + v.dump());
        out.push_back(e.get<double>());
    }
    if (out.empty())
        fail_argument("import option '" + key + "' is empty");
    return out;
}

std::vector<double> per_plane(std::vector<double> v, int64_t planes, const char* key) {
    if (v.size() == 1)
        v.assign(static_cast<size_t>(planes), v[0]);
    if (v.size() != static_cast<size_t>(planes))
        fail_argument(std::string("import option '") + key + "' has " + std::to_string(v.size()) +
                      " values; the model takes " + std::to_string(planes) + " planes");
    return v;
}

} // namespace

ImageModelOptions ImageModelOptions::from_json(const nlohmann::json& j, const std::vector<std::string>& ignored) {
    ImageModelOptions o;
    if (j.is_null())
        return o;
    if (!j.is_object())
        fail_argument("import options must be a JSON object");
    for (const auto& [key, v] : j.items()) {
        const auto number = [&] { return numbers(v, key).at(0); };
        if (std::find(ignored.begin(), ignored.end(), key) != ignored.end())
            continue;
        if (key == "frame_rate")
            o.frame_rate = number();
        else if (key == "mean")
            o.mean = numbers(v, key);
        else if (key == "std")
            o.std_dev = numbers(v, key);
        else if (key == "channel_order" && v.is_string())
            o.channel_order = v.get<std::string>();
        else if (key == "mask_plane")
            o.mask_plane = static_cast<int64_t>(number());
        else if (key == "temporal_smoothing" && v.is_boolean())
            o.temporal_smoothing = v.get<bool>();
        else if (key == "smoothing")
            o.smoothing = number();
        else if (key == "scene_cut")
            o.scene_cut = number();
        else
            fail_argument("unknown or mistyped import option '" + key + "' for an image model (frame_rate, mean, "
                          "std, channel_order, mask_plane, temporal_smoothing, smoothing, scene_cut)");
    }
    if (!(o.frame_rate > 0 && o.frame_rate <= 1000))
        fail_argument("import option 'frame_rate' must be in (0, 1000]");
    if (o.channel_order != "rgb" && o.channel_order != "bgr")
        fail_argument("import option 'channel_order' must be \"rgb\" or \"bgr\"");
    if (!(o.smoothing >= 0 && o.smoothing <= 1) || !(o.scene_cut >= 0 && o.scene_cut <= 1))
        fail_argument("import options 'smoothing' and 'scene_cut' must be in [0, 1]");
    for (double s : o.std_dev)
        if (s == 0)
            fail_argument("import option 'std' must not contain 0");
    return o;
}

RillFile image_model_file(ImageProgram program, const ImageModelOptions& o) {
    nlohmann::json& desc = program.desc;
    if (desc.at("inputs").size() != 1)
        fail_unsupported("an image model takes exactly one input; this one takes " +
                         std::to_string(desc.at("inputs").size()));
    const tensor::Shape in_shape = desc["inputs"][0].at("shape").get<tensor::Shape>();
    if (in_shape.size() != 4 || in_shape[0] != 1 || (in_shape[1] != 1 && in_shape[1] != 3))
        fail_unsupported("an image model's input must be [1, C, H, W] with 1 or 3 planes, got " +
                         tensor::to_string(in_shape));
    const int64_t planes = in_shape[1], height = in_shape[2], width = in_shape[3];

    if (o.mask_plane >= 0) { // probabilities of one class: softmax over the planes of output 0
        const tensor::Shape s = program.output_shapes.at(0);
        if (s.size() != 4 || o.mask_plane >= s[1])
            fail_argument("import option 'mask_plane' is " + std::to_string(o.mask_plane) + " but output 0 is " +
                          tensor::to_string(s));
        const std::string logits = desc["outputs"][0].at("value").get<std::string>();
        desc["steps"].push_back({{"op", "softmax"}, {"inputs", {logits}}, {"outputs", {"mask_softmax"}},
                                 {"attrs", {{"axis", 1}}}});
        desc["steps"].push_back({{"op", "slice"}, {"inputs", {"mask_softmax"}}, {"outputs", {"mask"}},
                                 {"attrs", {{"starts", {o.mask_plane}}, {"ends", {o.mask_plane + 1}}, {"axes", {1}}}}});
        desc["outputs"][0]["value"] = "mask";
        program.output_shapes[0][1] = 1;
    }

    RillFile file;
    GraphDef& g = file.graph;
    PortDef input{"image", "image", static_cast<uint32_t>(tensor::checked_numel(in_shape)), o.frame_rate, ""};
    input.width = static_cast<uint32_t>(width);
    input.height = static_cast<uint32_t>(height);
    g.inputs.push_back(input);

    std::string model_input = "image";
    const auto mean = per_plane(o.mean, planes, "mean"), std_dev = per_plane(o.std_dev, planes, "std");
    const bool identity = std::all_of(mean.begin(), mean.end(), [](double m) { return m == 0; }) &&
                          std::all_of(std_dev.begin(), std_dev.end(), [](double s) { return s == 1; }) &&
                          (o.channel_order == "rgb" || planes == 1);
    if (!identity) {
        nlohmann::json attrs = {{"planes", planes}, {"mean", mean}, {"std", std_dev}};
        if (o.channel_order == "bgr" && planes == 3)
            attrs["order"] = {2, 1, 0};
        g.nodes.push_back(NodeDef{"normalize", "image_normalize", {"image"}, attrs, {}});
        model_input = "normalize";
    }
    NodeDef model{"model", "tensor_program", {model_input}, desc, {}};
    for (auto& [name, t] : program.constants) {
        model.weights[name] = "model/" + name;
        file.tensors["model/" + name] = std::move(t);
    }
    g.nodes.push_back(model);

    bool smoothed = false;
    for (size_t j = 0; j < program.output_shapes.size(); ++j) {
        const tensor::Shape& s = program.output_shapes[j];
        std::string src = j == 0 ? "model" : "model:" + std::to_string(j);
        const std::string name = j < program.output_names.size() ? program.output_names[j] : "output" + std::to_string(j);
        if (s.size() != 4 || s[0] != 1) { // not an image: a frames port with the values
            g.outputs.push_back(PortDef{name, "frames", static_cast<uint32_t>(tensor::checked_numel(s)), 0, src});
            continue;
        }
        if (s[1] == 1 && o.temporal_smoothing) {
            const std::string node = "smooth" + std::to_string(j);
            g.nodes.push_back(NodeDef{node, "mask_smooth", {src, "image"},
                                      {{"mask_width", s[3]}, {"mask_height", s[2]},
                                       {"guide_width", width}, {"guide_height", height}}, {}});
            src = node;
            smoothed = true;
        }
        PortDef out{name, "image", static_cast<uint32_t>(tensor::checked_numel(s)), 0, src};
        out.width = static_cast<uint32_t>(s[3]);
        out.height = static_cast<uint32_t>(s[2]);
        g.outputs.push_back(out);
    }
    if (smoothed) {
        g.params.push_back(ParamDef{"smoothing", 0, 0.98f, static_cast<float>(o.smoothing), ""});
        g.params.push_back(ParamDef{"scene_cut", 0, 1, static_cast<float>(o.scene_cut), ""});
    }
    g.meta = {{"description", program.description}, {"source", program.source}};
    return file;
}

} // namespace rill
