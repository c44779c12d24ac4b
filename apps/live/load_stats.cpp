#include "load_stats.hpp"

#include <algorithm>
#include <cmath>

namespace rill::live {
namespace {

// The value at rank ceil(q * n) (1-based) of n values, by partial sort.
float percentile(std::vector<float>& values, double q) {
    const size_t n = values.size();
    const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * n)));
    const auto at = values.begin() + static_cast<std::ptrdiff_t>(std::min(rank, n) - 1);
    std::nth_element(values.begin(), at, values.end());
    return *at;
}

} // namespace

LoadSummary summarize(std::vector<float> values) {
    LoadSummary s;
    s.count = values.size();
    if (values.empty())
        return s;
    s.max = *std::max_element(values.begin(), values.end());
    s.p50 = percentile(values, 0.50);
    s.p99 = percentile(values, 0.99);
    return s;
}

void LoadStats::add(float load) {
    window_.push_back(load);
    // The run's summary covers its first 2^24 callbacks (64 MB; 6 hours at 48 kHz, 64 frames).
    if (all_.size() < (size_t{1} << 24))
        all_.push_back(load);
}

LoadSummary LoadStats::take_window() {
    LoadSummary s = summarize(window_);
    window_.clear();
    return s;
}

} // namespace rill::live
