// The import options of `rill convert` (and --import-options of run/vad/info) as the JSON text
// rill_load_options.import_options takes (keys in docs/onnx.md).
#pragma once

#include <string>

#include "commands.hpp"
#include "rill/rill.hpp"

namespace rill::cli {

// Takes --import-options JSON and the per-key flags (--sample-rate, --frontend, --n-fft, --hop,
// --window-size, --window, --pad-mode, --bind NAME=V[,V..], --dim NAME=N, --shape NAME=A,B..,
// --state IN=OUT, --stream-axis 2) from args; returns "" when none was given.
std::string take_import_options(Args& args);

// Loads a model file through the C API with those options ("" = none).
Model load_model(const std::string& path, const std::string& import_options);

} // namespace rill::cli
