// Runs one model at the host's sample rate and channel layout, in chunks of at most
// HostConfig::max_chunk frames: one stream per channel for a mono model in a stereo host,
// otherwise one stream whose inputs take the host channels in order (the last one repeated when
// the host has fewer). When the model's rate differs from the host's, the signal is resampled
// into and out of the model with Resampler, whose delays are chosen so that the total latency is
// a whole number of host frames. It also delays the dry signal by that latency.
//
// Construction (on a background thread) takes all memory; process, delay_dry and set_param are
// real-time safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rill/rill.hpp"

namespace rill::plugin {

class DelayLine;
class Resampler;

struct HostConfig {
    uint32_t sample_rate = 48000; // Hz
    uint32_t channels = 2;
    uint32_t max_chunk = 128; // frames per process() call at most

    bool operator==(const HostConfig& o) const noexcept {
        return sample_rate == o.sample_rate && channels == o.channels && max_chunk == o.max_chunk;
    }
    bool operator!=(const HostConfig& o) const noexcept { return !(*this == o); }
};

class ModelRunner {
public:
    // No model: the wet signal is the input, latency 0.
    explicit ModelRunner(const HostConfig& config);
    // Throws std::runtime_error (rill::Error included) with a message for the user when the
    // model cannot run in a plugin (non-audio ports, several rates, ...).
    ModelRunner(const rill::Model& model, const HostConfig& config);
    ~ModelRunner();
    ModelRunner(const ModelRunner&) = delete;
    ModelRunner& operator=(const ModelRunner&) = delete;

    const HostConfig& config() const noexcept { return config_; }
    bool has_model() const noexcept { return static_cast<bool>(model_); }
    const rill::Model& model() const noexcept { return model_; }
    const std::vector<rill::Param>& params() const noexcept { return params_; }
    // Host frames from input to the wet output.
    uint32_t latency_frames() const noexcept { return latency_; }
    // Model frames from input to output at the model's rate (what rill_stream reports).
    uint32_t model_latency_frames() const noexcept { return model_latency_; }

    // Sets parameter `index` of every stream (clamped by the library) when it differs from the
    // value set last. Real-time safe.
    void set_param(uint32_t index, float value) noexcept;
    // in[c] and wet[c] for c < config().channels, `frames` <= config().max_chunk long.
    void process(const float* const* in, float* const* wet, uint32_t frames) noexcept;
    // The dry path: in delayed by latency_frames() (out may alias in).
    void delay_dry(const float* const* in, float* const* out, uint32_t frames) noexcept;
    // Times the resampled output was not ready (a bug if ever non-zero; it plays silence).
    uint64_t underruns() const noexcept { return underruns_; }

private:
    struct Lane;
    struct Route {
        uint32_t lane, output;
    };
    void build_lanes(const rill_model_info& info);
    void plan_resampling(const rill_model_info& info);

    HostConfig config_;
    rill::Model model_;
    std::vector<rill::Param> params_;
    std::vector<float> param_values_; // the value each parameter was set to last
    std::vector<std::unique_ptr<Lane>> lanes_;
    std::vector<Route> routes_; // host output channel -> (lane, model output)
    std::unique_ptr<DelayLine> dry_delay_;
    uint32_t model_rate_ = 0, latency_ = 0, model_latency_ = 0;
    double up_delay_ = 0, down_delay_ = 0;
    uint64_t underruns_ = 0;
};

} // namespace rill::plugin
