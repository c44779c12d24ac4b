// One arena per stream. Ops ask for memory in prepare(); the stream calls prepare() twice: first
// with a sizing arena (returns nullptr, only counts bytes), then with the real arena. So prepare()
// must only record the pointers it gets, never dereference them.
//
// Two regions: `state` (everything that must survive between process calls and is snapshotted
// byte for byte by state get/set; zeroed by reset) and `scratch` (temporary per call).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill {

class Arena {
public:
    static constexpr size_t kAlign = 64;

    // Sizing arena.
    Arena() = default;
    // Real arena over preallocated, kAlign-aligned regions of the sizes a sizing pass reported.
    Arena(std::byte* state, size_t state_bytes, std::byte* scratch, size_t scratch_bytes)
        : state_base_(state), state_cap_(state_bytes), scratch_base_(scratch),
          scratch_cap_(scratch_bytes), sizing_(false) {}

    template <typename T> T* state(size_t count) {
        return static_cast<T*>(take(state_base_, state_used_, state_cap_, count * sizeof(T)));
    }
    template <typename T> T* scratch(size_t count) {
        return static_cast<T*>(take(scratch_base_, scratch_used_, scratch_cap_, count * sizeof(T)));
    }

    size_t state_bytes() const { return state_used_; }
    size_t scratch_bytes() const { return scratch_peak_; }

    // Scratch taken after mark() can be given back with rewind(mark): the stream does this
    // around each op's prepare(), because an op's scratch is only live during its own call.
    size_t mark() const { return scratch_used_; }
    void rewind(size_t mark) { scratch_used_ = mark; }
    bool sizing() const { return sizing_; }

private:
    void* take(std::byte* base, size_t& used, size_t cap, size_t bytes);

    std::byte* state_base_ = nullptr;
    size_t state_cap_ = 0;
    size_t state_used_ = 0;
    std::byte* scratch_base_ = nullptr;
    size_t scratch_cap_ = 0;
    size_t scratch_used_ = 0;
    size_t scratch_peak_ = 0;
    bool sizing_ = true;
};

} // namespace rill
