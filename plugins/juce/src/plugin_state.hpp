// The plugin's saved state: every parameter (the AudioProcessorValueTreeState) plus the model
// file's path and the hash of its bytes, as XML in the host's session.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <optional>

namespace rill::plugin {

struct SavedModel {
    juce::String path, hash; // empty path: no model
};

void write_state(juce::AudioProcessorValueTreeState& parameters, const SavedModel& model,
                 juce::MemoryBlock& destination);
// Restores the parameters and returns the model to load; std::nullopt when the data is not a
// state of this plugin (then nothing changes).
std::optional<SavedModel> read_state(juce::AudioProcessorValueTreeState& parameters,
                                     const void* data, int size);

} // namespace rill::plugin
