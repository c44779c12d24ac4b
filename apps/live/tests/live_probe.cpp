// rill-live-probe: the test's other end of rill-live on a JACK server.
//
//   rill-live-probe record --out-dir DIR --seconds S [--lead S] [--name N]
//     Two JACK clients, N_play (port out) and N_rec (port in), so that N_play -> rill-live ->
//     N_rec is a chain, not a cycle: JACK runs all three in the same period and the recording
//     lines up with what was played to the frame. From the first period in which both ports
//     are connected (frame T0 of JACK's clock), it plays `lead` seconds of silence and then a
//     test signal (a chirp plus low-passed noise, deterministic), and records S seconds. Writes
//     DIR/played.wav and DIR/recorded.wav (float, frame 0 = T0) and prints "t0=T0 frames=N".
//
//   rill-live-probe compare RECORDED REFERENCE --from F0 --to F1 [--gain G] [--delay D]
//                          [--tolerance T] [--allow-bad-periods N]
//     Checks |recorded[k] - G * reference[k - D]| <= T * peak for F0 <= k < F1 (peak: the
//     reference segment's), period by period; fails when more than N periods (or half of them)
//     are off, or the recorded segment has a non-finite sample or is silent.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <jack/jack.h>
#include <sndfile.h>

#include "audio_file.hpp"

