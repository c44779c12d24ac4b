// The playlist of rill-live: asks ModelLoader (a background thread) for the models in turn, and
// matches the runners the audio thread takes (SwitchEvent) with what was loaded, so that the
// display can say what plays from which frame. One switch at a time: next() is refused while the
// previous model has not started playing, so a runner is never offered over an untaken one.
// Main thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/model_loader.hpp"
#include "live_processor.hpp"

namespace rill::live {

struct Playing {
    std::string label;       // the model's name, or "pass-through (...)"
    uint32_t frame = 0;      // the frame at which it started (the crossfade's first)
    uint32_t latency = 0;    // device frames, resampling included
    uint32_t model_rate = 0; // 0 for pass-through
    uint32_t device_rate = 0;
};

class ModelSwitcher {
public:
    ModelSwitcher(std::vector<std::string> paths, plugin::ModelLoader& loader,
                  const plugin::AudioEngine& engine);

    // Asks for the next model in the list (the first, on the first call). Returns false, doing
    // nothing, while the previous one has not started playing yet.
    bool next();
    bool busy() const;

    // Collects the switches the audio thread made since the last call (in order), and the
    // messages of loads that failed.
    struct Update {
        std::vector<Playing> started;
        std::vector<std::string> errors;
    };
    Update poll(LiveProcessor& processor);

    const Playing& playing() const { return playing_; }
    uint64_t switches() const { return switches_; }

private:
    std::vector<std::string> paths_;
    plugin::ModelLoader& loader_;
    const plugin::AudioEngine& engine_;
    size_t index_ = 0;
    uint64_t requested_ = 0, seen_generation_ = 0, switches_ = 0;
    std::map<uint64_t, plugin::ModelStatus> offered_; // by generation = the runner's take count
    Playing playing_;
};

} // namespace rill::live
