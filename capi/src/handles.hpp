// What the opaque C handles hold.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "rill/core/model.hpp"
#include "rill/core/stream.hpp"
#include "rill/rill.h"

struct rill_model {
    std::shared_ptr<const rill::Model> model;
    std::atomic<int> refs{1};
    std::string description, license, source; // stable C strings for rill_model_info
};

// Planar frames of an image stream's ports, taken at creation (rill_stream_process_image).
struct ImageFrames {
    std::vector<float> in, out;           // all input / output channels, 1 frame each
    std::vector<const float*> in_channels; // in_channels[c] = &in[c]
    std::vector<float*> out_channels;
};

struct rill_stream {
    std::unique_ptr<rill::Stream> stream;
    rill_model* model = nullptr; // retained
    ImageFrames image;           // empty unless the model has image ports
};
