// rill bench MODEL [--block N] [--seconds S] [--json]
// Streams S seconds of noise in blocks of N frames and reports the real-time factor, per-block
// time percentiles, heap allocations during process (counted process-wide) and memory.
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

int cmd_bench(const Args& in_args) {
    Args args = in_args;
    std::string block_text = "512", seconds_text = "10";
    take_option(args, "--block", block_text);
    take_option(args, "--seconds", seconds_text);
    const bool json = take_flag(args, "--json");
    const unsigned block = parse_unsigned(block_text, "--block", 1, 1u << 20);
    const double seconds = parse_positive(seconds_text, "--seconds");
    if (seconds > 3600)
        usage_error("--seconds must be at most 3600, got '" + seconds_text + "'");
    const std::string options = take_import_options(args);
    expect_positional(args, 1, "MODEL");
    const Model model = load_model(args[0], options);
    const rill_model_info info = model.info();
    Stream stream(model, block);

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

    const size_t blocks = std::max<size_t>(1, static_cast<size_t>(seconds * info.sample_rate / block));
    std::vector<double> times(blocks);
    for (int warm = 0; warm < 3; ++warm)
        stream.process(ip.data(), op.data(), block);
    size_t allocations = 0;
    {
        alloc::Scope count;
        for (size_t b = 0; b < blocks; ++b) {
            const auto t0 = std::chrono::steady_clock::now();
            stream.process(ip.data(), op.data(), block);
            times[b] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        }
        allocations = count.count();
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
    std::printf("%s, block %u frames (%.0f us of audio), %zu blocks\n", args[0].c_str(), block,
                budget_us, blocks);
    std::printf("  real-time factor  %.3g (%.1fx faster than real time)\n", rtf, 1 / rtf);
    std::printf("  per block (us)    p50 %.1f  p99 %.1f  max %.1f\n", pct(0.5), pct(0.99), sorted.back());
    std::printf("  allocations during process: %zu\n", allocations);
    std::printf("  memory: stream %zu bytes, peak RSS %ld kB\n", stream.memory_bytes(), usage.ru_maxrss);
    return 0;
}

} // namespace rill::cli
