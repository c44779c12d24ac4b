#include "rill/core/model_file.hpp"

#include <fstream>

#include "rill/core/error.hpp"
#include "rill/core/import_rwkv.hpp"

namespace rill {

RillFile read_model_file(const std::string& path) {
    unsigned char head[4] = {0, 0, 0, 0};
    {
        std::ifstream in(path, std::ios::binary);
        if (in)
            in.read(reinterpret_cast<char*>(head), sizeof head);
    }
    if (is_rwkv_cpp(head, sizeof head))
        return import_rwkv_cpp_file(path);
    return read_rill_file(path);
}

RillFile read_model_memory(const void* data, size_t size) {
    if (is_rwkv_cpp(data, size))
        return import_rwkv_cpp_memory(data, size);
    return read_rill_memory(data, size);
}

} // namespace rill
