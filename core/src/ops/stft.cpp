// Streaming STFT and iSTFT (torch.stft / torch.istft conventions, onesided, not normalised).
//
// stft: X_c[f, t] = sum_j w[j] xp_c[t*hop + j] exp(-2 pi i f j / n_fft), f = 0 .. n_fft/2,
//   xp = x padded by p = n_fft/2 on both sides when `center`: zeros (pad_mode "constant") or the
//   reflection x[p - j] (pad_mode "reflect", torch.stft's default) at the start. Attribute `pad`
//   sets p explicitly (Vocos / Wavehax pad (n_fft - hop)/2 zeros: torch.stft(F.pad(x, (p, p)),
//   center=False)).
//   Output channel c*2F + f = Re X_c[f], c*2F + F + f = Im X_c[f], F = n_fft/2 + 1.
//   It is a strided window, streamed exactly like conv1d (kernel n_fft, stride hop): the last
//   n_fft-1 input frames are cached and the frames end at input phase D mod hop,
//   D = n_fft - 1 - p + cd; latency floor(D / hop) frames. Reflect padding needs the sample
//   after the first window (x[p]), so it adds one sample to D and to the cache.
// istft: y = (sum_t w[j] irfft(X[:, t])[j] placed at t*hop + j) / (sum_t w[j]^2 placed likewise),
//   then drops the first p samples (latency p + cd*hop; p as for stft, 0 when not centred).
//   The envelope only counts frames after the pre-roll, as offline only has frames from t = 0;
//   attribute `eps` (default 0) is added to it (DCCRN/FRCRN's ConviSTFT divides by envelope +
//   1e-8); where the sum is below 1e-11 the output is 0.
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "families.hpp"
#include "fft.hpp"
#include "overlap_add.hpp"
#include "sliding_input.hpp"

namespace rill {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct StftAttrs {
    int64_t n_fft = 0, hop = 0;
    bool center = true;
    bool reflect = false; // pad_mode "reflect" (stft only)
    int64_t pad = 0;      // samples of padding at the start (stft) / dropped (istft)
    std::vector<float> window;

