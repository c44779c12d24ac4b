// Counts heap allocations and frees made by ONE thread (the test's audio thread) while a Scope
// lives on it; other threads (the model loader, JUCE's message thread) may allocate freely.
// malloc-family and operator new/delete interposition, as apps/cli/alloc_counter does for the
// whole process.
#pragma once

#include <cstddef>

namespace rill::plugin::test {

class AudioThreadAllocScope {
public:
    AudioThreadAllocScope();
    ~AudioThreadAllocScope();
    AudioThreadAllocScope(const AudioThreadAllocScope&) = delete;
    AudioThreadAllocScope& operator=(const AudioThreadAllocScope&) = delete;
    size_t count() const;
};

} // namespace rill::plugin::test
