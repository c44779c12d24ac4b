// Per-frame timings of a run (model time, end-to-end latency) and their summary.
#pragma once

#include <string>
#include <vector>

namespace webcam {

// q-quantile (0..1) by linear interpolation between order statistics; 0 for no samples.
double percentile(std::vector<double> values, double q);

struct RunStats {
    std::vector<double> model_ms;      // rill_stream_process_image per frame
    std::vector<double> end_to_end_ms; // capture timestamp -> frame shown (or ready, headless)
    std::vector<double> write_ms;      // headless: PNG writing, outside end-to-end
    double seconds = 0;                // wall time from the first frame read to the last output

    size_t frames() const { return end_to_end_ms.size(); }
    // Frames per second between the first capture and the last output.
    double fps() const { return frames() > 1 && seconds > 0 ? (frames() - 1) / seconds : 0; }
    // JSON object with frame count, fps, p50 / p99 / mean of each timing.
    std::string json(const std::string& source, const std::string& model, const std::string& effect,
                     int width, int height, bool headless) const;
    // One line for the terminal.
    std::string line() const;
};

} // namespace webcam
