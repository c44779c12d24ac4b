// Command line of the webcam demo.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "capture.hpp"

namespace webcam {

struct Options {
    SourceSpec source;
    std::string model;          // "" = no segmentation (the frame is shown as it is)
    std::string import_options; // JSON for models imported on load
    int blur = 12;              // background blur radius, 0 = none
    std::string background;     // replacement background image
    bool smoothing_set = false;
    float smoothing = 0;
    std::vector<std::pair<std::string, float>> params; // --param NAME=VALUE
    bool headless = false;
    std::string out_dir;
    bool write_mask = false;
    long frames = 0; // 0 = until the source ends or the window closes
    bool loop = false;
    bool overlay = true;
    bool show_mask = false;
};

extern const char* const usage_text;

// Parses argv; on a usage error returns false with `error` set. `help` is set for -h / --help.
bool parse_options(int argc, char** argv, Options& options, bool& help, std::string& error);

} // namespace webcam
