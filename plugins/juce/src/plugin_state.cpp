#include "plugin_state.hpp"

namespace rill::plugin {
namespace {
const juce::Identifier kModelPath{"model_path"};
const juce::Identifier kModelHash{"model_hash"};
} // namespace

void write_state(juce::AudioProcessorValueTreeState& parameters, const SavedModel& model,
                 juce::MemoryBlock& destination) {
    juce::ValueTree state = parameters.copyState();
    state.setProperty(kModelPath, model.path, nullptr);
    state.setProperty(kModelHash, model.hash, nullptr);
    if (const std::unique_ptr<juce::XmlElement> xml = state.createXml())
        juce::AudioProcessor::copyXmlToBinary(*xml, destination);
}

std::optional<SavedModel> read_state(juce::AudioProcessorValueTreeState& parameters,
                                     const void* data, int size) {
    const std::unique_ptr<juce::XmlElement> xml =
        juce::AudioProcessor::getXmlFromBinary(data, size);
    if (!xml || !xml->hasTagName(parameters.state.getType()))
        return std::nullopt;
    const juce::ValueTree state = juce::ValueTree::fromXml(*xml);
    SavedModel model{state.getProperty(kModelPath).toString(),
                     state.getProperty(kModelHash).toString()};
    parameters.replaceState(state);
    return model;
}

} // namespace rill::plugin
