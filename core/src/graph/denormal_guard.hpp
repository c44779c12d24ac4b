// Flushes denormals to zero (FTZ | DAZ in MXCSR) for the guard's scope and restores the caller's
// mode on exit: stream processing runs under one, and so do the tools' runs of a tensor program
// (ProgramInstance), so they compute and time what a stream does. Denormal arithmetic is many
// times slower than normal arithmetic on x86, and pruned or folded weights produce it.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define RILL_HAVE_MXCSR 1
#endif

namespace rill {

class DenormalGuard {
public:
    DenormalGuard() noexcept {
#ifdef RILL_HAVE_MXCSR
        saved_ = _mm_getcsr();
        _mm_setcsr(saved_ | 0x8040); // FTZ | DAZ
#endif
    }
    ~DenormalGuard() {
#ifdef RILL_HAVE_MXCSR
        _mm_setcsr(saved_);
#endif
    }
    DenormalGuard(const DenormalGuard&) = delete;
    DenormalGuard& operator=(const DenormalGuard&) = delete;

private:
    unsigned saved_ = 0;
};

} // namespace rill
