// The two ways an ONNX graph becomes a streaming model: a tensor program run per frame
// (onnx_import.cpp: fixed-shape graphs with explicit state, GTCRN, Silero) or Rill's own streaming
// ops over a symbolic time axis (onnx_time_axis.cpp: fully convolutional exports).
#pragma once

#include "onnx_graph.hpp"
#include "rill/core/rill_file.hpp"

namespace rill::onnx_import {

// [N, C, T] with C fixed and T symbolic.
bool has_time_axis(const ValueInfo& v);
RillFile import_time_axis(const OnnxModel& m, const ValueInfo& input, double sample_rate);

} // namespace rill::onnx_import
