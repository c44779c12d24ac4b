#include "live_processor.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "alloc_counter.hpp"

namespace rill::live {

LiveProcessor::LiveProcessor(plugin::AudioEngine& engine, uint32_t channels, bool count_allocations)
    // Two seconds of callbacks at 64-frame periods, in case the display thread stalls.
    : engine_(engine), channels_(channels), count_allocations_(count_allocations), loads_(1500),
      switches_(64) {
    // No parameter controls here: every model plays at its own defaults.
    controls_.drive_params = false;
}

void LiveProcessor::process(const float* const* in, float* const* out, uint32_t frames,
                            uint32_t frame_time, uint32_t sample_rate) noexcept {
    const auto started = std::chrono::steady_clock::now();
    std::optional<alloc::ThreadScope> counting;
    if (count_allocations_)
        counting.emplace();

    // The engine works in place: the output buffers carry the input in.
    for (uint32_t c = 0; c < channels_; ++c)
        if (out[c] != in[c])
            std::copy(in[c], in[c] + frames, out[c]);
    const uint64_t taken_before = engine_.runners_taken();
    engine_.process(out, channels_, frames, controls_);
    const uint64_t taken = engine_.runners_taken();
    if (taken != taken_before)
        switches_.push(SwitchEvent{taken, frame_time, engine_.latency_frames()});

    if (counting) {
        allocations_.fetch_add(counting->count(), std::memory_order_relaxed);
        counting.reset();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const float load = frames > 0 ? static_cast<float>(seconds * sample_rate / frames) : 0.0f;
    loads_.push(load);
    if (load > 1.0f)
        overruns_.fetch_add(1, std::memory_order_relaxed);
    callbacks_.fetch_add(1, std::memory_order_relaxed);
}

} // namespace rill::live
