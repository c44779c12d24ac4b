#include "engine/resampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace rill::plugin {
namespace {

constexpr double kZeroCrossings = 16.0;
constexpr double kCutoffFraction = 0.45; // of the lower sample rate
constexpr double kKaiserBeta = 8.0;
constexpr int kTableResolution = 256;
constexpr double kPi = 3.14159265358979323846;

double cutoff(uint32_t in_rate, uint32_t out_rate) {
    return kCutoffFraction * std::min(1.0, static_cast<double>(out_rate) / in_rate);
}

// Modified Bessel function of the first kind, order 0 (power series).
double bessel_i0(double x) {
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 50; ++k) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        if (term < 1e-12 * sum)
            break;
    }
    return sum;
}

} // namespace

double Resampler::half_width(uint32_t in_rate, uint32_t out_rate) {
    return kZeroCrossings / (2.0 * cutoff(in_rate, out_rate));
}

size_t Resampler::max_output_frames(uint32_t in_rate, uint32_t out_rate, size_t max_input_frames) {
    return static_cast<size_t>(
               std::ceil(static_cast<double>(max_input_frames) * out_rate / in_rate)) +
           2;
}

Resampler::Resampler(uint32_t in_rate, uint32_t out_rate, double delay, size_t max_input_frames)
    : in_rate_(in_rate), out_rate_(out_rate), delay_(delay), width_(half_width(in_rate, out_rate)),
      max_input_(max_input_frames) {
    max_output_ = max_output_frames(in_rate, out_rate, max_input_frames);
    history_ = static_cast<size_t>(std::ceil(2.0 * width_ + delay_)) + 4;
    const double fc = cutoff(in_rate, out_rate);
    const size_t points = static_cast<size_t>(std::ceil(width_ * kTableResolution)) + 2;
    table_.assign(points, 0.0f);
    const double norm = bessel_i0(kKaiserBeta);
    for (size_t j = 0; j < points; ++j) {
        const double t = static_cast<double>(j) / kTableResolution;
        if (t >= width_)
            break;
        const double x = 2.0 * fc * t;
        const double sinc = x == 0.0 ? 1.0 : std::sin(kPi * x) / (kPi * x);
        const double r = t / width_;
        const double window = bessel_i0(kKaiserBeta * std::sqrt(1.0 - r * r)) / norm;
        table_[j] = static_cast<float>(2.0 * fc * sinc * window);
    }
    buffer_.assign(history_ + max_input_, 0.0f);
    reset();
}

void Resampler::reset() noexcept {
    // The signal before the first frame is silence: start with a full history of zeros.
    std::fill(buffer_.begin(), buffer_.end(), 0.0f);
    base_ = -static_cast<int64_t>(history_);
    filled_ = history_;
    whole_ = 0;
    remainder_ = 0;
}

float Resampler::kernel(double t) const noexcept {
    const double pos = std::fabs(t) * kTableResolution;
    const size_t j = static_cast<size_t>(pos);
    if (j + 1 >= table_.size())
        return 0.0f;
    const float f = static_cast<float>(pos - static_cast<double>(j));
    return table_[j] + f * (table_[j + 1] - table_[j]);
}

size_t Resampler::process(const float* in, size_t frames, float* out) noexcept {
    frames = std::min({frames, max_input_, buffer_.size() - filled_});
    std::memcpy(buffer_.data() + filled_, in, frames * sizeof(float));
    filled_ += frames;
    const int64_t end = base_ + static_cast<int64_t>(filled_); // one past the newest input frame

    size_t produced = 0;
    while (produced < max_output_) {
        const double t = static_cast<double>(whole_) - delay_ +
                         static_cast<double>(remainder_) / static_cast<double>(out_rate_);
        const int64_t last = static_cast<int64_t>(std::floor(t + width_));
        if (last >= end)
            break;
        const int64_t first = std::max(static_cast<int64_t>(std::floor(t - width_)) + 1, base_);
        double sum = 0.0;
        for (int64_t i = first; i <= last; ++i)
            sum += static_cast<double>(buffer_[static_cast<size_t>(i - base_)]) *
                   kernel(t - static_cast<double>(i));
        out[produced++] = static_cast<float>(sum);
        remainder_ += in_rate_;
        whole_ += remainder_ / out_rate_;
        remainder_ %= out_rate_;
    }

    // Keep only what the next output frames can still need.
    const double t_next = static_cast<double>(whole_) - delay_ +
                          static_cast<double>(remainder_) / static_cast<double>(out_rate_);
    const int64_t keep_from = std::min(static_cast<int64_t>(std::floor(t_next - width_)), end - 1);
    if (keep_from > base_) {
        const size_t drop = static_cast<size_t>(keep_from - base_);
        std::memmove(buffer_.data(), buffer_.data() + drop, (filled_ - drop) * sizeof(float));
        filled_ -= drop;
        base_ = keep_from;
    }
    return produced;
}

} // namespace rill::plugin
