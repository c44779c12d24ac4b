#include "recent_models.hpp"

#include <juce_data_structures/juce_data_structures.h>

namespace rill::plugin {
namespace {

constexpr int kMaxRecent = 10;
const char* const kKey = "recent_models";

std::unique_ptr<juce::PropertiesFile> open_settings() {
    juce::PropertiesFile::Options options;
    options.applicationName = "RecentModels";
    options.filenameSuffix = ".settings";
    options.folderName = "Rill";
    options.osxLibrarySubFolder = "Application Support";
    return std::make_unique<juce::PropertiesFile>(options);
}

} // namespace

juce::StringArray recent_models() {
    juce::StringArray paths;
    paths.addLines(open_settings()->getValue(kKey));
    paths.removeEmptyStrings();
    return paths;
}

void remember_recent_model(const juce::String& path) {
    juce::StringArray paths = recent_models();
    paths.removeString(path);
    paths.insert(0, path);
    while (paths.size() > kMaxRecent)
        paths.remove(paths.size() - 1);
    auto settings = open_settings();
    settings->setValue(kKey, paths.joinIntoString("\n"));
    settings->saveIfNeeded();
}

} // namespace rill::plugin
