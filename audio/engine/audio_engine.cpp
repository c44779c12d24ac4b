#include "engine/audio_engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace rill::plugin {
namespace {

void raise_peak(std::atomic<float>& peak, const float* x, uint32_t frames) noexcept {
    float p = 0.0f;
    for (uint32_t i = 0; i < frames; ++i)
        p = std::max(p, std::fabs(x[i]));
    if (p > peak.load(std::memory_order_relaxed))
        peak.store(p, std::memory_order_relaxed);
}

} // namespace

AudioEngine::AudioEngine() {
    prepare(HostConfig{}, nullptr, Controls{});
}

AudioEngine::~AudioEngine() {
    free_all();
    delete offered_.exchange(nullptr);
    delete retired_.exchange(nullptr);
}

void AudioEngine::free_all() noexcept {
    delete current_;
    delete fading_;
    current_ = fading_ = nullptr;
}

void AudioEngine::prepare(const HostConfig& config, std::unique_ptr<ModelRunner> runner,
                          const Controls& controls) {
    free_all();
    delete offered_.exchange(nullptr);
    delete retired_.exchange(nullptr);
    config_ = config;
    config_.channels = std::clamp<uint32_t>(config_.channels, 1, kMaxChannels);
    config_.max_chunk = std::max<uint32_t>(config_.max_chunk, 1);
    if (!runner || runner->config() != config_)
        runner = std::make_unique<ModelRunner>(config_);
    current_ = runner.release();
    latency_.store(current_->latency_frames());

    const size_t n = config_.max_chunk;
    for (auto* buffers : {&scaled_, &wet_, &dry_, &out_a_, &out_b_})
        buffers->assign(config_.channels, std::vector<float>(n, 0.0f));
    for (auto* ramp : {&mix_ramp_, &in_ramp_, &out_ramp_, &bypass_ramp_, &fade_ramp_})
        ramp->assign(n, 0.0f);
    in_ptrs_.assign(config_.channels, nullptr);
    wet_ptrs_.assign(config_.channels, nullptr);
    dry_ptrs_.assign(config_.channels, nullptr);

    const uint32_t smooth = static_cast<uint32_t>(config_.sample_rate * kSmoothingSeconds);
    mix_.reset(std::clamp(controls.mix, 0.0f, 1.0f), smooth);
    input_gain_.reset(controls.input_gain, smooth);
    output_gain_.reset(controls.output_gain, smooth);
    bypass_.reset(controls.bypass ? 1.0f : 0.0f, smooth);
    for (uint32_t s = 0; s < kParamSlots; ++s)
        slots_[s].reset(std::clamp(controls.slots[s], 0.0f, 1.0f), smooth);
    fade_frames_ =
        std::max<uint32_t>(1, static_cast<uint32_t>(config_.sample_rate * kCrossfadeSeconds));
    fade_pos_ = 0;
}

std::unique_ptr<ModelRunner> AudioEngine::offer(std::unique_ptr<ModelRunner> runner) noexcept {
    return std::unique_ptr<ModelRunner>(
        offered_.exchange(runner.release(), std::memory_order_acq_rel));
}

std::unique_ptr<ModelRunner> AudioEngine::take_retired() noexcept {
    return std::unique_ptr<ModelRunner>(retired_.exchange(nullptr, std::memory_order_acq_rel));
}

void AudioEngine::take_offered() noexcept {
    // One runner in flight each way: switch only when the previous fade is over and its runner
    // has been collected.
    if (fading_ || retired_.load(std::memory_order_acquire))
        return;
    ModelRunner* next = offered_.exchange(nullptr, std::memory_order_acq_rel);
    if (!next)
        return;
    if (next->config() != config_) {
        retired_.store(next, std::memory_order_release);
        return;
    }
    fading_ = current_;
    current_ = next;
    fade_pos_ = 0;
    latency_.store(current_->latency_frames(), std::memory_order_relaxed);
    taken_.fetch_add(1, std::memory_order_relaxed);
}

void AudioEngine::render(ModelRunner& runner, uint32_t frames,
                         std::vector<std::vector<float>>& out) noexcept {
    const uint32_t channels = config_.channels;
    for (uint32_t c = 0; c < channels; ++c) {
        in_ptrs_[c] = scaled_[c].data();
        wet_ptrs_[c] = wet_[c].data();
        dry_ptrs_[c] = dry_[c].data();
    }
    runner.process(in_ptrs_.data(), wet_ptrs_.data(), frames);
    // The dry path is the signal before the input gain; dry_ holds it on entry.
    runner.delay_dry(dry_ptrs_.data(), dry_ptrs_.data(), frames);
    for (uint32_t c = 0; c < channels; ++c) {
        const float* wet = wet_[c].data();
        const float* dry = dry_[c].data();
        float* y = out[c].data();
        for (uint32_t i = 0; i < frames; ++i) {
            const float mixed =
                out_ramp_[i] * (mix_ramp_[i] * wet[i] + (1.0f - mix_ramp_[i]) * dry[i]);
            y[i] = bypass_ramp_[i] * dry[i] + (1.0f - bypass_ramp_[i]) * mixed;
        }
    }
}

