// Real FFT of one size for one stream, over FFTW (single precision). Plans are made at creation
// (FFTW planning is not thread-safe: a global mutex serialises it); execution is real-time safe.
#pragma once

#include <cstddef>

namespace rill {

class RealFft {
public:
    RealFft() = default;
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;
    ~RealFft();

    // time: n floats, freq: 2*(n/2+1) floats (interleaved re, im); both 64-byte aligned arena
    // memory that stays valid while this object lives.
    void plan(size_t n, float* time, float* freq);
    // time -> freq (unnormalised).
    void forward() noexcept;
    // freq -> time (unnormalised: a round trip scales by n). Overwrites freq.
    void inverse() noexcept;

private:
    void destroy();
    void* forward_plan_ = nullptr;
    void* inverse_plan_ = nullptr;
};

} // namespace rill
