// Real FFT of one size for one stream, over FFTW (single precision). Plans are made at creation
// (FFTW planning is not thread-safe: a global mutex serialises it); execution is real-time safe.
#pragma once

#include <cstddef>

#include "rill/core/arena.hpp"

namespace rill {

class RealFft {
public:
    RealFft() = default;
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;
    ~RealFft();

    // Takes the time (n floats) and spectrum (2*(n/2+1) floats, interleaved re, im) buffers from
    // the arena's scratch and, on the real pass, makes the plans over them.
    void take(Arena& arena, size_t n);
    float* time() const noexcept { return time_; }
    float* freq() const noexcept { return freq_; }
    // time -> freq (unnormalised).
    void forward() noexcept;
    // freq -> time (unnormalised: a round trip scales by n). Overwrites freq.
    void inverse() noexcept;

private:
    void plan(size_t n, float* time, float* freq);
    void destroy();
    float* time_ = nullptr;
    float* freq_ = nullptr;
    void* forward_plan_ = nullptr;
    void* inverse_plan_ = nullptr;
};

} // namespace rill
