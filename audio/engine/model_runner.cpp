#include "engine/model_runner.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/delay_line.hpp"
#include "engine/resampler.hpp"

namespace rill::plugin {
namespace {

// Host-rate frames that came out of the down-resampler and wait for the host.
class Fifo {
public:
    explicit Fifo(size_t capacity) : ring_(capacity, 0.0f) {}
    void push(const float* x, size_t n) noexcept {
        for (size_t i = 0; i < n && size_ < ring_.size(); ++i, ++size_)
            ring_[(head_ + size_) % ring_.size()] = x[i];
    }
    // Returns false (and fills silence) when fewer than n frames are ready.
    bool pop(float* out, size_t n) noexcept {
        const size_t ready = std::min(n, size_);
        for (size_t i = 0; i < ready; ++i)
            out[i] = ring_[(head_ + i) % ring_.size()];
        std::fill(out + ready, out + n, 0.0f);
        head_ = (head_ + ready) % ring_.size();
        size_ -= ready;
        return ready == n;
    }

private:
    std::vector<float> ring_;
    size_t head_ = 0, size_ = 0;
};

std::string port_problem(const rill::Port& port, const char* what, double rate) {
    if (port.kind != RILL_KIND_AUDIO)
        return std::string(what) + " '" + port.name + "' is not audio (a frame/feature signal)";
    if (port.sample_rate != rate)
        return std::string(what) + " '" + port.name + "' runs at " +
               std::to_string(port.sample_rate) + " Hz, not at the model's input rate";
    return {};
}

} // namespace

struct ModelRunner::Lane {
    rill::Stream stream;
    std::vector<uint32_t> sources; // host channel feeding each model input
    std::vector<std::unique_ptr<Resampler>> up, down;
    std::vector<Fifo> fifos; // per model output (resampled only)
    std::vector<std::vector<float>> model_in, model_out, host_out, resampled;
    std::vector<const float*> in_ptrs;
    std::vector<float*> out_ptrs;
};

ModelRunner::ModelRunner(const HostConfig& config)
    : config_(config), dry_delay_(std::make_unique<DelayLine>(config.channels, 0)) {}

ModelRunner::ModelRunner(const rill::Model& model, const HostConfig& config)
    : config_(config), model_(model), params_(model.params()) {
    for (const rill::Param& p : params_)
        param_values_.push_back(p.default_value);
    const rill_model_info info = model.info();
    if (info.input_channels == 0 || info.output_channels == 0)
        throw std::runtime_error("the model has no audio input or no audio output");
    for (const rill::Port& p : model.inputs())
        if (std::string why = port_problem(p, "input", info.sample_rate); !why.empty())
            throw std::runtime_error("the model cannot run as an audio effect: " + why);
    for (const rill::Port& p : model.outputs())
        if (std::string why = port_problem(p, "output", info.sample_rate); !why.empty())
            throw std::runtime_error("the model cannot run as an audio effect: " + why);
    if (!(info.sample_rate >= 1000.0 && info.sample_rate <= 1e6) ||
        info.sample_rate != std::floor(info.sample_rate))
        throw std::runtime_error("the model's sample rate " + std::to_string(info.sample_rate) +
                                 " Hz is not a whole number of Hz the plugin can resample to");
    model_rate_ = static_cast<uint32_t>(info.sample_rate);
    build_lanes(info);
    dry_delay_ = std::make_unique<DelayLine>(config_.channels, latency_);
}

ModelRunner::~ModelRunner() = default;

void ModelRunner::build_lanes(const rill_model_info& info) {
    const bool resampled = model_rate_ != config_.sample_rate;
    const bool stream_per_channel = info.input_channels == 1 && info.output_channels == 1;
    const uint32_t lanes = stream_per_channel ? config_.channels : 1;

    uint32_t stream_block = config_.max_chunk;
    if (resampled) {
        up_delay_ = std::ceil(Resampler::half_width(config_.sample_rate, model_rate_));
        stream_block = static_cast<uint32_t>(
            Resampler::max_output_frames(config_.sample_rate, model_rate_, config_.max_chunk));
    }
    for (uint32_t l = 0; l < lanes; ++l) {
        auto lane = std::make_unique<Lane>();
        lane->stream = rill::Stream(model_, stream_block, RILL_NONFINITE_ZERO);
        for (uint32_t c = 0; c < info.input_channels; ++c)
            lane->sources.push_back(stream_per_channel ? l : std::min(c, config_.channels - 1));
        lane->model_in.assign(info.input_channels, std::vector<float>(stream_block, 0.0f));
        lane->model_out.assign(info.output_channels, std::vector<float>(stream_block, 0.0f));
        lane->host_out.assign(info.output_channels, std::vector<float>(config_.max_chunk, 0.0f));
        lane->in_ptrs.assign(info.input_channels, nullptr);
        lane->out_ptrs.assign(info.output_channels, nullptr);
        lanes_.push_back(std::move(lane));
    }
    for (uint32_t h = 0; h < config_.channels; ++h)
        routes_.push_back(stream_per_channel ? Route{h, 0}
                                             : Route{0, std::min(h, info.output_channels - 1)});
    model_latency_ = lanes_.front()->stream.latency_frames();
    latency_ = model_latency_;
    if (resampled)
        plan_resampling(info);
}

// Up: host time t maps to model frame (t + up_delay) * model_rate / host_rate. Down: the delay
// is chosen so that up_delay + (model latency + down_delay) * host_rate / model_rate is whole.
void ModelRunner::plan_resampling(const rill_model_info& info) {
    const double host = config_.sample_rate, model = model_rate_;
    const double down_width = Resampler::half_width(model_rate_, config_.sample_rate);
    const double after_up = std::ceil((model_latency_ + down_width) * host / model - 1e-9);
    latency_ = static_cast<uint32_t>(up_delay_ + after_up);
    down_delay_ = std::max(down_width, after_up * model / host - model_latency_);
    for (auto& lane : lanes_) {
        for (uint32_t c = 0; c < info.input_channels; ++c)
            lane->up.push_back(std::make_unique<Resampler>(config_.sample_rate, model_rate_,
                                                           up_delay_, config_.max_chunk));
        const size_t stream_block = lane->model_in.front().size();
        for (uint32_t c = 0; c < info.output_channels; ++c) {
            lane->down.push_back(std::make_unique<Resampler>(model_rate_, config_.sample_rate,
                                                             down_delay_, stream_block));
            lane->fifos.emplace_back(4 * config_.max_chunk +
                                     lane->down.back()->max_output_frames());
        }
        lane->resampled.assign(info.output_channels,
                               std::vector<float>(lane->down.front()->max_output_frames(), 0.0f));
    }
}

void ModelRunner::set_param(uint32_t index, float value) noexcept {
    if (index >= param_values_.size() || param_values_[index] == value)
        return;
    param_values_[index] = value;
    for (auto& lane : lanes_)
        lane->stream.set_param(index, value);
}

void ModelRunner::process(const float* const* in, float* const* wet, uint32_t frames) noexcept {
    frames = std::min(frames, config_.max_chunk);
    if (frames == 0)
        return;
    if (!model_) {
        for (uint32_t h = 0; h < config_.channels; ++h)
            std::copy(in[h], in[h] + frames, wet[h]);
        return;
    }
    for (auto& lane_ptr : lanes_) {
        Lane& lane = *lane_ptr;
        if (lane.up.empty()) {
            for (size_t c = 0; c < lane.in_ptrs.size(); ++c)
                lane.in_ptrs[c] = in[lane.sources[c]];
            for (size_t c = 0; c < lane.out_ptrs.size(); ++c)
                lane.out_ptrs[c] = lane.host_out[c].data();
            lane.stream.process(lane.in_ptrs.data(), lane.out_ptrs.data(), frames);
            continue;
        }
        size_t model_frames = 0;
        for (size_t c = 0; c < lane.up.size(); ++c) {
            model_frames =
                lane.up[c]->process(in[lane.sources[c]], frames, lane.model_in[c].data());
            lane.in_ptrs[c] = lane.model_in[c].data();
        }
        for (size_t c = 0; c < lane.out_ptrs.size(); ++c)
            lane.out_ptrs[c] = lane.model_out[c].data();
        if (model_frames > 0)
            lane.stream.process(lane.in_ptrs.data(), lane.out_ptrs.data(),
                                static_cast<uint32_t>(model_frames));
        for (size_t c = 0; c < lane.down.size(); ++c) {
            const size_t n = lane.down[c]->process(lane.model_out[c].data(), model_frames,
                                                   lane.resampled[c].data());
            lane.fifos[c].push(lane.resampled[c].data(), n);
            if (!lane.fifos[c].pop(lane.host_out[c].data(), frames))
                ++underruns_;
        }
    }
    for (uint32_t h = 0; h < config_.channels; ++h) {
        const std::vector<float>& src = lanes_[routes_[h].lane]->host_out[routes_[h].output];
        std::copy(src.begin(), src.begin() + frames, wet[h]);
    }
}

void ModelRunner::delay_dry(const float* const* in, float* const* out, uint32_t frames) noexcept {
    for (uint32_t h = 0; h < config_.channels; ++h)
        dry_delay_->process(h, in[h], out[h], frames);
}

} // namespace rill::plugin
