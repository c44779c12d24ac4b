// The lines rill-live prints: what plays from which frame, the once-a-second status (for people)
// and the summary at exit (key=value, for scripts such as the test).
#pragma once

#include <cstdint>
#include <string>

#include "jack_host.hpp"
#include "load_stats.hpp"
#include "model_switcher.hpp"

namespace rill::live {

struct Figures {
    double seconds = 0;
    Playing playing;
    DeviceLatency device;
    uint32_t sample_rate = 0;
    LoadSummary load;
    uint64_t xruns = 0, overruns = 0, allocations = 0, callbacks = 0, switches = 0;
    bool counting_allocations = false;
};

// "frame 123456: playing drive_tcn (latency 64 frames)"
std::string playing_line(const Playing& p);
// "[  3 s] drive_tcn | latency 576 = model 64 + in 256 + out 256 frames (12.00 ms) | DSP ..."
std::string status_line(const Figures& f);
// "drive_tcn played: DSP p50 9.4% p99 15.1% max 15.6% (187 callbacks)", when it stops playing.
std::string segment_line(const std::string& label, const LoadSummary& load);
// "summary: callbacks=... dsp_p50=... latency_total=..."
std::string summary_line(const Figures& f);

} // namespace rill::live
