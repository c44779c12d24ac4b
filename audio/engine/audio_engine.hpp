// The plugin's audio chain, without JUCE: input gain -> model (ModelRunner) -> dry/wet mix with
// the dry path delayed by the model's latency -> output gain -> bypass (to the same delayed dry),
// all smoothed per frame; host blocks of any size are cut into chunks of HostConfig::max_chunk
// (of kParamStepFrames while a model parameter glides).
//
// Model swap: a background thread offers a new runner through a lock-free single slot; the audio
// thread takes it at the start of a block, crossfades from the old runner to it over
// kCrossfadeSeconds, then hands the old one back through a second single slot, from which a
// background thread takes and frees it. The audio thread never allocates, frees, locks or waits.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/linear_ramp.hpp"
#include "engine/model_runner.hpp"

namespace rill::plugin {

constexpr uint32_t kParamSlots = 8;
constexpr uint32_t kMaxChannels = 2;
constexpr double kCrossfadeSeconds = 0.02;
constexpr double kSmoothingSeconds = 0.02;
// While a model parameter glides, chunks are cut this short: the library applies a parameter
// change at the next process call.
constexpr uint32_t kParamStepFrames = 32;

// What the host's controls ask for at this block (targets of the smoothing).
struct Controls {
    float mix = 1.0f;         // 0 = dry only, 1 = wet only
    float input_gain = 1.0f;  // linear
    float output_gain = 1.0f; // linear
    bool bypass = false;
    std::array<float, kParamSlots> slots{}; // normalised 0..1 over each model parameter's range
    // false: the slots are ignored and every runner keeps its model's default parameter values
    // (a host with no parameter controls, e.g. apps/live; a switch then never glides a new model
    // from the previous model's settings).
    bool drive_params = true;
};

class AudioEngine {
public:
    AudioEngine();
    ~AudioEngine();
    AudioEngine(const AudioEngine&) = delete;
    AudioEngine& operator=(const AudioEngine&) = delete;

    // Not on the audio thread and never during process(): sets up for `config` with `runner`
    // (built for it; null = pass-through) as the current runner, no crossfade, the smoothed
    // values set to `controls` at once. Frees every runner held before.
    void prepare(const HostConfig& config, std::unique_ptr<ModelRunner> runner,
                 const Controls& controls);
    const HostConfig& config() const noexcept { return config_; }

    // Any thread but the audio thread. Offers a runner for the audio thread to switch to; gives
    // back the runner offered before that the audio thread had not taken yet (free it). A
    // runner built for another HostConfig is never played: it comes back by take_retired().
    std::unique_ptr<ModelRunner> offer(std::unique_ptr<ModelRunner> runner) noexcept;
    // Any thread but the audio thread: a runner the audio thread is done with, or null.
    std::unique_ptr<ModelRunner> take_retired() noexcept;

    // The audio thread. io[c] for c < channels, processed in place. Real-time safe.
    void process(float* const* io, uint32_t channels, uint32_t frames,
                 const Controls& controls) noexcept;

    // For the editor and tests (any thread).
    float take_input_peak(uint32_t channel) noexcept;
    float take_output_peak(uint32_t channel) noexcept;
    float dsp_load() const noexcept { return dsp_load_.load(std::memory_order_relaxed); }
    uint32_t latency_frames() const noexcept { return latency_.load(std::memory_order_relaxed); }
    uint64_t runners_taken() const noexcept { return taken_.load(std::memory_order_relaxed); }
    uint64_t underruns() const noexcept;

private:
    void take_offered() noexcept;
    // Runs `runner` on scaled_ (model input) and dry_ (raw input, delayed in place) into `out`.
    void render(ModelRunner& runner, uint32_t frames,
                std::vector<std::vector<float>>& out) noexcept;
    void free_all() noexcept;

    HostConfig config_;
    ModelRunner* current_ = nullptr; // owned; touched by the audio thread while playing
    ModelRunner* fading_ = nullptr;  // owned; the runner being faded out
    uint32_t fade_pos_ = 0, fade_frames_ = 1;
    std::atomic<ModelRunner*> offered_{nullptr};
    std::atomic<ModelRunner*> retired_{nullptr};

    LinearRamp mix_, input_gain_, output_gain_, bypass_;
    std::array<LinearRamp, kParamSlots> slots_;
    std::vector<std::vector<float>> scaled_, wet_, dry_, out_a_, out_b_;
    std::vector<float> mix_ramp_, in_ramp_, out_ramp_, bypass_ramp_, fade_ramp_;
    std::vector<const float*> in_ptrs_;
    std::vector<float*> wet_ptrs_, dry_ptrs_;

    std::array<std::atomic<float>, kMaxChannels> input_peaks_{}, output_peaks_{};
    std::atomic<float> dsp_load_{0.0f};
    std::atomic<uint32_t> latency_{0};
    std::atomic<uint64_t> taken_{0};
};

} // namespace rill::plugin
