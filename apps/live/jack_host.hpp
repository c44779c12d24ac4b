// The JACK side of rill-live: one client with in_1..in_N and out_1..out_N, whose process
// callback hands the port buffers to LiveProcessor. It reports the model's latency to JACK (the
// latency callback adds it to the ports' ranges, so that jack_lsp -l and other clients see it),
// counts the server's xruns, and notices when the server goes away.
//
// Everything here but the callbacks runs on the main thread. The process callback only reads
// port buffers and calls LiveProcessor::process.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <jack/jack.h>

#include "engine/audio_engine.hpp"
#include "live_processor.hpp"

namespace rill::live {

struct DeviceLatency {
    uint32_t capture = 0;  // frames from the sound coming in to our input ports (JACK's range max)
    uint32_t playback = 0; // frames from our output ports to the sound coming out
};

class JackHost {
public:
    // Opens the client on the running server (never starts one) and registers its ports.
    // Throws std::runtime_error with a message for the user.
    JackHost(const std::string& client_name, uint32_t channels);
    ~JackHost();
    JackHost(const JackHost&) = delete;
    JackHost& operator=(const JackHost&) = delete;

    std::string name() const;
    uint32_t sample_rate() const;
    uint32_t buffer_size() const;

    // Sets the callbacks and activates the client. `processor` and `engine` must outlive close().
    void start(LiveProcessor& processor, const plugin::AudioEngine& engine);
    // Deactivates and closes the client (no callback runs after it returns). Idempotent.
    void close() noexcept;

    // Source ports -> our inputs and our outputs -> destination ports: the k-th port given goes
    // to (from) channel k mod channels. Empty lists connect the first physical ports (a mono
    // client plays on the first two). Returns one message per connection that failed.
    std::vector<std::string> connect(const std::vector<std::string>& sources,
                                     const std::vector<std::string>& destinations);

    // The engine's latency changed: JACK asks the latency callback again.
    void latency_changed() noexcept;
    DeviceLatency device_latency() const noexcept;
    uint64_t xruns() const noexcept { return xruns_.load(std::memory_order_relaxed); }
    bool server_gone() const noexcept { return server_gone_.load(std::memory_order_relaxed); }

private:
    static int on_process(jack_nframes_t frames, void* self) noexcept;
    static int on_xrun(void* self) noexcept;
    static void on_latency(jack_latency_callback_mode_t mode, void* self) noexcept;
    static void on_shutdown(void* self) noexcept;

    jack_client_t* client_ = nullptr;
    std::vector<jack_port_t*> inputs_, outputs_;
    // Port buffers of the current callback (sized at construction).
    std::vector<const float*> in_buffers_;
    std::vector<float*> out_buffers_;
    LiveProcessor* processor_ = nullptr;
    const plugin::AudioEngine* engine_ = nullptr;
    uint32_t sample_rate_ = 0;
    std::atomic<uint64_t> xruns_{0};
    std::atomic<bool> server_gone_{false};
};

} // namespace rill::live
