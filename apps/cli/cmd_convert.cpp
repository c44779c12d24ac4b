// rill convert IN OUT.rill [import options]: imports a model file of another format (detected
// from its first bytes: ONNX models, TFLite image models, rwkv.cpp model files) and writes it as
// .rill, then loads the result through the C API to prove it runs. Import options
// (import_options.hpp) configure the ONNX and TFLite importers' wrappers.
//
// The input is first loaded through the C API (the same importer behind librill's boundary,
// reporting through rill_last_error_detail), so a bad file gives the library's message; the core
// import then runs on a file known to be good and the result is written here.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "commands.hpp"
#include "import_options.hpp"
#include "rill/core/import_onnx.hpp"
#include "rill/core/import_rwkv.hpp"
#include "rill/core/import_tflite.hpp"
#include "rill/core/model_file.hpp"
#include "rill/core/rill_file.hpp"
#include "rill/rill.h"

namespace rill::cli {
namespace {

// Loads `path` through the C API; throws std::runtime_error with the library's detail.
rill_model_info load_info(const std::string& path, const std::string& what,
                          const std::string& import_options = "") {
    rill_load_options opts;
    rill_load_options_init(&opts);
    opts.import_options = import_options.empty() ? nullptr : import_options.c_str();
    rill_model* model = nullptr;
    if (rill_model_load(path.c_str(), &opts, &model) != RILL_OK)
        throw std::runtime_error(what + rill_last_error_detail());
    rill_model_info info;
    rill_model_info_init(&info);
    rill_model_info_get(model, &info);
    rill_model_release(model);
    return info;
}

} // namespace

int cmd_convert(const Args& in_args) {
    Args args = in_args;
    const std::string options = take_import_options(args);
    expect_positional(args, 2, "IN OUT.rill");
    const std::string in = args[0], out = args[1];
    unsigned char head[4] = {0, 0, 0, 0};
    if (std::FILE* f = std::fopen(in.c_str(), "rb")) {
        const size_t got = std::fread(head, 1, sizeof head, f);
        std::fclose(f);
        if (got < sizeof head)
            throw std::runtime_error("'" + in + "' is too short to be a model file");
    } else {
        throw std::runtime_error("cannot open '" + in + "'");
    }
    const bool onnx = is_onnx_model(head, sizeof head), tflite = is_tflite_model(head, sizeof head);
    if (!is_rwkv_cpp(head, sizeof head) && !onnx && !tflite)
        throw std::runtime_error("'" + in +
                                 "': unsupported input format (rill convert reads ONNX models, TFLite "
                                 "models and rwkv.cpp model files; .rill files need no conversion)");
    if (!onnx && !tflite && !options.empty())
        usage_error("import options apply to ONNX and TFLite models only");
    load_info(in, "'" + in + "': ", options);
    const RillFile file = read_model_file(in, options);
    const std::vector<unsigned char> bytes = write_rill_memory(file);
    {
        std::ofstream o(out, std::ios::binary);
        o.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        if (!o)
            throw std::runtime_error("cannot write '" + out + "'");
    }
    // The written file loads and plans through the C API.
    const rill_model_info info = load_info(out, "the written '" + out + "' does not load: ");
    const auto& meta = file.graph.meta;
    auto number = [&](const char* key) {
        return static_cast<unsigned long long>(meta.value(key, uint64_t(0)));
    };
    std::printf("converted %s -> %s\n", in.c_str(), out.c_str());
    std::printf("  %s\n", meta.value("description", std::string()).c_str());
    if (!onnx && !tflite)
        std::printf("  architecture %s, %llu layers, d_model %llu, %llu heads, vocabulary %llu\n",
                    meta.value("architecture", std::string("?")).c_str(), number("n_layer"),
                    number("n_embed"), number("heads"), number("vocab"));
    if (onnx || tflite)
        std::printf("  graph of %zu nodes, %llu weights; %u input channel(s), %u outputs; latency %u "
                    "frames at %g Hz; file %llu bytes\n",
                    file.graph.nodes.size(), static_cast<unsigned long long>(info.num_weights),
                    info.input_channels, info.output_channels, info.latency_frames, info.sample_rate,
                    static_cast<unsigned long long>(bytes.size()));
    else
        std::printf("  %llu parameters; graph of %zu nodes, %llu weights; %u input channel(s), %u "
                    "outputs; file %llu bytes\n",
                    number("parameters"), file.graph.nodes.size(),
                    static_cast<unsigned long long>(info.num_weights), info.input_channels,
                    info.output_channels, static_cast<unsigned long long>(bytes.size()));
    return 0;
}

} // namespace rill::cli
