// Graph JSON <-> GraphDef, with structural validation (names, types, ranges). Semantic checks
// (ops known, weights present, acyclic, channel counts) happen when the model is built.
#include <cmath>
#include <set>

#include "rill/core/error.hpp"
#include "rill/core/graph.hpp"

namespace rill {
namespace {

using nlohmann::json;

const json& member(const json& obj, const char* key, const std::string& where) {
    if (!obj.is_object() || !obj.contains(key))
        fail_format("graph: " + where + " is missing '" + key + "'");
    return obj.at(key);
}

std::string string_member(const json& obj, const char* key, const std::string& where) {
    const json& v = member(obj, key, where);
    if (!v.is_string() || v.get<std::string>().empty())
        fail_format("graph: " + where + "." + key + " must be a non-empty string");
    return v.get<std::string>();
}

double number_member(const json& obj, const char* key, const std::string& where, double fallback,
                     bool required) {
    if (!obj.contains(key)) {
        if (required)
            fail_format("graph: " + where + " is missing '" + key + "'");
        return fallback;
    }
    const json& v = obj.at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>()))
        fail_format("graph: " + where + "." + key + " must be a finite number");
    return v.get<double>();
}

PortDef port_from_json(const json& j, const std::string& where, bool is_input) {
    if (!j.is_object())
        fail_format("graph: " + where + " must be an object");
    PortDef p;
    p.name = string_member(j, "name", where);
    p.kind = j.contains("kind") ? string_member(j, "kind", where) : "audio";
    if (p.kind != "audio" && p.kind != "frames" && p.kind != "image")
        fail_format("graph: " + where + ".kind must be \"audio\", \"frames\" or \"image\", got \"" +
                    p.kind + "\"");
    const double ch = number_member(j, "channels", where, 0, true);
    const double max_channels = p.kind == "image" ? kMaxImageValues : 65536;
    if (ch < 1 || ch > max_channels || ch != std::floor(ch))
        fail_format("graph: " + where + ".channels must be an integer in 1.." +
                    std::to_string(static_cast<int64_t>(max_channels)));
    p.channels = static_cast<uint32_t>(ch);
    if (p.kind == "image") {
        const double w = number_member(j, "width", where, 0, true), h = number_member(j, "height", where, 0, true);
        if (w < 1 || h < 1 || w > 16384 || h > 16384 || w != std::floor(w) || h != std::floor(h) ||
            std::fmod(ch, w * h) != 0)
            fail_format("graph: " + where + ": an image port needs integer width and height in 1..16384 "
                        "dividing its channels (planes x height x width)");
        p.width = static_cast<uint32_t>(w);
        p.height = static_cast<uint32_t>(h);
    }
    p.sample_rate = number_member(j, "sample_rate", where, 0, is_input);
    if (is_input && !(p.sample_rate > 0 && p.sample_rate <= 10e6))
        fail_format("graph: " + where + ".sample_rate must be in (0, 1e7]");
    if (!is_input)
        p.source = j.contains("source") ? string_member(j, "source", where) : p.name;
    return p;
}

json port_to_json(const PortDef& p, bool is_input) {
    json j = {{"name", p.name}, {"kind", p.kind}, {"channels", p.channels}};
    if (p.kind == "image") {
        j["width"] = p.width;
        j["height"] = p.height;
    }
    if (is_input || p.sample_rate > 0)
        j["sample_rate"] = p.sample_rate;
    if (!is_input)
        j["source"] = p.source;
    return j;
}

const json& array_member(const json& obj, const char* key, bool required) {
    static const json empty = json::array();
    if (!obj.contains(key)) {
        if (required)
            fail_format(std::string("graph: missing '") + key + "'");
        return empty;
    }
    const json& v = obj.at(key);
    if (!v.is_array())
        fail_format(std::string("graph: '") + key + "' must be an array");
    return v;
}

} // namespace

std::pair<std::string, uint32_t> split_output_ref(const std::string& ref) {
    const auto colon = ref.rfind(':');
    if (colon == std::string::npos || colon + 1 == ref.size())
        return {ref, 0};
    const std::string tail = ref.substr(colon + 1);
    if (tail.find_first_not_of("0123456789") != std::string::npos || tail.size() > 5)
        return {ref, 0};
    return {ref.substr(0, colon), static_cast<uint32_t>(std::stoul(tail))};
}

