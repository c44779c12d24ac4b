// Counts heap allocations made by the whole process (malloc family and operator new, including
// those inside librill.so, whose calls bind to these definitions) while counting is enabled,
// or only those of one thread (ThreadScope: the audio thread of a plugin test, while other
// threads may allocate). The one implementation, used by `rill bench`, the real-time tests and
// the plugin's tests.
#pragma once

#include <atomic>
#include <cstddef>

namespace rill::alloc {
extern std::atomic<bool> g_enabled;
extern std::atomic<size_t> g_count;

// Counts allocations and frees between construction and count().
struct Scope {
    Scope() {
        g_count = 0;
        g_enabled = true;
    }
    ~Scope() { g_enabled = false; }
    size_t count() const { return g_count.load(); }
};

// Counts the allocations and frees of the constructing thread only, until destroyed.
class ThreadScope {
public:
    ThreadScope();
    ~ThreadScope();
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;
    size_t count() const { return g_count.load(); }
};
} // namespace rill::alloc
