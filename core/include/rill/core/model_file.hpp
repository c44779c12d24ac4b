// Every model file format Rill reads, detected from the first bytes: .rill (docs/format.md) and
// the formats imported on load (rwkv.cpp model files). Throws like read_rill_file.
#pragma once

#include <cstddef>
#include <string>

#include "rill/core/rill_file.hpp"

namespace rill {

RillFile read_model_file(const std::string& path);
RillFile read_model_memory(const void* data, size_t size);

} // namespace rill
