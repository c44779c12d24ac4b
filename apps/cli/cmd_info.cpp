// rill info MODEL [--json]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "import_options.hpp"
#include "rill/rill.hpp"

namespace rill::cli {
namespace {

// Whole rates (all audio rates) as JSON integers: 16000, not 16000.0.
nlohmann::ordered_json rate_json(double hz) {
    if (hz == std::floor(hz) && hz >= 0 && hz < 1e15)
        return static_cast<int64_t>(hz);
    return hz;
}

} // namespace

int cmd_info(const Args& in_args) {
    Args args = in_args;
    const bool json = take_flag(args, "--json");
    const std::string options = take_import_options(args);
    expect_positional(args, 1, "MODEL");
    const std::string path = args[0];
    const Model model = load_model(path, options);
    const rill_model_info info = model.info();
    rill_stream_config config; // a default stream: its latency and memory are what a host gets
    rill_stream_config_init(&config);
    const Stream stream(model, config);
    const double rate = info.sample_rate;

    nlohmann::ordered_json j;
    j["path"] = path;
    j["description"] = info.description;
    j["license"] = info.license;
    j["source"] = info.source;
    j["sample_rate"] = rate_json(rate);
    for (const char* key : {"inputs", "outputs"}) {
        j[key] = nlohmann::json::array();
        for (const Port& p : key[0] == 'i' ? model.inputs() : model.outputs()) {
            const char* kind = p.kind == RILL_KIND_AUDIO ? "audio" : p.kind == RILL_KIND_IMAGE ? "image" : "frames";
            j[key].push_back({{"name", p.name}, {"kind", kind}, {"channels", p.channels},
                              {"sample_rate", rate_json(p.sample_rate)}});
            if (p.kind == RILL_KIND_IMAGE)
                j[key].back().update({{"width", p.width}, {"height", p.height}, {"planes", p.planes}});
        }
    }
    j["params"] = nlohmann::json::array();
    for (const Param& p : model.params())
        j["params"].push_back({{"name", p.name}, {"min", p.min_value}, {"max", p.max_value},
                               {"default", p.default_value}, {"unit", p.unit}});
    std::map<std::string, int> counts;
    j["ops"] = nlohmann::json::array();
    for (const Node& n : model.nodes()) {
        ++counts[n.op];
        j["ops"].push_back({{"name", n.name}, {"op", n.op}, {"channels", n.channels},
                            {"rate", std::to_string(n.rate_num) + "/" + std::to_string(n.rate_den)},
                            {"latency", n.latency}});
    }
    j["op_counts"] = counts;
    j["latency_frames"] = stream.latency_frames();
    j["latency_ms"] = 1000.0 * stream.latency_frames() / rate;
    j["hop_frames"] = info.hop_frames;
    j["weights"] = info.num_weights;
    j["stream_memory_bytes"] = stream.memory_bytes();
    const bool image = !model.inputs().empty() && model.inputs()[0].kind == RILL_KIND_IMAGE;
    j["stream_max_block_frames"] = image ? 1u : config.max_block_frames; // image streams: a frame per call
    if (json) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("%s\n", path.c_str());
    if (*info.description)
        std::printf("  %s\n", info.description);
    if (*info.license)
        std::printf("  license: %s\n", info.license);
    for (const char* key : {"inputs", "outputs"})
        for (const auto& p : j[key]) {
            if (p["kind"] == "image")
                std::printf("  %-7s %s: image %ux%u, %u plane(s) at %g frames/s\n", key[0] == 'i' ? "input" : "output",
                            p["name"].get<std::string>().c_str(), p["width"].get<unsigned>(),
                            p["height"].get<unsigned>(), p["planes"].get<unsigned>(), p["sample_rate"].get<double>());
            else
                std::printf("  %-7s %s: %s, %u channel(s) at %g Hz\n", key[0] == 'i' ? "input" : "output",
                            p["name"].get<std::string>().c_str(), p["kind"].get<std::string>().c_str(),
                            p["channels"].get<unsigned>(), p["sample_rate"].get<double>());
        }
    for (const Param& p : model.params())
        std::printf("  param   %s: %g .. %g, default %g %s\n", p.name.c_str(), p.min_value,
                    p.max_value, p.default_value, p.unit.c_str());
    std::printf("  ops     %zu nodes:", j["ops"].size());
    for (const auto& [op, n] : counts)
        std::printf(" %s x%d", op.c_str(), n);
    std::printf("\n  latency %u frames (%.2f ms), hop %u frames\n", stream.latency_frames(),
                j["latency_ms"].get<double>(), info.hop_frames);
    std::printf("  weights %llu, memory per stream %zu bytes (max block %u frames)\n",
                static_cast<unsigned long long>(info.num_weights), stream.memory_bytes(),
                j["stream_max_block_frames"].get<unsigned>());
    return 0;
}

} // namespace rill::cli
