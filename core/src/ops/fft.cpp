#include "fft.hpp"

#include <mutex>

#include <fftw3.h>

#include "rill/core/error.hpp"

namespace rill {
namespace {
std::mutex& planner_mutex() {
    static std::mutex m;
    return m;
}
} // namespace

RealFft::~RealFft() { destroy(); }

void RealFft::destroy() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    if (forward_plan_)
        fftwf_destroy_plan(static_cast<fftwf_plan>(forward_plan_));
    if (inverse_plan_)
        fftwf_destroy_plan(static_cast<fftwf_plan>(inverse_plan_));
    forward_plan_ = inverse_plan_ = nullptr;
}

void RealFft::take(Arena& arena, size_t n) {
    time_ = arena.scratch<float>(n);
    freq_ = arena.scratch<float>(2 * (n / 2 + 1));
    if (!arena.sizing())
        plan(n, time_, freq_);
}

void RealFft::plan(size_t n, float* time, float* freq) {
    destroy();
    std::lock_guard<std::mutex> lock(planner_mutex());
    auto* spec = reinterpret_cast<fftwf_complex*>(freq);
    forward_plan_ = fftwf_plan_dft_r2c_1d(static_cast<int>(n), time, spec, FFTW_ESTIMATE);
    inverse_plan_ =
        fftwf_plan_dft_c2r_1d(static_cast<int>(n), spec, time, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
    if (!forward_plan_ || !inverse_plan_)
        throw CoreError(ErrorKind::Internal,
                    "FFTW could not plan a real FFT of size " + std::to_string(n));
}

void RealFft::forward() noexcept { fftwf_execute(static_cast<fftwf_plan>(forward_plan_)); }

void RealFft::inverse() noexcept { fftwf_execute(static_cast<fftwf_plan>(inverse_plan_)); }

} // namespace rill
