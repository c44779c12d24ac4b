// What runs in the audio callback, apart from the audio API: input -> AudioEngine (the model,
// its handover and crossfade, non-finite samples zeroed) -> output, timed against the period.
// It reports through lock-free rings and atomics only: each callback's DSP load, and the frame
// at which the engine took a new model. With count_allocations, every callback counts the heap
// allocations and frees of its own thread (apps/cli/alloc_counter.hpp); there must be none.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "engine/audio_engine.hpp"
#include "spsc_ring.hpp"

namespace rill::live {

// The engine took its n-th runner (n = `taken`) in the period that starts at `frame`.
struct SwitchEvent {
    uint64_t taken = 0;
    uint32_t frame = 0;   // the audio API's frame clock (JACK: jack_last_frame_time)
    uint32_t latency = 0; // the new runner's latency in device frames
};

class LiveProcessor {
public:
    LiveProcessor(plugin::AudioEngine& engine, uint32_t channels, bool count_allocations);

    // The audio thread. in[c] and out[c] for c < channels, `frames` long (in may alias out).
    // Real-time safe.
    void process(const float* const* in, float* const* out, uint32_t frames, uint32_t frame_time,
                 uint32_t sample_rate) noexcept;

    // Any thread but the audio thread; each ring has one consumer.
    bool pop_load(float& load) noexcept { return loads_.pop(load); }
    bool pop_switch(SwitchEvent& event) noexcept { return switches_.pop(event); }
    uint64_t callbacks() const noexcept { return callbacks_.load(std::memory_order_relaxed); }
    // Callbacks that took longer than their period.
    uint64_t overruns() const noexcept { return overruns_.load(std::memory_order_relaxed); }
    uint64_t allocations() const noexcept { return allocations_.load(std::memory_order_relaxed); }
    bool counting_allocations() const noexcept { return count_allocations_; }

private:
    plugin::AudioEngine& engine_;
    const uint32_t channels_;
    const bool count_allocations_;
    plugin::Controls controls_;
    SpscRing<float> loads_;
    SpscRing<SwitchEvent> switches_;
    std::atomic<uint64_t> callbacks_{0}, overruns_{0}, allocations_{0};
};

} // namespace rill::live
