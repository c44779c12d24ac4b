#include "model_switcher.hpp"

namespace rill::live {

ModelSwitcher::ModelSwitcher(std::vector<std::string> paths, plugin::ModelLoader& loader,
                             const plugin::AudioEngine& engine)
    : paths_(std::move(paths)), loader_(loader), engine_(engine) {
    playing_.label = "pass-through (loading)";
    playing_.device_rate = engine.config().sample_rate;
}

bool ModelSwitcher::busy() const {
    return engine_.runners_taken() < requested_;
}

bool ModelSwitcher::next() {
    if (paths_.empty() || busy())
        return false;
    const std::string& path = paths_[index_];
    index_ = (index_ + 1) % paths_.size();
    ++requested_;
    loader_.load(path, "", false);
    return true;
}

ModelSwitcher::Update ModelSwitcher::poll(LiveProcessor& processor) {
    Update update;
    // Events first, status second: the loader publishes a status before it offers the runner,
    // so every event popped here has its status by now.
    std::vector<SwitchEvent> events;
    for (SwitchEvent e; processor.pop_switch(e);)
        events.push_back(e);
    const plugin::ModelStatus status = loader_.status();
    if (status.generation > seen_generation_) {
        seen_generation_ = status.generation;
        offered_[status.generation] = status;
        if (status.state == plugin::ModelStatus::State::failed)
            update.errors.push_back(status.error);
    }
    for (const SwitchEvent& e : events) {
        Playing p;
        p.frame = e.frame;
        p.latency = e.latency;
        p.device_rate = engine_.config().sample_rate;
        const auto found = offered_.find(e.taken);
        if (found == offered_.end()) {
            p.label = "pass-through";
        } else {
            const plugin::ModelStatus& s = found->second;
            if (s.state == plugin::ModelStatus::State::loaded) {
                p.label = s.name;
                p.model_rate = s.model_rate;
            } else {
                p.label = "pass-through (" + s.path + " did not load)";
            }
            offered_.erase(offered_.begin(), std::next(found));
        }
        playing_ = p;
        ++switches_;
        update.started.push_back(p);
    }
    return update;
}

} // namespace rill::live
