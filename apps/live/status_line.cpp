#include "status_line.hpp"

#include <cstdio>

namespace rill::live {
namespace {

template <typename... Args> std::string format(const char* fmt, Args... args) {
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, fmt, args...);
    return buffer;
}

uint32_t total_latency(const Figures& f) {
    return f.playing.latency + f.device.capture + f.device.playback;
}

double ms(uint32_t frames, uint32_t rate) {
    return rate ? 1000.0 * frames / rate : 0.0;
}

} // namespace

std::string playing_line(const Playing& p) {
    std::string line =
        format("frame %u: playing %s (latency %u frames", p.frame, p.label.c_str(), p.latency);
    if (p.model_rate && p.model_rate != p.device_rate)
        line += format("; the model runs at %u Hz, resampled from and to %u Hz", p.model_rate,
                       p.device_rate);
    return line + ")";
}

std::string status_line(const Figures& f) {
    std::string line = format(
        "[%4.0f s] %s | latency %u = model %u + in %u + out %u frames (%.2f ms) | DSP p50 %.1f%% "
        "p99 %.1f%% max %.1f%% | xruns %llu",
        f.seconds, f.playing.label.c_str(), total_latency(f), f.playing.latency, f.device.capture,
        f.device.playback, ms(total_latency(f), f.sample_rate), 100.0 * f.load.p50,
        100.0 * f.load.p99, 100.0 * f.load.max, static_cast<unsigned long long>(f.xruns));
    if (f.counting_allocations)
        line += format(" | allocations %llu", static_cast<unsigned long long>(f.allocations));
    return line;
}

std::string segment_line(const std::string& label, const LoadSummary& load) {
    return format("%s played: DSP p50 %.1f%% p99 %.1f%% max %.1f%% (%zu callbacks)", label.c_str(),
                  100.0 * load.p50, 100.0 * load.p99, 100.0 * load.max, load.count);
}

std::string summary_line(const Figures& f) {
    std::string line = format(
        "summary: seconds=%.1f callbacks=%llu dsp_p50=%.2f%% dsp_p99=%.2f%% dsp_max=%.2f%% "
        "xruns=%llu overruns=%llu switches=%llu latency_model=%u latency_in=%u latency_out=%u "
        "latency_total=%u",
        f.seconds, static_cast<unsigned long long>(f.callbacks), 100.0 * f.load.p50,
        100.0 * f.load.p99, 100.0 * f.load.max, static_cast<unsigned long long>(f.xruns),
        static_cast<unsigned long long>(f.overruns), static_cast<unsigned long long>(f.switches),
        f.playing.latency, f.device.capture, f.device.playback, total_latency(f));
    if (f.counting_allocations)
        line += format(" allocations=%llu", static_cast<unsigned long long>(f.allocations));
    return line;
}

} // namespace rill::live
