// rill run MODEL IN OUT [--block N] [--param NAME=VALUE]... [--keep-latency]
// Streams the file through the model block by block, as a live host would, then writes the
// output aligned with the input (the latency removed by feeding latency frames of silence after
// the input), unless --keep-latency asks for the raw stream.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "audio_file.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "rill/rill.hpp"

namespace rill::cli {
namespace {

void apply_params(const Model& model, Stream& stream, const std::vector<std::string>& settings) {
    for (const std::string& s : settings) {
        const auto eq = s.find('=');
        if (eq == std::string::npos)
            usage_error("--param expects NAME=VALUE, got '" + s + "'");
        const std::string name = s.substr(0, eq), value = s.substr(eq + 1);
        const int32_t index = model.find_param(name);
        if (index < 0) {
            std::string known;
            for (const Param& p : model.params())
                known += (known.empty() ? "" : ", ") + p.name;
            usage_error("the model has no parameter '" + name + "' (it has: " +
                        (known.empty() ? "none" : known) + ")");
        }
        char* end = nullptr;
        const float v = std::strtof(value.c_str(), &end);
        if (value.empty() || *end || !std::isfinite(v))
            usage_error("--param " + name + ": '" + value + "' is not a number");
        const Param p = model.params()[static_cast<size_t>(index)];
        if (v < p.min_value || v > p.max_value)
            std::fprintf(stderr, "rill run: note: %s=%g clamped to [%g, %g]\n", name.c_str(), v,
                         p.min_value, p.max_value);
        stream.set_param(static_cast<uint32_t>(index), v);
    }
}

} // namespace

int cmd_run(const Args& in_args) {
    Args args = in_args;
    std::string block_text = "512", value;
    take_option(args, "--block", block_text);
    const unsigned block = parse_unsigned(block_text, "--block", 1, 1u << 20);
    std::vector<std::string> params;
    while (take_option(args, "--param", value))
        params.push_back(value);
    const bool keep_latency = take_flag(args, "--keep-latency");
    if (args.size() != 3)
        usage_error("run takes MODEL IN OUT");
    const std::string model_path = args[0], in_path = args[1], out_path = args[2];

    const Model model = Model::load(model_path);
    const rill_model_info info = model.info();
    const Audio input = read_audio(in_path);
    if (input.channels.size() != info.input_channels)
        throw std::runtime_error("'" + in_path + "' has " + std::to_string(input.channels.size()) +
                                 " channel(s); the model expects " +
                                 std::to_string(info.input_channels));
    if (input.sample_rate != info.sample_rate)
        throw std::runtime_error("'" + in_path + "' is at " + std::to_string(input.sample_rate) +
                                 " Hz; the model runs at " +
                                 std::to_string(static_cast<long>(info.sample_rate)) +
                                 " Hz (resample first, e.g. sox IN -r " +
                                 std::to_string(static_cast<long>(info.sample_rate)) + " OUT)");
    Stream stream(model, block);
    apply_params(model, stream, params);
    const size_t latency = stream.latency_frames();
    const size_t frames = input.frames();
    const size_t total = keep_latency ? frames : frames + latency;

    Audio output;
    output.sample_rate = input.sample_rate;
    output.channels.assign(info.output_channels, std::vector<float>(total));
    std::vector<float> silence(block, 0.0f);
    std::vector<const float*> in(info.input_channels);
    std::vector<float*> out(info.output_channels);
    Progress progress("rill run");
    double seconds = 0;
    for (size_t pos = 0; pos < total; pos += block) {
        const size_t n = std::min<size_t>(block, total - pos);
        std::vector<std::vector<float>> tail; // the block that straddles the end of the input
        for (uint32_t c = 0; c < info.input_channels; ++c) {
            if (pos + n <= frames) {
                in[c] = input.channels[c].data() + pos;
            } else {
                tail.emplace_back(n, 0.0f);
                if (pos < frames)
                    std::copy(input.channels[c].begin() + static_cast<long>(pos),
                              input.channels[c].end(), tail.back().begin());
                in[c] = tail.back().data();
            }
        }
        for (uint32_t c = 0; c < info.output_channels; ++c)
            out[c] = output.channels[c].data() + pos;
        const auto t0 = std::chrono::steady_clock::now();
        const rill_status s = stream.process(in.data(), out.data(), static_cast<uint32_t>(n));
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s < 0)
            throw std::runtime_error(std::string("processing failed: ") + rill_status_string(s));
        if (s == RILL_NONFINITE_REPLACED)
            std::fprintf(stderr, "rill run: note: non-finite input samples near frame %zu were "
                                 "replaced by 0\n", pos);
        progress.update(static_cast<double>(pos + n) / static_cast<double>(total));
    }
    if (!keep_latency)
        for (auto& ch : output.channels)
            ch.erase(ch.begin(), ch.begin() + static_cast<long>(latency));
    write_audio(out_path, output, input.format);

    const double duration = static_cast<double>(frames) / input.sample_rate;
    std::printf("wrote %s: %zu frames, %u channel(s) at %d Hz\n", out_path.c_str(), frames,
                info.output_channels, input.sample_rate);
    std::printf("latency: %zu frames (%.2f ms)%s\n", latency, 1000.0 * latency / input.sample_rate,
                keep_latency ? ", kept in the output" : ", removed from the output");
    std::printf("real-time factor: %.4f (%.1fx faster than real time, block %u)\n",
                duration > 0 ? seconds / duration : 0.0, seconds > 0 ? duration / seconds : 0.0,
                block);
    return 0;
}

} // namespace rill::cli
