#include "level_meter.hpp"

namespace rill::plugin {
namespace {
constexpr float kFloorDb = -60.0f;
constexpr float kFallDbPerSecond = 20.0f;
} // namespace

LevelMeter::LevelMeter(juce::String title) : title_(std::move(title)) {}

void LevelMeter::push(const std::array<float, 2>& peaks, int channels, float seconds) {
    channels_ = juce::jlimit(1, 2, channels);
    for (size_t c = 0; c < db_.size(); ++c) {
        const float db = juce::jmax(kFloorDb, juce::Decibels::gainToDecibels(peaks[c], kFloorDb));
        db_[c] = juce::jmax(db, db_[c] - kFallDbPerSecond * seconds);
    }
    repaint();
}

void LevelMeter::paint(juce::Graphics& g) {
    auto area = getLocalBounds();
    g.setColour(juce::Colours::white);
    g.setFont(13.0f);
    g.drawText(title_, area.removeFromBottom(18), juce::Justification::centred);
    const int bar_width = area.getWidth() / channels_;
    for (int c = 0; c < channels_; ++c) {
        auto bar = area.withX(area.getX() + c * bar_width).withWidth(bar_width).reduced(3, 0);
        g.setColour(juce::Colour(0xff202428));
        g.fillRect(bar);
        const float level = (db_[static_cast<size_t>(c)] - kFloorDb) / -kFloorDb;
        const auto fill = bar.withTop(bar.getBottom() - juce::roundToInt(level * bar.getHeight()));
        g.setColour(db_[static_cast<size_t>(c)] > -1.0f ? juce::Colours::red
                                                        : juce::Colour(0xff4caf50));
        g.fillRect(fill);
    }
}

} // namespace rill::plugin