void AudioEngine::process(float* const* io, uint32_t channels, uint32_t frames,
                          const Controls& controls) noexcept {
    if (frames == 0 || !current_)
        return;
    const auto started = std::chrono::steady_clock::now();
    channels = std::min(channels, config_.channels);
    take_offered();

    mix_.set_target(std::clamp(controls.mix, 0.0f, 1.0f));
    input_gain_.set_target(controls.input_gain);
    output_gain_.set_target(controls.output_gain);
    bypass_.set_target(controls.bypass ? 1.0f : 0.0f);
    for (uint32_t s = 0; s < kParamSlots; ++s)
        slots_[s].set_target(std::clamp(controls.slots[s], 0.0f, 1.0f));

    for (uint32_t offset = 0; offset < frames;) {
        bool gliding = false;
        for (const LinearRamp& slot : slots_)
            gliding = gliding || (controls.drive_params && slot.moving());
        const uint32_t n = std::min(
            {frames - offset, config_.max_chunk, gliding ? kParamStepFrames : config_.max_chunk});
        for (uint32_t i = 0; i < n; ++i) {
            mix_ramp_[i] = mix_.next();
            in_ramp_[i] = input_gain_.next();
            out_ramp_[i] = output_gain_.next();
            bypass_ramp_[i] = bypass_.next();
        }
        // Model parameters change once per chunk (the library applies them per call), every
        // kParamStepFrames frames while they glide.
        for (uint32_t s = 0; s < kParamSlots && controls.drive_params; ++s) {
            const float v = slots_[s].skip(n);
            for (ModelRunner* r : {current_, fading_}) {
                if (r && s < r->params().size()) {
                    const rill::Param& p = r->params()[s];
                    r->set_param(s, p.min_value + v * (p.max_value - p.min_value));
                }
            }
        }
        for (uint32_t c = 0; c < channels; ++c) {
            const float* x = io[c] + offset;
            raise_peak(input_peaks_[c], x, n);
            std::copy(x, x + n, dry_[c].begin());
            for (uint32_t i = 0; i < n; ++i)
                scaled_[c][i] = x[i] * in_ramp_[i];
        }
        // A host that gives fewer channels than prepared: the runners still see silence there.
        for (uint32_t c = channels; c < config_.channels; ++c) {
            std::fill(dry_[c].begin(), dry_[c].begin() + n, 0.0f);
            std::fill(scaled_[c].begin(), scaled_[c].begin() + n, 0.0f);
        }
        render(*current_, n, out_a_);
        if (fading_) {
            // render() rewrites dry_: restore the raw input for the old runner's dry path.
            for (uint32_t c = 0; c < channels; ++c)
                std::copy(io[c] + offset, io[c] + offset + n, dry_[c].begin());
            for (uint32_t c = channels; c < config_.channels; ++c)
                std::fill(dry_[c].begin(), dry_[c].begin() + n, 0.0f);
            render(*fading_, n, out_b_);
            for (uint32_t i = 0; i < n; ++i, ++fade_pos_)
                fade_ramp_[i] = std::min(1.0f, static_cast<float>(fade_pos_) / fade_frames_);
            for (uint32_t c = 0; c < config_.channels; ++c)
                for (uint32_t i = 0; i < n; ++i)
                    out_a_[c][i] =
                        fade_ramp_[i] * out_a_[c][i] + (1.0f - fade_ramp_[i]) * out_b_[c][i];
            if (fade_pos_ >= fade_frames_) {
                retired_.store(fading_, std::memory_order_release);
                fading_ = nullptr;
            }
        }
        for (uint32_t c = 0; c < channels; ++c) {
            float* y = io[c] + offset;
            for (uint32_t i = 0; i < n; ++i)
                y[i] = std::isfinite(out_a_[c][i]) ? out_a_[c][i] : 0.0f;
            raise_peak(output_peaks_[c], y, n);
        }
        offset += n;
    }

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double load = seconds * config_.sample_rate / frames;
    dsp_load_.store(
        static_cast<float>(0.9 * dsp_load_.load(std::memory_order_relaxed) + 0.1 * load),
        std::memory_order_relaxed);
}

float AudioEngine::take_input_peak(uint32_t channel) noexcept {
    return channel < kMaxChannels ? input_peaks_[channel].exchange(0.0f) : 0.0f;
}

float AudioEngine::take_output_peak(uint32_t channel) noexcept {
    return channel < kMaxChannels ? output_peaks_[channel].exchange(0.0f) : 0.0f;
}

uint64_t AudioEngine::underruns() const noexcept {
    return current_ ? current_->underruns() : 0;
}

} // namespace rill::plugin
