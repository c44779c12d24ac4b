// Every model file format Rill reads, detected from the first bytes: .rill (docs/format.md) and
// the formats imported on load (rwkv.cpp model files, ONNX models). Throws like read_rill_file.
// `import_options` (a JSON object, may be empty) configures importers (see import_onnx.hpp);
// it is an error to give options for a .rill file.
#pragma once

#include <cstddef>
#include <string>

#include "rill/core/rill_file.hpp"

namespace rill {

RillFile read_model_file(const std::string& path, const std::string& import_options = "");
RillFile read_model_memory(const void* data, size_t size, const std::string& import_options = "");

} // namespace rill
