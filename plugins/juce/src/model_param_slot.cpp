#include "model_param_slot.hpp"

namespace rill::plugin {

ModelParamSlot::ModelParamSlot(int index)
    : juce::AudioParameterFloat(juce::ParameterID{id_for(index), 1},
                                "Model parameter " + juce::String(index + 1),
                                juce::NormalisableRange<float>(0.0f, 1.0f), 0.5f),
      index_(index) {}

void ModelParamSlot::assign(const rill::Param* param) {
    std::lock_guard<std::mutex> lock(mutex_);
    used_ = param != nullptr;
    if (!param) {
        name_ = unit_ = {};
        min_ = 0.0f, max_ = 1.0f, default_ = 0.5f;
        return;
    }
    name_ = juce::String::fromUTF8(param->name.c_str());
    unit_ = juce::String::fromUTF8(param->unit.c_str());
    min_ = param->min_value;
    max_ = param->max_value;
    default_ = param->default_value;
}

bool ModelParamSlot::in_use() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return used_;
}

float ModelParamSlot::default_normalised() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return max_ > min_ ? juce::jlimit(0.0f, 1.0f, (default_ - min_) / (max_ - min_)) : 0.0f;
}

juce::String ModelParamSlot::getName(int maximum_length) const {
    std::lock_guard<std::mutex> lock(mutex_);
    // Unused slots keep a generic name (LV2 hosts only ever see these: names are in the .ttl).
    const juce::String name = used_ ? name_ : "Model parameter " + juce::String(index_ + 1);
    return maximum_length > 0 ? name.substring(0, maximum_length) : name;
}

juce::String ModelParamSlot::getLabel() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return unit_;
}

juce::String ModelParamSlot::getText(float normalised, int maximum_length) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const float value = min_ + normalised * (max_ - min_);
    const juce::String text(value, 3);
    return maximum_length > 0 ? text.substring(0, maximum_length) : text;
}

float ModelParamSlot::getValueForText(const juce::String& text) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const float value = text.getFloatValue();
    return max_ > min_ ? juce::jlimit(0.0f, 1.0f, (value - min_) / (max_ - min_)) : 0.0f;
}

} // namespace rill::plugin
