// Drives a RillProcessor as a host does: layout, prepareToPlay, parameters, and blocks of any
// size over planar signals. For the headless tests.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <memory>
#include <vector>

#include "plugin_processor.hpp"

namespace rill::plugin::test {

using Signal = std::vector<std::vector<float>>; // [channel][frame]

class ProcessorHost {
public:
    ProcessorHost(double sample_rate, int channels, int max_block = 512);

    RillProcessor& processor() { return *processor_; }
    // Sets a parameter by ID to a plain value (e.g. mix 50 = 50 %) as host automation does.
    void set(const juce::String& id, float plain_value);
    void set_slot(int index, float normalised);
    // load_model + wait + prepareToPlay again (what a host does after loading a session).
    void load(const std::string& path);
    void prepare();
    // The host switches to another sample rate (prepareToPlay again).
    void change_rate(double sample_rate);
    int latency() const { return processor_->getLatencySamples(); }

    // Processes `input` in place in blocks whose sizes cycle through `blocks`.
    void process(Signal& io, const std::vector<int>& blocks);
    // One block of `frames` at `offset` of each channel.
    void process_block(Signal& io, size_t offset, int frames);

private:
    double rate_;
    int channels_, max_block_;
    std::unique_ptr<RillProcessor> processor_;
    std::vector<float*> pointers_;
    juce::MidiBuffer midi_;
};

Signal make_signal(int channels, size_t frames, double sample_rate, unsigned seed);
Signal impulse(int channels, size_t frames, size_t at);
// Runs `input` through fresh rill streams (one per channel, mono model), frames delayed by
// the stream's latency: what `rill run --keep-latency` writes.
Signal library_output(const std::string& model_path, const Signal& input,
                      const std::vector<std::pair<uint32_t, float>>& params = {});

} // namespace rill::plugin::test
