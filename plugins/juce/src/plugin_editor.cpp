#include "plugin_editor.hpp"

#include "recent_models.hpp"

namespace rill::plugin {
namespace {
constexpr int kTimerHz = 30;
const juce::Colour kBackground{0xff15181c};
const juce::Colour kError{0xffff6b6b};
const juce::Colour kWarning{0xffffc46b};
} // namespace

RillEditor::RillEditor(RillProcessor& processor)
    : juce::AudioProcessorEditor(processor), processor_(processor) {
    addAndMakeVisible(load_button_);
    addAndMakeVisible(unload_button_);
    addAndMakeVisible(recent_);
    load_button_.onClick = [this] { choose_file(); };
    unload_button_.onClick = [this] { processor_.unload_model(); };
    recent_.setTextWhenNothingSelected("Recent models");
    recent_.onChange = [this] {
        const int index = recent_.getSelectedItemIndex();
        if (index >= 0 && index < recent_paths_.size())
            processor_.load_model(recent_paths_[index]);
        recent_.setSelectedId(0, juce::dontSendNotification);
    };

    for (juce::Label* label : {&name_, &description_, &license_, &timing_, &message_}) {
        addAndMakeVisible(*label);
        label->setColour(juce::Label::textColourId, juce::Colours::white);
        label->setJustificationType(juce::Justification::topLeft);
    }
    name_.setFont(juce::Font(22.0f, juce::Font::bold));
    description_.setMinimumHorizontalScale(1.0f);

    addAndMakeVisible(input_meter_);
    addAndMakeVisible(output_meter_);
    add_knob(mix_, "mix", "Dry/wet");
    add_knob(input_gain_, "input_gain", "Input");
    add_knob(output_gain_, "output_gain", "Output");
    addAndMakeVisible(bypass_);
    bypass_attachment_ = std::make_unique<juce::AudioProcessorValueTreeState::ButtonAttachment>(
        processor_.parameters(), "bypass", bypass_);
    for (int i = 0; i < static_cast<int>(kParamSlots); ++i) {
        model_knobs_.push_back(std::make_unique<Knob>());
        add_knob(*model_knobs_.back(), ModelParamSlot::id_for(i), {});
    }

    refresh_recent();
    setResizable(true, true);
    setResizeLimits(520, 380, 1800, 1200);
    setSize(760, 480);
    timerCallback();
    startTimerHz(kTimerHz);
}

RillEditor::~RillEditor() {
    stopTimer();
}

void RillEditor::add_knob(Knob& knob, const juce::String& id, const juce::String& name) {
    knob.slider.setSliderStyle(juce::Slider::RotaryHorizontalVerticalDrag);
    knob.slider.setTextBoxStyle(juce::Slider::TextBoxBelow, false, 90, 18);
    knob.label.setText(name, juce::dontSendNotification);
    knob.label.setJustificationType(juce::Justification::centred);
    knob.label.setColour(juce::Label::textColourId, juce::Colours::white);
    addAndMakeVisible(knob.slider);
    addAndMakeVisible(knob.label);
    knob.attachment = std::make_unique<SliderAttachment>(processor_.parameters(), id, knob.slider);
}

void RillEditor::paint(juce::Graphics& g) {
    g.fillAll(kBackground);
    g.setColour(juce::Colours::white.withAlpha(0.35f));
    g.setFont(12.0f);
    g.drawText("drop a .rill file here", getLocalBounds().removeFromBottom(16).reduced(8, 0),
               juce::Justification::centredRight);
}

void RillEditor::resized() {
    auto area = getLocalBounds().reduced(10);
    auto top = area.removeFromTop(28);
    load_button_.setBounds(top.removeFromLeft(130));
    top.removeFromLeft(8);
    unload_button_.setBounds(top.removeFromLeft(80));
    top.removeFromLeft(8);
    recent_.setBounds(top);
    area.removeFromTop(8);

    name_.setBounds(area.removeFromTop(30));
    description_.setBounds(area.removeFromTop(40));
    license_.setBounds(area.removeFromTop(20));
    timing_.setBounds(area.removeFromTop(20));
    message_.setBounds(area.removeFromTop(36));
    area.removeFromBottom(14);

    auto meters = area.removeFromLeft(120);
    input_meter_.setBounds(meters.removeFromLeft(60));
    output_meter_.setBounds(meters);
    area.removeFromLeft(10);

    const int rows = 2, columns = 6;
    const int cell_w = area.getWidth() / columns, cell_h = area.getHeight() / rows;
    std::vector<Knob*> knobs{&mix_, &input_gain_, &output_gain_};
    for (auto& k : model_knobs_)
        if (k->slider.isVisible())
            knobs.push_back(k.get());
    auto place = [&](int index) {
        const int row = index / columns, column = index % columns;
        return juce::Rectangle<int>(area.getX() + column * cell_w, area.getY() + row * cell_h,
                                    cell_w, cell_h);
    };
    int index = 0;
    for (Knob* k : knobs) {
        auto cell = place(index++).reduced(4);
        k->label.setBounds(cell.removeFromTop(18));
        k->slider.setBounds(cell);
    }
    bypass_.setBounds(place(index).reduced(4).withHeight(28));
}

bool RillEditor::isInterestedInFileDrag(const juce::StringArray& files) {
    return files.size() == 1;
}

void RillEditor::filesDropped(const juce::StringArray& files, int, int) {
    if (files.size() == 1)
        processor_.load_model(files[0]);
}

void RillEditor::choose_file() {
    chooser_ = std::make_unique<juce::FileChooser>("Load a Rill model", juce::File(), "*.rill");
    chooser_->launchAsync(juce::FileBrowserComponent::openMode |
                              juce::FileBrowserComponent::canSelectFiles,
                          [this](const juce::FileChooser& chooser) {
                              const juce::File file = chooser.getResult();
                              if (file != juce::File())
                                  processor_.load_model(file.getFullPathName());
                          });
}

void RillEditor::refresh_recent() {
    recent_paths_ = recent_models();
    recent_.clear(juce::dontSendNotification);
    for (int i = 0; i < recent_paths_.size(); ++i)
        recent_.addItem(recent_paths_[i], i + 1);
}

void RillEditor::show_status(const ModelStatus& status) {
    using State = ModelStatus::State;
    const bool loaded = status.state == State::loaded;
    name_.setText(loaded                           ? juce::String::fromUTF8(status.name.c_str())
                  : status.state == State::loading ? juce::String("Loading...")
                                                   : juce::String("No model"),
                  juce::dontSendNotification);
    description_.setText(loaded ? juce::String::fromUTF8(status.description.c_str())
                                : juce::String("Load a .rill model: button above, recent list, or "
                                               "drag and drop. Audio passes through meanwhile."),
                         juce::dontSendNotification);
    license_.setText(loaded ? "License: " + juce::String::fromUTF8(status.license.c_str()) : "",
                     juce::dontSendNotification);
    if (status.state == State::failed) {
        message_.setColour(juce::Label::textColourId, kError);
        message_.setText(juce::String::fromUTF8(status.error.c_str()), juce::dontSendNotification);
    } else {
        message_.setColour(juce::Label::textColourId, kWarning);
        message_.setText(juce::String::fromUTF8(status.warning.c_str()),
                         juce::dontSendNotification);
    }
    for (int i = 0; i < static_cast<int>(kParamSlots); ++i) {
        Knob& knob = *model_knobs_[static_cast<size_t>(i)];
        const bool used = loaded && i < static_cast<int>(status.params.size());
        knob.slider.setVisible(used);
        knob.label.setVisible(used);
        if (used) {
            const rill::Param& p = status.params[static_cast<size_t>(i)];
            knob.label.setText(juce::String::fromUTF8(p.name.c_str()) +
                                   (p.unit.empty() ? "" : " (" + juce::String(p.unit) + ")"),
                               juce::dontSendNotification);
            knob.slider.updateText();
        }
    }
    refresh_recent();
    resized();
}

void RillEditor::timerCallback() {
    const ModelStatus status = processor_.model_status();
    const bool loading = status.state == ModelStatus::State::loading;
    if (status.generation != shown_generation_ || loading != shown_loading_) {
        shown_generation_ = status.generation;
        shown_loading_ = loading;
        show_status(status);
    }
    AudioEngine& engine = processor_.engine();
    const int latency = processor_.getLatencySamples(); // what the host is told
    const double rate = status.host_rate > 0 ? status.host_rate : engine.config().sample_rate;
    timing_.setText("Latency " + juce::String(1000.0 * latency / rate, 2) + " ms (" +
                        juce::String(latency) + " samples at " + juce::String(rate / 1000.0, 1) +
                        " kHz)   DSP load " + juce::String(100.0f * engine.dsp_load(), 1) + " %",
                    juce::dontSendNotification);
    const int channels = static_cast<int>(engine.config().channels);
    input_meter_.push({engine.take_input_peak(0), engine.take_input_peak(1)}, channels,
                      1.0f / kTimerHz);
    output_meter_.push({engine.take_output_peak(0), engine.take_output_peak(1)}, channels,
                       1.0f / kTimerHz);
}

} // namespace rill::plugin
