// Counts heap allocations made by this process (malloc family and operator new, including those
// made inside librill.so, whose calls bind to these definitions) while counting is enabled.
#pragma once

#include <atomic>
#include <cstddef>

namespace rill::test {
extern std::atomic<bool> g_count_allocations;
extern std::atomic<size_t> g_allocations;

struct CountAllocations {
    CountAllocations() {
        g_allocations = 0;
        g_count_allocations = true;
    }
    ~CountAllocations() { g_count_allocations = false; }
    size_t count() const { return g_allocations.load(); }
};
} // namespace rill::test