GraphDef graph_from_json(const json& j) {
    if (!j.is_object())
        fail_format("graph: the graph document must be a JSON object");
    GraphDef g;
    std::set<std::string> names;
    const json& inputs = array_member(j, "inputs", true);
    if (inputs.empty())
        fail_format("graph: 'inputs' must not be empty");
    for (size_t i = 0; i < inputs.size(); ++i) {
        g.inputs.push_back(port_from_json(inputs[i], "inputs[" + std::to_string(i) + "]", true));
        if (!names.insert(g.inputs.back().name).second)
            fail_format("graph: duplicate name '" + g.inputs.back().name + "'");
    }
    const json& outputs = array_member(j, "outputs", true);
    if (outputs.empty())
        fail_format("graph: 'outputs' must not be empty");
    std::set<std::string> output_names;
    for (size_t i = 0; i < outputs.size(); ++i) {
        g.outputs.push_back(port_from_json(outputs[i], "outputs[" + std::to_string(i) + "]", false));
        if (!output_names.insert(g.outputs.back().name).second)
            fail_format("graph: duplicate output name '" + g.outputs.back().name + "'");
    }
    const json& params = array_member(j, "params", false);
    std::set<std::string> param_names;
    for (size_t i = 0; i < params.size(); ++i) {
        const std::string where = "params[" + std::to_string(i) + "]";
        if (!params[i].is_object())
            fail_format("graph: " + where + " must be an object");
        ParamDef p;
        p.name = string_member(params[i], "name", where);
        p.min_value = static_cast<float>(number_member(params[i], "min", where, 0, false));
        p.max_value = static_cast<float>(number_member(params[i], "max", where, 1, false));
        p.default_value =
            static_cast<float>(number_member(params[i], "default", where, p.min_value, false));
        if (params[i].contains("unit")) {
            if (!params[i]["unit"].is_string())
                fail_format("graph: " + where + ".unit must be a string");
            p.unit = params[i]["unit"].get<std::string>();
        }
        if (!(p.min_value <= p.default_value && p.default_value <= p.max_value))
            fail_format("graph: " + where + " ('" + p.name + "') needs min <= default <= max");
        if (!param_names.insert(p.name).second)
            fail_format("graph: duplicate parameter '" + p.name + "'");
        g.params.push_back(p);
    }
    const json& nodes = array_member(j, "nodes", true);
    for (size_t i = 0; i < nodes.size(); ++i) {
        const std::string where = "nodes[" + std::to_string(i) + "]";
        const json& n = nodes[i];
        if (!n.is_object())
            fail_format("graph: " + where + " must be an object");
        NodeDef node;
        node.name = string_member(n, "name", where);
        if (node.name.find(':') != std::string::npos)
            fail_format("graph: node name '" + node.name + "' must not contain ':'");
        node.op = string_member(n, "op", where + " ('" + node.name + "')");
        for (const json& in : array_member(n, "inputs", true)) {
            if (!in.is_string())
                fail_format("graph: node '" + node.name + "': inputs must be strings");
            node.inputs.push_back(in.get<std::string>());
        }
        if (n.contains("attrs")) {
            if (!n["attrs"].is_object())
                fail_format("graph: node '" + node.name + "': attrs must be an object");
            node.attrs = n["attrs"];
        }
        if (n.contains("weights")) {
            if (!n["weights"].is_object())
                fail_format("graph: node '" + node.name + "': weights must be an object");
            for (const auto& [role, tensor] : n["weights"].items()) {
                if (!tensor.is_string())
                    fail_format("graph: node '" + node.name + "': weight '" + role +
                                "' must name a tensor");
                node.weights[role] = tensor.get<std::string>();
            }
        }
        if (!names.insert(node.name).second)
            fail_format("graph: duplicate name '" + node.name + "'");
        g.nodes.push_back(std::move(node));
    }
    if (j.contains("meta")) {
        if (!j["meta"].is_object())
            fail_format("graph: 'meta' must be an object");
        g.meta = j["meta"];
    }
    return g;
}

json graph_to_json(const GraphDef& g) {
    json j;
    j["inputs"] = json::array();
    for (const auto& p : g.inputs)
        j["inputs"].push_back(port_to_json(p, true));
    j["outputs"] = json::array();
    for (const auto& p : g.outputs)
        j["outputs"].push_back(port_to_json(p, false));
    j["params"] = json::array();
    for (const auto& p : g.params)
        j["params"].push_back({{"name", p.name},
                               {"min", p.min_value},
                               {"max", p.max_value},
                               {"default", p.default_value},
                               {"unit", p.unit}});
    j["nodes"] = json::array();
    for (const auto& n : g.nodes) {
        json node = {{"name", n.name}, {"op", n.op}, {"inputs", n.inputs}, {"attrs", n.attrs}};
        node["weights"] = json::object();
        for (const auto& [role, tensor] : n.weights)
            node["weights"][role] = tensor;
        j["nodes"].push_back(node);
    }
    j["meta"] = g.meta;
    return j;
}

} // namespace rill
