// Streaming band-limited resampler (windowed sinc) with a fixed, exactly known delay, so that the
// plugin reports its latency to the sample when the host's rate differs from the model's.
//
// Output frame k is the input interpolated at input time t_k = k * in_rate / out_rate - delay:
//   y[k] = sum_i x[i] h(t_k - i),   h(t) = 2 fc sinc(2 fc t) kaiser(t / W),  |t| < W
// fc = 0.45 * min(1, out_rate / in_rate) cycles per input frame (below both Nyquist frequencies),
// W = 16 zero crossings = 16 / (2 fc) input frames, Kaiser window with beta 8. The kernel is
// tabulated at construction and read with linear interpolation. Time is kept as an exact
// fraction of the two integer rates, so the delay never drifts.
//
// With delay >= W, output k needs no input at or after ceil(k * in_rate / out_rate): after n
// input frames in all, at least ceil(n * out_rate / in_rate) output frames have come out.
// Memory is taken at construction; process and reset are real-time safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rill::plugin {

class Resampler {
public:
    // delay in input frames (>= half_width); max_input_frames bounds `frames` of process().
    Resampler(uint32_t in_rate, uint32_t out_rate, double delay, size_t max_input_frames);

    // W: the kernel's half width in input frames.
    static double half_width(uint32_t in_rate, uint32_t out_rate);

    // Most output frames one process() call writes.
    size_t max_output_frames() const noexcept { return max_output_; }
    static size_t max_output_frames(uint32_t in_rate, uint32_t out_rate, size_t max_input_frames);

    // Takes `frames` input frames (at most max_input_frames), writes every output frame that
    // is now computable (at most max_output_frames()) and returns their number.
    size_t process(const float* in, size_t frames, float* out) noexcept;
    void reset() noexcept;

private:
    float kernel(double t) const noexcept;

    uint64_t in_rate_, out_rate_;
    double delay_, width_;
    size_t max_input_, max_output_, history_;
    std::vector<float> table_;  // h(|t|) at kTableResolution points per input frame
    std::vector<float> buffer_; // input frames base_ .. base_ + filled_ - 1
    int64_t base_ = 0;
    size_t filled_ = 0;
    uint64_t whole_ = 0, remainder_ = 0; // k * in_rate = whole_ * out_rate + remainder_
};

} // namespace rill::plugin
