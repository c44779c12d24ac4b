// rill bench MODEL [--block N] [--seconds S] [--json]
// Streams S seconds of noise in blocks of N frames and reports the real-time factor, per-block
// time percentiles, heap allocations during process (counted process-wide) and memory. Image
// models get S seconds of 640x480 RGB8 noise frames at their nominal frame rate through
// rill_stream_process_image (pixel conversion and resampling included), one frame per block.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "alloc_counter.hpp"
#include "commands.hpp"
#include "import_options.hpp"
#include "rill/rill.hpp"

namespace rill::cli {
namespace {

// Per-call times (us) of `calls` calls after 3 warm-up calls, and the allocations they made.
template <typename Call> std::vector<double> time_calls(size_t calls, size_t& allocations, Call call) {
    std::vector<double> times(calls);
    for (int warm = 0; warm < 3; ++warm)
        call();
    alloc::Scope count;
    for (size_t b = 0; b < calls; ++b) {
        const auto t0 = std::chrono::steady_clock::now();
        call();
        times[b] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    }
    allocations = count.count();
    return times;
}

// One camera-sized noise frame in, every image output at the same size.
std::vector<double> time_image_frames(const Model& model, Stream& stream, size_t frames, size_t& allocations) {
    constexpr uint32_t kWidth = 640, kHeight = 480;
    std::mt19937 rng(1);
    std::vector<unsigned char> pixels(kWidth * kHeight * 3);
    for (auto& p : pixels)
        p = static_cast<unsigned char>(rng());
    rill_image in;
    rill_image_init(&in);
    in.width = kWidth, in.height = kHeight, in.pixel_format = RILL_PIXEL_RGB8, in.data = pixels.data();
    const std::vector<Port> outputs = model.outputs();
    std::vector<std::vector<unsigned char>> masks(outputs.size(), std::vector<unsigned char>(kWidth * kHeight * 3));
    std::vector<rill_image> out(outputs.size());
    std::vector<const rill_image*> out_ptrs;
    for (size_t j = 0; j < outputs.size(); ++j) {
        rill_image_init(&out[j]);
        out[j].width = kWidth, out[j].height = kHeight, out[j].data = masks[j].data();
        out[j].pixel_format = outputs[j].planes == 1 ? RILL_PIXEL_GRAY8 : RILL_PIXEL_RGB8;
        out_ptrs.push_back(outputs[j].kind == RILL_KIND_IMAGE ? &out[j] : nullptr);
    }
    const rill_image* in_ptrs[] = {&in};
    return time_calls(frames, allocations, [&] { stream.process_image(in_ptrs, out_ptrs.data()); });
}

} // namespace

int cmd_bench(const Args& in_args) {
    Args args = in_args;
    std::string block_text = "512", seconds_text = "10";
    take_option(args, "--block", block_text);
    take_option(args, "--seconds", seconds_text);
    const bool json = take_flag(args, "--json");
    const unsigned block_arg = parse_unsigned(block_text, "--block", 1, 1u << 20);
    const double seconds = parse_positive(seconds_text, "--seconds");
    if (seconds > 3600)
        usage_error("--seconds must be at most 3600, got '" + seconds_text + "'");
    const std::string options = take_import_options(args);
    expect_positional(args, 1, "MODEL");
    const Model model = load_model(args[0], options);
    const rill_model_info info = model.info();
    const std::vector<Port> inputs = model.inputs();
    const bool image = !inputs.empty() && inputs[0].kind == RILL_KIND_IMAGE;
    const unsigned block = image ? 1 : block_arg;
    Stream stream(model, block);

    const size_t blocks = std::max<size_t>(1, static_cast<size_t>(seconds * info.sample_rate / block));
    size_t allocations = 0;
    std::vector<double> times;
    if (image) {
        times = time_image_frames(model, stream, blocks, allocations);
    } else {
        std::mt19937 rng(1);
        std::normal_distribution<float> noise(0.0f, 0.1f);
        std::vector<std::vector<float>> in(info.input_channels, std::vector<float>(block));
        std::vector<std::vector<float>> out(info.output_channels, std::vector<float>(block));
        std::vector<const float*> ip;
        std::vector<float*> op;
        for (auto& c : in) {
            std::generate(c.begin(), c.end(), [&] { return noise(rng); });
            ip.push_back(c.data());
        }
        for (auto& c : out)
            op.push_back(c.data());
        times = time_calls(blocks, allocations, [&] { stream.process(ip.data(), op.data(), block); });
    }
    double total_us = 0;
    for (double t : times)
        total_us += t;
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double p) { return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))]; };
    const double audio_s = static_cast<double>(blocks) * block / info.sample_rate;
    const double rtf = total_us * 1e-6 / audio_s;
    const double budget_us = 1e6 * block / info.sample_rate;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);

    nlohmann::ordered_json j;
    j["model"] = args[0];
    j["block_frames"] = block;
    j["blocks"] = blocks;
    j["audio_seconds"] = audio_s;
    j["real_time_factor"] = rtf;
    j["block_us"] = {{"p50", pct(0.5)}, {"p99", pct(0.99)}, {"max", sorted.back()},
                     {"budget", budget_us}};
    j["allocations_during_process"] = allocations;
    j["stream_memory_bytes"] = stream.memory_bytes();
    j["peak_rss_bytes"] = static_cast<long long>(usage.ru_maxrss) * 1024;
    j["latency_frames"] = stream.latency_frames();
    if (json) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    if (image)
        std::printf("%s, 640x480 RGB8 frames in and out (resampled), %zu frames at %g frames/s (%.0f us each);"
                    " %.1f frames/s at p50\n", args[0].c_str(), blocks, info.sample_rate, budget_us, 1e6 / pct(0.5));
    else
        std::printf("%s, block %u frames (%.0f us of audio), %zu blocks\n", args[0].c_str(), block,
                    budget_us, blocks);
    std::printf("  real-time factor  %.3g (%.1fx faster than real time)\n", rtf, 1 / rtf);
    std::printf("  per block (us)    p50 %.1f  p99 %.1f  max %.1f\n", pct(0.5), pct(0.99), sorted.back());
    std::printf("  allocations during process: %zu\n", allocations);
    std::printf("  memory: stream %zu bytes, peak RSS %ld kB\n", stream.memory_bytes(), usage.ru_maxrss);
    return 0;
}

} // namespace rill::cli
