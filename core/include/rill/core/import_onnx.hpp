// ONNX import (core/src/import/onnx/): an ONNX model becomes a streaming Rill model.
//
// The graph is lowered to a tensor program (constants folded, `If` branches with constant
// conditions resolved, static shapes) that runs once per frame. Graph inputs/outputs that carry
// state between calls (GRU/LSTM states, convolution caches: GTCRN, Silero VAD, DTLN-style
// exports) become internal stream state. The one remaining data input gets a front end that
// makes frames from audio, and the data output a back end that turns frames back into audio:
//   stft    the input is one STFT frame [.., F, .., 2] (real, imaginary): stft op (n_fft, hop,
//           window, centred) in front, istft behind when an output has the same shape;
//   window  the input is a window of `window_size` samples advanced by `hop` each call (older
//           samples first, as Silero's 64-sample context + 512 new ones): frame op in front;
//   frames  no front end: the input and outputs are frame ports (e.g. feature models, tests).
// Back ends: istft (above); overlap_add when the front end is `window` and a data output holds
// window_size samples per source ([1, W], [1, 1, W], [1, S, W]) and the model has no state (or
// option backend "overlap_add"): the windows' outputs are crossfaded back into S audio channels
// (offline windows mode, docs/offline.md); hold otherwise (one result per window held for the
// window's samples on a frames port).
// Models with the known patterns are recognised without options: an input [1, F, 1, 2] means
// stft with n_fft = 2 (F - 1), hop n_fft / 2, sqrt-Hann (GTCRN); an int64 scalar input `sr` means
// Silero's convention (bound to the sample rate; windows of 512 + 64 samples at 16 kHz,
// 256 + 32 at 8 kHz).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "rill/core/rill_file.hpp"

namespace rill {

struct OnnxImportOptions {
    double sample_rate = 0;                               // 0: 16000
    std::string frontend;                                 // "", "stft", "window", "frames",
                                                          // "time_axis", "image"
    int64_t n_fft = 0, hop = 0, window_size = 0;          // 0: from the recognised pattern
    std::string window = "sqrt_hann";                     // stft window
    std::string pad_mode = "reflect";                     // stft start: torch.stft's reflect
                                                          // (one hop more latency) or constant
    std::string backend;                                  // "", "overlap_add", "hold"
    std::string crossfade = "tukey";                      // overlap_add window: tukey, hann, rect
    std::string align = "none";                           // overlap_add sources: none, permutation
    std::map<std::string, std::vector<double>> bind;      // input -> constant value(s)
    std::map<std::string, int64_t> dims;                  // symbolic dimension -> size
    std::map<std::string, std::vector<int64_t>> shapes;   // input -> full static shape
    std::vector<std::pair<std::string, std::string>> state; // input <- output of the previous frame
    nlohmann::json image = nlohmann::json::object();      // image-model keys (image_model.hpp):
                                                          // frame_rate, mean, std, channel_order,
                                                          // mask_plane, temporal_smoothing, ...

    // From a JSON object with the same keys (the C API's and `rill convert`'s option string).
    // Throws CoreError{InvalidArgument} naming an unknown key or a bad value.
    static OnnxImportOptions from_json(const nlohmann::json& j);
};

bool is_onnx_model(const void* data, size_t size);

RillFile import_onnx_memory(const void* data, size_t size, const OnnxImportOptions& options);
RillFile import_onnx_file(const std::string& path, const OnnxImportOptions& options);

// The tensor program alone (no stream wrapping): every graph input that is not bound or an
// initializer is a program input, every graph output a program output. For operator tests.
struct OnnxProgram {
    nlohmann::json desc;          // tensor program description (tensor/program.hpp)
    TensorMap constants;          // by value name
    std::vector<std::string> inputs, outputs;
    std::vector<std::vector<int64_t>> output_shapes;
};
OnnxProgram import_onnx_program(const void* data, size_t size, const OnnxImportOptions& options);

// Operators the importer supports (default ONNX domain).
std::vector<std::string> onnx_supported_operators();

} // namespace rill
