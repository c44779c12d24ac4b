// The .rill file (docs/format.md): a safetensors container. 8-byte little-endian header length,
// a JSON header mapping tensor names to {dtype, shape, data_offsets}, then the tensor bytes.
// `__metadata__` holds "rill.format" (version) and "rill.graph" (the graph JSON as a string).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "rill/core/graph.hpp"
#include "rill/core/tensor.hpp"

namespace rill {

inline constexpr int kRillFormatVersion = 1;

struct RillFile {
    GraphDef graph;
    TensorMap tensors;
};

// Validates everything (sizes, offsets, overlaps, dtypes, shapes, finite values, graph
// structure) and throws CoreError{Format|Io|Unsupported} with a message naming the field.
RillFile read_rill_memory(const void* data, size_t size);
RillFile read_rill_file(const std::string& path);

// Float32 tensors, 64-byte aligned.
std::vector<unsigned char> write_rill_memory(const RillFile& file);
void write_rill_file(const RillFile& file, const std::string& path);

} // namespace rill
