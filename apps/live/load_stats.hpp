// DSP load figures: the time the audio callback took divided by the period it had (1 = 100%:
// the callback used the whole period). The display thread adds the values the callback measured
// and asks for percentiles of the last window (the status line) and of the whole run (the
// summary). Not for the audio thread.
#pragma once

#include <cstddef>
#include <vector>

namespace rill::live {

struct LoadSummary {
    size_t count = 0;
    float p50 = 0, p99 = 0, max = 0; // fractions of the period
};

// Percentiles by rank (nearest rank, no interpolation) of `values` (taken by value: reordered).
LoadSummary summarize(std::vector<float> values);

class LoadStats {
public:
    void add(float load);
    // The values added since the last call; starts a new window.
    LoadSummary take_window();
    LoadSummary total() const { return summarize(all_); }

private:
    std::vector<float> window_, all_;
};

} // namespace rill::live
