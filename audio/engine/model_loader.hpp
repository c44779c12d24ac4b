// Loads models and builds their runners on its own thread, offers them to the AudioEngine, and
// frees the runners the engine hands back, so that the audio thread never allocates or frees.
// A file that is missing or cannot run gives a failed status with a message for the user and a
// pass-through runner (audio goes through, with the latency reported for it: 0).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/audio_engine.hpp"
#include "rill/rill.hpp"

namespace rill::plugin {

struct ModelStatus {
    enum class State { empty, loading, loaded, failed };
    State state = State::empty;
    std::string path, hash; // the file and the hash of its bytes (Hasher)
    std::string error;      // failed: what went wrong, naming the file
    std::string warning;    // loaded, but e.g. the file changed since the session was saved
    std::string name, description, license, source;
    std::vector<rill::Param> params;
    uint32_t latency_frames = 0; // host frames, model plus resampling
    uint32_t model_rate = 0, host_rate = 0;
    uint64_t generation = 0; // counts finished requests
};

class ModelLoader {
public:
    using Hasher = std::function<std::string(const void* data, size_t size)>;
    // Called on the loader thread after each finished request (or after prepare());
    // user_request: the load asked for the model's default parameter values.
    using Listener = std::function<void(const ModelStatus& status, bool apply_defaults)>;

    ModelLoader(AudioEngine& engine, Hasher hasher, Listener listener);
    ~ModelLoader();
    ModelLoader(const ModelLoader&) = delete;
    ModelLoader& operator=(const ModelLoader&) = delete;

    // Not the audio thread, not during AudioEngine::process: rebuilds the current model's runner
    // for `config` now and prepares the engine with it. Returns the latency in host frames.
    uint32_t prepare(const HostConfig& config, const Controls& controls);
    // Asynchronous. A non-empty expected_hash that differs from the file's gives a warning.
    void load(const std::string& path, const std::string& expected_hash, bool apply_defaults);
    void unload();
    ModelStatus status() const;
    // Blocks until every request made so far is finished.
    void wait_idle();

private:
    struct Request {
        std::string path, expected_hash;
        bool apply_defaults = false;
    };
    void run();
    void handle(const Request& request);
    ModelStatus build_and_offer(const Request& request);
    void notify(const ModelStatus& status, bool apply_defaults);
    void collect_retired();

    AudioEngine& engine_;
    Hasher hasher_;
    Listener listener_;

    std::mutex build_mutex_; // one runner built at a time (load vs prepare)
    mutable std::mutex mutex_;
    std::condition_variable wake_, idle_;
    std::optional<Request> request_;
    bool busy_ = false, stop_ = false;
    HostConfig config_;
    rill::Model model_;
    ModelStatus status_;
    std::thread thread_;
};

} // namespace rill::plugin
