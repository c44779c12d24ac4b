// Reader of the rwkv.cpp file layout (little-endian): magic 0x67676d66, version, n_vocab,
// n_embed, n_layer, data type; then tensors, each: dim count (1..3), name length, data type
// (0 FP32, 1 FP16; others are quantized formats), sizes innermost first, name, data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rill::rwkv {

struct FileTensor {
    std::vector<int64_t> shape; // outermost first (a PyTorch shape)
    std::vector<float> values;  // row-major, converted to float32
};

struct File {
    uint32_t version = 0, n_vocab = 0, n_embed = 0, n_layer = 0;
    std::map<std::string, FileTensor> tensors;

    const FileTensor& get(const std::string& name) const; // throws naming the tensor
    bool has(const std::string& name) const { return tensors.count(name) != 0; }
};

inline constexpr uint32_t kMagic = 0x67676d66;

File read_file(const void* data, size_t size);

} // namespace rill::rwkv
