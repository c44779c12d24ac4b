#include "jack_host.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace rill::live {
namespace {

void quiet(const char*) {}
void to_stderr(const char* message) {
    std::fprintf(stderr, "JACK: %s\n", message);
}

std::vector<std::string> physical_ports(jack_client_t* client, unsigned long flags) {
    std::vector<std::string> names;
    if (const char** ports =
            jack_get_ports(client, nullptr, JACK_DEFAULT_AUDIO_TYPE, JackPortIsPhysical | flags)) {
        for (const char** p = ports; *p; ++p)
            names.emplace_back(*p);
        jack_free(ports);
    }
    return names;
}

} // namespace

JackHost::JackHost(const std::string& client_name, uint32_t channels) {
    // libjack prints its own lines when no server runs; the message below says it better.
    jack_set_error_function(quiet);
    jack_status_t status{};
    client_ = jack_client_open(client_name.c_str(), JackNoStartServer, &status);
    jack_set_error_function(to_stderr);
    if (!client_) {
        if (status & JackServerFailed)
            throw std::runtime_error(
                "no JACK server is running (start one, e.g. `jackd -d alsa -r 48000 -p 256`, or "
                "without sound hardware `jackd --no-realtime -d dummy -r 48000 -p 256`)");
        throw std::runtime_error("cannot open JACK client '" + client_name + "' (JACK status 0x" +
                                 std::to_string(status) + ")");
    }
    sample_rate_ = jack_get_sample_rate(client_);
    for (uint32_t c = 1; c <= channels; ++c) {
        const std::string in = "in_" + std::to_string(c), out = "out_" + std::to_string(c);
        jack_port_t* i =
            jack_port_register(client_, in.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
        jack_port_t* o =
            jack_port_register(client_, out.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
        if (!i || !o) {
            close();
            throw std::runtime_error("cannot register JACK ports " + in + " and " + out);
        }
        inputs_.push_back(i);
        outputs_.push_back(o);
    }
    in_buffers_.assign(channels, nullptr);
    out_buffers_.assign(channels, nullptr);
}

JackHost::~JackHost() {
    close();
}

std::string JackHost::name() const {
    return client_ ? jack_get_client_name(client_) : "";
}

uint32_t JackHost::sample_rate() const {
    return sample_rate_;
}

uint32_t JackHost::buffer_size() const {
    return client_ ? jack_get_buffer_size(client_) : 0;
}

void JackHost::start(LiveProcessor& processor, const plugin::AudioEngine& engine) {
    processor_ = &processor;
    engine_ = &engine;
    jack_set_process_callback(client_, on_process, this);
    jack_set_xrun_callback(client_, on_xrun, this);
    jack_set_latency_callback(client_, on_latency, this);
    jack_on_shutdown(client_, on_shutdown, this);
    if (jack_activate(client_) != 0)
        throw std::runtime_error("cannot activate the JACK client");
}

void JackHost::close() noexcept {
    if (!client_)
        return;
    if (!server_gone()) {
        jack_deactivate(client_);
    }
    jack_client_close(client_);
    client_ = nullptr;
}

std::vector<std::string> JackHost::connect(const std::vector<std::string>& sources,
                                           const std::vector<std::string>& destinations) {
    std::vector<std::string> failures;
    const auto link = [&](const std::string& from, const std::string& to) {
        const int r = jack_connect(client_, from.c_str(), to.c_str());
        if (r != 0 && r != EEXIST)
            failures.push_back("cannot connect " + from + " -> " + to +
                               " (does the port exist? jack_lsp lists them)");
    };
    const size_t channels = inputs_.size();
    std::vector<std::string> in = sources, out = destinations;
    if (in.empty()) {
        in = physical_ports(client_, JackPortIsOutput);
        in.resize(std::min(in.size(), channels));
    }
    if (out.empty()) {
        out = physical_ports(client_, JackPortIsInput);
        out.resize(std::min(out.size(), std::max<size_t>(channels, 2)));
    }
    for (size_t k = 0; k < in.size(); ++k)
        link(in[k], jack_port_name(inputs_[k % channels]));
    for (size_t k = 0; k < out.size(); ++k)
        link(jack_port_name(outputs_[k % channels]), out[k]);
    return failures;
}

void JackHost::latency_changed() noexcept {
    if (client_)
        jack_recompute_total_latencies(client_);
}

DeviceLatency JackHost::device_latency() const noexcept {
    DeviceLatency d;
    for (jack_port_t* p : inputs_) {
        jack_latency_range_t r{};
        jack_port_get_latency_range(p, JackCaptureLatency, &r);
        d.capture = std::max(d.capture, r.max);
    }
    for (jack_port_t* p : outputs_) {
        jack_latency_range_t r{};
        jack_port_get_latency_range(p, JackPlaybackLatency, &r);
        d.playback = std::max(d.playback, r.max);
    }
    return d;
}

int JackHost::on_process(jack_nframes_t frames, void* self) noexcept {
    auto& host = *static_cast<JackHost*>(self);
    const size_t channels = host.inputs_.size();
    for (size_t c = 0; c < channels; ++c) {
        host.in_buffers_[c] =
            static_cast<const float*>(jack_port_get_buffer(host.inputs_[c], frames));
        host.out_buffers_[c] = static_cast<float*>(jack_port_get_buffer(host.outputs_[c], frames));
    }
    host.processor_->process(host.in_buffers_.data(), host.out_buffers_.data(), frames,
                             jack_last_frame_time(host.client_), host.sample_rate_);
    return 0;
}

int JackHost::on_xrun(void* self) noexcept {
    static_cast<JackHost*>(self)->xruns_.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

// Our outputs carry the inputs' capture latency plus the model's; our inputs carry the
// outputs' playback latency plus the model's (JACK's latency API: a client adds its own delay
// to the ranges it passes through, in both directions).
void JackHost::on_latency(jack_latency_callback_mode_t mode, void* self) noexcept {
    auto& host = *static_cast<JackHost*>(self);
    const uint32_t model = host.engine_->latency_frames();
    const bool capture = mode == JackCaptureLatency;
    const auto& from = capture ? host.inputs_ : host.outputs_;
    const auto& to = capture ? host.outputs_ : host.inputs_;
    jack_latency_range_t range{UINT32_MAX, 0};
    for (jack_port_t* p : from) {
        jack_latency_range_t r{};
        jack_port_get_latency_range(p, mode, &r);
        range.min = std::min(range.min, r.min);
        range.max = std::max(range.max, r.max);
    }
    if (from.empty())
        range.min = 0;
    range.min += model;
    range.max += model;
    for (jack_port_t* p : to)
        jack_port_set_latency_range(p, mode, &range);
}

void JackHost::on_shutdown(void* self) noexcept {
    static_cast<JackHost*>(self)->server_gone_.store(true, std::memory_order_relaxed);
}

} // namespace rill::live