    static StftAttrs read(const OpBuildContext& ctx) {
        ctx.expect_inputs(1, 1);
        StftAttrs a;
        a.n_fft = ctx.attr_int_required("n_fft");
        a.hop = ctx.attr_int("hop", a.n_fft / 4);
        a.center = ctx.attr_int("center", 1) != 0;
        const std::string pad_mode = ctx.attr_string("pad_mode", "constant");
        if (pad_mode != "constant" && pad_mode != "reflect")
            ctx.fail("pad_mode must be constant or reflect, got \"" + pad_mode + "\"");
        if (a.n_fft < 2 || a.n_fft > (1 << 16) || a.n_fft % 2 != 0)
            ctx.fail("n_fft must be even and in 2..65536, got " + std::to_string(a.n_fft));
        a.pad = ctx.attr_int("pad", a.center ? a.n_fft / 2 : 0);
        if (a.pad < 0 || a.pad > a.n_fft - 1)
            ctx.fail("pad must be in 0..n_fft-1, got " + std::to_string(a.pad));
        a.reflect = a.pad > 0 && pad_mode == "reflect";
        if (a.reflect && a.pad > a.n_fft / 2)
            ctx.fail("reflect padding needs pad <= n_fft/2, got " + std::to_string(a.pad));
        if (a.hop < 1 || a.hop > a.n_fft)
            ctx.fail("hop must be in 1..n_fft, got " + std::to_string(a.hop));
        if (const Tensor* w = ctx.optional_weight("window", {a.n_fft})) {
            a.window.assign(w->data, w->data + a.n_fft);
            return a;
        }
        const std::string kind = ctx.attr_string("window", "hann");
        a.window.resize(static_cast<size_t>(a.n_fft));
        for (int64_t j = 0; j < a.n_fft; ++j) {
            const double c =
                std::cos(2 * kPi * static_cast<double>(j) / static_cast<double>(a.n_fft));
            double v;
            if (kind == "hann")
                v = 0.5 - 0.5 * c;
            else if (kind == "sqrt_hann")
                v = std::sqrt(0.5 - 0.5 * c);
            else if (kind == "hamming")
                v = 0.54 - 0.46 * c;
            else if (kind == "rect")
                v = 1.0;
            else
                ctx.fail("window must be hann, sqrt_hann, hamming or rect, got \"" + kind + "\"");
            a.window[static_cast<size_t>(j)] = static_cast<float>(v);
        }
        return a;
    }
    int64_t bins() const { return n_fft / 2 + 1; }
};

class Stft final : public Op {
public:
    explicit Stft(const OpBuildContext& ctx) : a_(StftAttrs::read(ctx)) {}
    // The FFT plans are per stream: a clone plans its own in prepare().
    Stft(const Stft& o)
        : Op(), a_(o.a_), channels_(o.channels_), input_latency_(o.input_latency_),
          phase_(o.phase_), latency_frames_(o.latency_frames_) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<Stft>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        channels_ = in[0].channels;
        input_latency_ = in[0].latency;
        const int64_t d = a_.n_fft - 1 + extra() - a_.pad + input_latency_;
        phase_ = d % a_.hop;
        latency_frames_ = d / a_.hop;
        return {PortInfo{static_cast<uint32_t>(channels_ * 2 * a_.bins()),
                         in[0].rate.divided_by(a_.hop), latency_frames_}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        input_.take(arena, channels_, static_cast<size_t>(a_.n_fft - 1 + extra()),
                    info.max_input_frames, input_latency_);
        fft_.take(arena, static_cast<size_t>(a_.n_fft));
        emitted_ = arena.state<int64_t>(1);
    }

    void process(const ConstView* in, const View* out, size_t n, size_t n_out,
                 const ProcessContext&) noexcept override {
        input_.load(in[0], n);
        const size_t nfft = static_cast<size_t>(a_.n_fft), bins = static_cast<size_t>(a_.bins());
        for (uint32_t c = 0; c < channels_; ++c) {
            const float* x = input_.channel(c) + phase_;
            for (size_t m = 0; m < n_out; ++m) {
                const float* frame = x + m * static_cast<size_t>(a_.hop);
                for (size_t j = 0; j < nfft; ++j)
                    fft_.time()[j] = frame[j] * a_.window[j];
                reflect_start(frame, *emitted_ + static_cast<int64_t>(m) - latency_frames_);
                fft_.forward();
                const size_t re = c * 2 * bins, im = re + bins; // first output channels
                for (size_t f = 0; f < bins; ++f) {
                    out[0].channel(static_cast<uint32_t>(re + f))[m] = fft_.freq()[2 * f];
                    out[0].channel(static_cast<uint32_t>(im + f))[m] = fft_.freq()[2 * f + 1];
                }
            }
        }
        input_.commit();
        *emitted_ += static_cast<int64_t>(n_out);
    }

private:
    int64_t extra() const { return a_.reflect ? 1 : 0; }

    // Offline frame g < pad / hop starts in the padding: with reflect padding, its padded
    // samples xp[j] = x[p0 - j] (p0 = pad - g hop, where x[0] sits in the window) replace the
    // zeros the cache holds there. The window buffer reaches one sample past its end (extra()).
    void reflect_start(const float* frame, int64_t g) noexcept {
        const int64_t p0 = a_.pad - g * a_.hop;
        if (!a_.reflect || g < 0 || p0 <= 0)
            return;
        for (int64_t j = 0; j < p0; ++j)
            fft_.time()[j] = frame[2 * p0 - j] * a_.window[static_cast<size_t>(j)];
    }

