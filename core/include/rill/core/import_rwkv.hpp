// Import of rwkv.cpp model files (RWKV v5.2 and v7, FP32 or FP16) as Rill token models: one input
// `tokens` (1 channel, a byte/token id per frame), one output `logits` (n_vocab channels), the
// time mixing on the linear_attention op (variants rwkv5 / rwkv7), token shift as a 1-frame
// delay. The graph's meta says {"kind": "token_model", "architecture", "vocab", ...}.
#pragma once

#include <cstddef>
#include <string>

#include "rill/core/rill_file.hpp"

namespace rill {

// True when the bytes start with the rwkv.cpp magic ("ggmf" little-endian).
bool is_rwkv_cpp(const void* data, size_t size);

// Throws CoreError{Format} (truncated or inconsistent file, missing tensors, naming what) or
// CoreError{Unsupported} (quantized tensors, RWKV v4/v5.1/v6).
RillFile import_rwkv_cpp_memory(const void* data, size_t size);
RillFile import_rwkv_cpp_file(const std::string& path);
inline RillFile import_rwkv_cpp(const std::string& path) {
    return import_rwkv_cpp_file(path);
}

} // namespace rill