namespace {

using rill::cli::Audio;

// 0.35 * a linear chirp 60 Hz -> 5 kHz over 3 s (repeating), plus 0.15 * white noise through
// four one-pole low-passes at 1 kHz (little above 20 kHz, so a resampled model compares well).
std::vector<float> test_signal(size_t frames, uint32_t rate) {
    std::vector<float> x(frames);
    const double period = 3.0, f0 = 60.0, f1 = 5000.0, pi = 3.14159265358979323846;
    const double a = 1.0 - std::exp(-2.0 * pi * 1000.0 / rate);
    double lp[4] = {0, 0, 0, 0};
    uint32_t seed = 12345;
    for (size_t k = 0; k < frames; ++k) {
        const double t = std::fmod(static_cast<double>(k) / rate, period);
        const double phase = 2.0 * pi * (f0 * t + 0.5 * (f1 - f0) / period * t * t);
        seed = seed * 1664525u + 1013904223u;
        double v = (seed >> 8) / 8388608.0 - 1.0;
        for (double& s : lp)
            v = s += a * (v - s);
        x[k] = static_cast<float>(0.35 * std::sin(phase) + 0.15 * 4.0 * v);
    }
    return x;
}

struct Recorder {
    jack_client_t *play = nullptr, *rec = nullptr;
    jack_port_t *out = nullptr, *in = nullptr;
    size_t lead = 0, frames = 0;
    std::vector<float> signal, played, recorded;
    std::atomic<bool> armed{false}, rec_connected{false}, done{false};
    std::atomic<uint32_t> t0{0};
};

int on_play(jack_nframes_t n, void* arg) {
    auto& r = *static_cast<Recorder*>(arg);
    auto* out = static_cast<float*>(jack_port_get_buffer(r.out, n));
    const uint32_t now = jack_last_frame_time(r.play);
    if (!r.armed.load(std::memory_order_relaxed) && jack_port_connected(r.out) > 0 &&
        r.rec_connected.load(std::memory_order_relaxed)) {
        r.t0.store(now, std::memory_order_relaxed);
        r.armed.store(true, std::memory_order_release);
    }
    if (!r.armed.load(std::memory_order_acquire)) {
        std::fill(out, out + n, 0.0f);
        return 0;
    }
    const uint32_t t0 = r.t0.load(std::memory_order_relaxed);
    for (jack_nframes_t i = 0; i < n; ++i) {
        const size_t k = static_cast<uint32_t>(now + i - t0);
        const float x = k >= r.lead && k - r.lead < r.signal.size() ? r.signal[k - r.lead] : 0.0f;
        out[i] = x;
        if (k < r.frames)
            r.played[k] = x;
    }
    return 0;
}

int on_rec(jack_nframes_t n, void* arg) {
    auto& r = *static_cast<Recorder*>(arg);
    const auto* in = static_cast<const float*>(jack_port_get_buffer(r.in, n));
    r.rec_connected.store(jack_port_connected(r.in) > 0, std::memory_order_relaxed);
    if (!r.armed.load(std::memory_order_acquire))
        return 0;
    const uint32_t offset = jack_last_frame_time(r.rec) - r.t0.load(std::memory_order_relaxed);
    if (offset > 0x80000000u) // a period before T0 (play armed later in this period)
        return 0;
    for (jack_nframes_t i = 0; i < n; ++i)
        if (offset + i < r.frames)
            r.recorded[offset + i] = in[i];
    if (offset + n >= r.frames)
        r.done.store(true, std::memory_order_release);
    return 0;
}

jack_client_t* open_client(const std::string& name) {
    jack_status_t status{};
    jack_client_t* c = jack_client_open(name.c_str(), JackNoStartServer, &status);
    if (!c)
        throw std::runtime_error("cannot open JACK client " + name + " (no server running?)");
    return c;
}

int record(const std::string& dir, double seconds, double lead, const std::string& name) {
    Recorder r;
    r.play = open_client(name + "_play");
    r.rec = open_client(name + "_rec");
    const uint32_t rate = jack_get_sample_rate(r.play);
    r.frames = static_cast<size_t>(seconds * rate);
    r.lead = static_cast<size_t>(lead * rate);
    r.signal = test_signal(r.frames, rate);
    r.played.assign(r.frames, 0.0f);
    r.recorded.assign(r.frames, 0.0f);
    r.out = jack_port_register(r.play, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    r.in = jack_port_register(r.rec, "in", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    if (!r.out || !r.in)
        throw std::runtime_error("cannot register the probe's ports");
    jack_set_process_callback(r.play, on_play, &r);
    jack_set_process_callback(r.rec, on_rec, &r);
    if (jack_activate(r.play) || jack_activate(r.rec))
        throw std::runtime_error("cannot activate the probe's clients");
    std::printf("probe: ready\n");
    std::fflush(stdout);
    // Bounded: the connections come from the script, then the recording takes `seconds`.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds + 60.0);
    while (!r.done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    jack_deactivate(r.play);
    jack_deactivate(r.rec);
    jack_client_close(r.play);
    jack_client_close(r.rec);
    if (!r.done.load()) {
        std::fprintf(stderr, "probe: the recording did not finish (%s)\n",
                     r.armed.load() ? "it started" : "the ports were never both connected");
        return 1;
    }
    Audio played, recorded;
    played.sample_rate = recorded.sample_rate = static_cast<int>(rate);
    played.channels = {r.played};
    recorded.channels = {r.recorded};
    rill::cli::write_audio(dir + "/played.wav", played, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    rill::cli::write_audio(dir + "/recorded.wav", recorded, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    std::printf("probe: t0=%u frames=%zu lead=%zu rate=%u\n", r.t0.load(), r.frames, r.lead, rate);
    return 0;
}

// Periods of the recording (kPeriod frames from frame 0, which is a period's first) in which
// the output is not the reference: each period JACK drops (an xrun on a loaded machine, where
// the server runs without real-time scheduling) spoils one or two of them, and the model's
// receptive field after it. A wrong model, gain or latency spoils nearly all.
constexpr long kPeriod = 256;

int compare(const std::string& recorded_path, const std::string& reference_path, long from, long to,
            double gain, long delay, double tolerance, long allow_bad) {
    const Audio rec = rill::cli::read_audio(recorded_path);
    const Audio ref = rill::cli::read_audio(reference_path);
    const std::vector<float>& y = rec.channels.at(0);
    const std::vector<float>& x = ref.channels.at(0);
    from = std::max(from, std::max(0L, delay));
    to = std::min<long>(to, static_cast<long>(y.size()));
    if (to - from < 4 * kPeriod) {
        std::fprintf(stderr, "compare: the segment [%ld, %ld) is too short\n", from, to);
        return 1;
    }
    const auto want = [&](long k) {
        const long j = k - delay;
        return j < static_cast<long>(x.size()) ? gain * x[j] : 0.0;
    };
    double peak = 0, energy = 0;
    long nonfinite = 0;
    for (long k = from; k < to; ++k) {
        peak = std::max(peak, std::fabs(want(k)));
        if (std::isfinite(y[k]))
            energy += double(y[k]) * y[k];
        else
            ++nonfinite;
    }
    const double limit = tolerance * std::max(peak, 1e-3);
    long periods = 0, bad = 0;
    double worst_good = 0;
    std::string bad_list;
    for (long p0 = from; p0 < to; p0 = (p0 / kPeriod + 1) * kPeriod) {
        const long p1 = std::min(to, (p0 / kPeriod + 1) * kPeriod);
        double err = 0;
        for (long k = p0; k < p1; ++k)
            err = std::max(err, std::fabs(y[k] - want(k)));
        ++periods;
        if (err > limit) {
            if (++bad <= 12)
                bad_list += " " + std::to_string(p0) + "(" + std::to_string(err).substr(0, 6) + ")";
        } else {
            worst_good = std::max(worst_good, err);
        }
    }
    const double rms = std::sqrt(energy / (to - from));
    std::printf("compare: frames [%ld, %ld): %ld of %ld periods within %.3g (largest error %.3g); "
                "reference peak %.3g, output rms %.3g, %ld non-finite%s%s\n",
                from, to, periods - bad, periods, limit, worst_good, peak, rms, nonfinite,
                bad ? "; periods off at" : "", bad_list.c_str());
    if (nonfinite > 0 || rms < 1e-3 || bad > allow_bad || 2 * bad > periods) {
        std::fprintf(stderr, "compare: FAILED (%ld periods off, %ld allowed)\n", bad, allow_bad);
        return 1;
    }
    return 0;
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: rill-live-probe record --out-dir DIR --seconds S [--lead S] "
                         "[--name N]\n"
                         "       rill-live-probe compare RECORDED REFERENCE --from F0 --to F1 "
                         "[--gain G] [--delay D] [--tolerance T] [--allow-bad-periods N]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2)
        usage();
    const std::string command = argv[1];
    std::vector<std::string> positional;
    std::string dir, name = "probe";
    double seconds = 0, lead = 0.5, gain = 1.0, tolerance = 1e-4;
    long from = 0, to = 0, delay = 0, allow_bad = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc)
                usage();
            return std::string(argv[++i]);
        };
        if (a == "--out-dir")
            dir = value();
        else if (a == "--seconds")
            seconds = std::stod(value());
        else if (a == "--lead")
            lead = std::stod(value());
        else if (a == "--name")
            name = value();
        else if (a == "--from")
            from = std::stol(value());
        else if (a == "--to")
            to = std::stol(value());
        else if (a == "--gain")
            gain = std::stod(value());
        else if (a == "--delay")
            delay = std::stol(value());
        else if (a == "--tolerance")
            tolerance = std::stod(value());
        else if (a == "--allow-bad-periods")
            allow_bad = std::stol(value());
        else if (a.rfind("--", 0) == 0)
            usage();
        else
            positional.push_back(a);
    }
    try {
        if (command == "record" && !dir.empty() && seconds > 0)
            return record(dir, seconds, lead, name);
        if (command == "compare" && positional.size() == 2)
            return compare(positional[0], positional[1], from, to, gain, delay, tolerance,
                           allow_bad);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rill-live-probe: %s\n", e.what());
        return 1;
    }
    usage();
}
