#include "rill/core/model_file.hpp"

#include <fstream>
#include <iterator>
#include <vector>

#include "rill/core/error.hpp"
#include "rill/core/import_onnx.hpp"
#include "rill/core/import_rwkv.hpp"
#include "tflite/tflite_model.hpp"

namespace rill {
namespace {

nlohmann::json parse_options(const std::string& text) {
    if (text.empty())
        return nullptr;
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        fail_argument(std::string("import options are not valid JSON: ") + e.what());
    }
}

void no_options(const std::string& text, const char* format) {
    if (!text.empty())
        fail_argument(std::string("import options were given for a ") + format + " file");
}

} // namespace

// TFLite models are image models: their frames need the image ports of the C API, which do not
// exist yet (the importer itself is core/src/import/tflite/, used by the tests and benchmarks).
[[noreturn]] void tflite_not_loadable() {
    fail_unsupported("TFLite models (image models) cannot be loaded as streams yet: the C API has no "
                     "image frame ports; see docs/tflite.md");
}

RillFile read_model_memory(const void* data, size_t size, const std::string& import_options) {
    if (tflite_import::looks_like_tflite(data, size))
        tflite_not_loadable();
    if (is_rwkv_cpp(data, size)) {
        no_options(import_options, "rwkv.cpp");
        return import_rwkv_cpp_memory(data, size);
    }
    if (is_onnx_model(data, size))
        return import_onnx_memory(data, size, OnnxImportOptions::from_json(parse_options(import_options)));
    no_options(import_options, ".rill");
    return read_rill_memory(data, size);
}

RillFile read_model_file(const std::string& path, const std::string& import_options) {
    unsigned char head[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    {
        std::ifstream in(path, std::ios::binary);
        if (in)
            in.read(reinterpret_cast<char*>(head), sizeof head);
    }
    if (tflite_import::looks_like_tflite(head, sizeof head))
        tflite_not_loadable();
    if (is_rwkv_cpp(head, sizeof head)) {
        no_options(import_options, "rwkv.cpp");
        return import_rwkv_cpp_file(path);
    }
    if (is_onnx_model(head, sizeof head))
        return import_onnx_file(path, OnnxImportOptions::from_json(parse_options(import_options)));
    no_options(import_options, ".rill");
    return read_rill_file(path);
}

} // namespace rill
