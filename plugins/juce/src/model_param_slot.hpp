// One of the plugin's fixed pool of host-automatable parameters that stand for the loaded
// model's own parameters (rill_model_param): slot i takes the name, unit and range of model
// parameter i. The host sees a 0..1 value; the text shows the model's value in its unit.
// assign() may run on any thread (the name is read by the host on its own threads). Hosts that
// re-read parameter names (VST3) show the model's names; LV2 hosts keep the generic ones.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <mutex>

#include "rill/rill.hpp"

namespace rill::plugin {

class ModelParamSlot : public juce::AudioParameterFloat {
public:
    explicit ModelParamSlot(int index);

    static juce::String id_for(int index) { return "param" + juce::String(index + 1); }

    // param == nullptr: the slot is unused by the loaded model.
    void assign(const rill::Param* param);
    bool in_use() const;
    // The model's default as a 0..1 value.
    float default_normalised() const;

    juce::String getName(int maximum_length) const override;
    juce::String getLabel() const override;
    juce::String getText(float normalised, int maximum_length) const override;
    float getValueForText(const juce::String& text) const override;

private:
    const int index_;
    mutable std::mutex mutex_;
    bool used_ = false;
    juce::String name_, unit_;
    float min_ = 0.0f, max_ = 1.0f, default_ = 0.5f;
};

} // namespace rill::plugin
