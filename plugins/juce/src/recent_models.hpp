// The recently loaded model files, most recent first, kept in the user's settings
// (~/.config/Rill/RecentModels.settings on Linux). Message thread only.
#pragma once

#include <juce_core/juce_core.h>

namespace rill::plugin {

juce::StringArray recent_models();
void remember_recent_model(const juce::String& path);

} // namespace rill::plugin