    StftAttrs a_;
    uint32_t channels_ = 0;
    int64_t input_latency_ = 0, phase_ = 0, latency_frames_ = 0;
    int64_t* emitted_ = nullptr;
    SlidingInput input_;
    RealFft fft_;
};

class Istft final : public Op {
public:
    explicit Istft(const OpBuildContext& ctx)
        : a_(StftAttrs::read(ctx)), where_(ctx.where()),
          eps_(static_cast<float>(ctx.attr_float("eps", 0.0))) {
        if (!(eps_ >= 0.0f))
            ctx.fail("eps must be >= 0");
    }
    Istft(const Istft& o)
        : Op(), a_(o.a_), where_(o.where_), eps_(o.eps_), channels_(o.channels_),
          input_latency_(o.input_latency_) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<Istft>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        const int64_t per = 2 * a_.bins();
        if (in[0].channels % per != 0)
            fail_format(where_ + ": input has " + std::to_string(in[0].channels) +
                        " channels, expected a multiple of 2*(n_fft/2+1) = " + std::to_string(per));
        channels_ = static_cast<uint32_t>(in[0].channels / per);
        input_latency_ = in[0].latency;
        return {PortInfo{channels_, in[0].rate.times(a_.hop), a_.pad + input_latency_ * a_.hop}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        const size_t tail = static_cast<size_t>(a_.n_fft - a_.hop);
        signal_.take(arena, channels_, tail, info.max_output_frames);
        envelope_.take(arena, 1, tail, info.max_output_frames);
        preroll_.latency = input_latency_;
        preroll_.seen = arena.state<int64_t>(1);
        fft_.take(arena, static_cast<size_t>(a_.n_fft));
    }

    void process(const ConstView* in, const View* out, size_t n, size_t n_out,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        const size_t nfft = static_cast<size_t>(a_.n_fft), bins = static_cast<size_t>(a_.bins());
        const size_t hop = static_cast<size_t>(a_.hop);
        const float scale = 1.0f / static_cast<float>(nfft);
        signal_.begin(n_out);
        envelope_.begin(n_out);
        float* env = envelope_.channel(0);
        for (size_t t = skip; t < n; ++t)
            for (size_t j = 0; j < nfft; ++j)
                env[t * hop + j] += a_.window[j] * a_.window[j];
        for (uint32_t c = 0; c < channels_; ++c) {
            float* acc = signal_.channel(c);
            for (size_t t = skip; t < n; ++t) {
                const size_t re = c * 2 * bins, im = re + bins; // first input channels
                for (size_t f = 0; f < bins; ++f) {
                    fft_.freq()[2 * f] = in[0].channel(static_cast<uint32_t>(re + f))[t];
                    fft_.freq()[2 * f + 1] = in[0].channel(static_cast<uint32_t>(im + f))[t];
                }
                fft_.freq()[1] = 0.0f; // the imaginary parts of DC and Nyquist do not exist (irfft)
                fft_.freq()[2 * bins - 1] = 0.0f;
                fft_.inverse();
                for (size_t j = 0; j < nfft; ++j)
                    acc[t * hop + j] += fft_.time()[j] * scale * a_.window[j];
            }
            float* y = out[0].channel(c);
            for (size_t u = 0; u < n_out; ++u) {
                const float e = env[u] + eps_;
                y[u] = e > 1e-11f ? acc[u] / e : 0.0f;
            }
        }
        signal_.end();
        envelope_.end();
    }

private:
    StftAttrs a_;
    std::string where_;
    float eps_ = 0.0f;
    uint32_t channels_ = 0;
    int64_t input_latency_ = 0;
    OverlapAdd signal_, envelope_;
    PreRoll preroll_;
    RealFft fft_;
};

} // namespace

void register_stft_ops(OpRegistry& r) {
    r.add("stft", [](const OpBuildContext& ctx) { return std::make_unique<Stft>(ctx); });
    r.add("istft", [](const OpBuildContext& ctx) { return std::make_unique<Istft>(ctx); });
}

} // namespace rill
