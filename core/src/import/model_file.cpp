#include "rill/core/model_file.hpp"

#include <fstream>
#include <iterator>
#include <vector>

#include "rill/core/error.hpp"
#include "rill/core/import_onnx.hpp"
#include "rill/core/import_rwkv.hpp"
#include "rill/core/import_tflite.hpp"

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

RillFile read_model_memory(const void* data, size_t size, const std::string& import_options) {
    if (is_tflite_model(data, size))
        return import_tflite_memory(data, size, parse_options(import_options));
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
    if (is_tflite_model(head, sizeof head)) {
        std::ifstream in(path, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return import_tflite_memory(bytes.data(), bytes.size(), parse_options(import_options));
    }
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
