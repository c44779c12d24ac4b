// Person segmentation through the Rill C API: one image model (MediaPipe selfie segmentation,
// SINet, ...) and one stream; each call turns a BGR8 frame into a GRAY8 person mask of the same
// size (the library resamples the frame to the model's input and the mask back).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rill/rill.h"

namespace webcam {

class Segmenter {
public:
    Segmenter() = default;
    Segmenter(const Segmenter&) = delete;
    Segmenter& operator=(const Segmenter&) = delete;
    ~Segmenter();

    // Loads `path` (import_options: JSON for files imported on load, or "" for none) and creates
    // the stream. False with `error` naming the file and what was wrong.
    bool load(const std::string& path, const std::string& import_options, std::string& error);

    // Sets a model parameter by name (e.g. "smoothing"); false with `error` when the model has no
    // such parameter.
    bool set_param(const std::string& name, float value, std::string& error);

    // mask: width * height bytes. Not thread-safe (one stream). False when the library refuses
    // the frame (error set; the mask is then left unchanged).
    bool process(const uint8_t* bgr, int width, int height, uint8_t* mask, std::string& error);

    // "256x256 RGB -> 256x256 mask" and the model's description, for the read-out.
    std::string summary() const;
    std::vector<std::string> param_names() const;

private:
    rill_model* model_ = nullptr;
    rill_stream* stream_ = nullptr;
    rill_image_info input_{};
    rill_image_info output_{};
    std::vector<const rill_image*> outputs_; // one entry per model output, [0] the mask
};

} // namespace webcam
