// The plugin's window: model loading (button, recent list, drag and drop), the model's name,
// description and license, latency and DSP load, level meters and every parameter. Resizable.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>
#include <juce_gui_basics/juce_gui_basics.h>

#include <memory>
#include <vector>

#include "level_meter.hpp"
#include "plugin_processor.hpp"

namespace rill::plugin {

class RillEditor : public juce::AudioProcessorEditor,
                   public juce::FileDragAndDropTarget,
                   private juce::Timer {
public:
    explicit RillEditor(RillProcessor& processor);
    ~RillEditor() override;

    void paint(juce::Graphics& g) override;
    void resized() override;

    bool isInterestedInFileDrag(const juce::StringArray& files) override;
    void filesDropped(const juce::StringArray& files, int x, int y) override;

private:
    using SliderAttachment = juce::AudioProcessorValueTreeState::SliderAttachment;
    struct Knob {
        juce::Slider slider;
        juce::Label label;
        std::unique_ptr<SliderAttachment> attachment;
    };

    void timerCallback() override;
    void choose_file();
    void refresh_recent();
    void show_status(const ModelStatus& status);
    void add_knob(Knob& knob, const juce::String& id, const juce::String& name);

    RillProcessor& processor_;
    juce::TextButton load_button_{"Load model..."}, unload_button_{"Unload"};
    juce::ComboBox recent_;
    juce::Label name_, description_, license_, timing_, message_;
    LevelMeter input_meter_{"in"}, output_meter_{"out"};
    Knob mix_, input_gain_, output_gain_;
    juce::ToggleButton bypass_{"Bypass"};
    std::unique_ptr<juce::AudioProcessorValueTreeState::ButtonAttachment> bypass_attachment_;
    std::vector<std::unique_ptr<Knob>> model_knobs_;
    std::unique_ptr<juce::FileChooser> chooser_;
    juce::StringArray recent_paths_;
    uint64_t shown_generation_ = ~uint64_t{0};
    bool shown_loading_ = false;
};

} // namespace rill::plugin
