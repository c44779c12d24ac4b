// A peak meter with one bar per channel, -60..0 dBFS, falling back at 20 dB per second.
#pragma once

#include <juce_audio_basics/juce_audio_basics.h>
#include <juce_gui_basics/juce_gui_basics.h>

#include <array>

namespace rill::plugin {

class LevelMeter : public juce::Component {
public:
    explicit LevelMeter(juce::String title);
    // Peaks (linear) since the last call, one per channel; `seconds` since the last call.
    void push(const std::array<float, 2>& peaks, int channels, float seconds);
    void paint(juce::Graphics& g) override;

private:
    juce::String title_;
    std::array<float, 2> db_{-60.0f, -60.0f};
    int channels_ = 2;
};

} // namespace rill::plugin
