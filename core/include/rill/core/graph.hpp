// Graph IR: what a .rill file (or an importer) describes, before planning.
//
// Node outputs are named: output 0 of node "enc" is "enc", output i > 0 is "enc:i". Graph inputs
// are named by their port name. A graph output takes its data from `source` (default: its name).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rill {

// Largest image port: planes * height * width values (64 MiB of floats).
inline constexpr uint32_t kMaxImageValues = 1u << 24;

struct PortDef {
    std::string name;
    std::string kind = "audio"; // "audio", "frames" or "image"
    uint32_t channels = 1;      // image: planes * height * width, planar (plane-major, rows)
    double sample_rate = 0;     // inputs: required; outputs: derived by the planner
    std::string source;         // outputs only: node output feeding this port
    uint32_t width = 0;         // image ports only
    uint32_t height = 0;
};

struct ParamDef {
    std::string name;
    float min_value = 0;
    float max_value = 1;
    float default_value = 0;
    std::string unit;
};

struct NodeDef {
    std::string name;
    std::string op;
    std::vector<std::string> inputs;
    nlohmann::json attrs = nlohmann::json::object();
    std::map<std::string, std::string> weights; // role in the op -> tensor name in the file
};

struct GraphDef {
    std::vector<PortDef> inputs;
    std::vector<PortDef> outputs;
    std::vector<ParamDef> params;
    std::vector<NodeDef> nodes;
    nlohmann::json meta = nlohmann::json::object();
};

// JSON <-> IR. from_json validates structure and names (throws CoreError{Format} naming the field).
GraphDef graph_from_json(const nlohmann::json& j);
nlohmann::json graph_to_json(const GraphDef& g);

// "enc:1" -> {"enc", 1}; "enc" -> {"enc", 0}.
std::pair<std::string, uint32_t> split_output_ref(const std::string& ref);

} // namespace rill
