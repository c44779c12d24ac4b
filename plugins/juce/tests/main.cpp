// The plugin test program: rill_plugin_tests [gtest options] --models DIR --drive MODEL
// [--vst3 BUNDLE --rill COMMAND]. Runs with a JUCE message manager on the main thread and a
// private HOME (the plugin keeps its recent-models list there).
#include <gtest/gtest.h>
#include <juce_events/juce_events.h>

#include <cstdlib>
#include <string>

#include "test_paths.hpp"

namespace rill::plugin::test {
namespace {
TestPaths g_paths;
}
const TestPaths& paths() {
    return g_paths;
}
} // namespace rill::plugin::test

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    rill::plugin::test::TestPaths& p = rill::plugin::test::g_paths;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--models")
            p.models = value;
        else if (key == "--drive")
            p.drive = value;
        else if (key == "--vst3")
            p.vst3 = value;
        else if (key == "--rill")
            p.rill = value;
        else {
            std::fprintf(stderr, "rill_plugin_tests: unknown option %s\n", key.c_str());
            return 2;
        }
    }
    const juce::File work = juce::File::getSpecialLocation(juce::File::tempDirectory)
                                .getNonexistentChildFile("rill-plugin-tests", "");
    work.createDirectory();
    p.work = work.getFullPathName().toStdString();
    setenv("HOME", p.work.c_str(), 1);

    int result = 0;
    {
        juce::ScopedJuceInitialiser_GUI juce_init;
        result = RUN_ALL_TESTS();
    }
    work.deleteRecursively();
    return result;
}
