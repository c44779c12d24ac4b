// rill convert IN OUT.rill: imports a model file of another format (detected from its first
// bytes; today rwkv.cpp model files) and writes it as .rill, then loads the result through the
// C API to prove it runs.
#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "rill/core/import_rwkv.hpp"
#include "rill/core/rill_file.hpp"
#include "rill/rill.h" // the C API (rill.hpp's rill::Error would clash with the core's)

namespace rill::cli {

int cmd_convert(const Args& in_args) {
    Args args = in_args;
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
    if (!is_rwkv_cpp(head, sizeof head))
        throw std::runtime_error("'" + in + "': unsupported input format (rill convert reads "
                                 "rwkv.cpp model files; .rill files need no conversion)");
    const RillFile file = import_rwkv_cpp_file(in);
    write_rill_file(file, out);
    // The written file loads and plans through the C API.
    rill_model* model = nullptr;
    if (rill_model_load(out.c_str(), nullptr, &model) != RILL_OK)
        throw std::runtime_error("the written '" + out + "' does not load: " +
                                 rill_last_error_detail());
    rill_model_info info;
    rill_model_info_init(&info);
    rill_model_info_get(model, &info);
    rill_model_release(model);
    const auto& meta = file.graph.meta;
    std::printf("converted %s -> %s\n", in.c_str(), out.c_str());
    std::printf("  %s\n", meta.value("description", std::string()).c_str());
    std::printf("  %zu nodes, %llu weights, %u input channel(s), %u outputs, file %llu bytes\n",
                file.graph.nodes.size(), static_cast<unsigned long long>(info.num_weights),
                info.input_channels, info.output_channels,
                static_cast<unsigned long long>(std::filesystem::file_size(out)));
    return 0;
}

} // namespace rill::cli
