// rill run MODEL IN OUT [--block N] [--param NAME=VALUE]... [--keep-latency]
// Streams the file through the model block by block, as a live host would. By default the input
// is followed by `latency` frames of silence and the first `latency` output frames are dropped,
// so OUT is aligned with IN and has its length; --keep-latency writes the raw stream instead
// (same length as IN, delayed by the latency).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "audio_file.hpp"
#include "commands.hpp"
#include "import_options.hpp"
#include "progress.hpp"
#include "rill/rill.hpp"

namespace rill::cli {
namespace {

void apply_params(const Model& model, Stream& stream, const std::vector<std::string>& settings) {
    const std::vector<Param> params = model.params();
    for (const std::string& s : settings) {
        const auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0)
            usage_error("--param expects NAME=VALUE, got '" + s + "'");
        const std::string name = s.substr(0, eq), value = s.substr(eq + 1);
        const int32_t index = model.find_param(name);
        if (index < 0) {
            std::string known;
            for (const Param& p : params)
                known += (known.empty() ? "" : ", ") + p.name;
            usage_error("the model has no parameter '" + name + "' (it has: " +
                        (known.empty() ? "none" : known) + ")");
        }
        char* end = nullptr;
        const float v = std::strtof(value.c_str(), &end);
        if (value.empty() || *end || !std::isfinite(v))
            usage_error("--param " + name + ": expected a number, got '" + value + "'");
        const Param& p = params[static_cast<size_t>(index)];
        if (v < p.min_value || v > p.max_value)
            std::fprintf(stderr, "rill run: note: %s=%g clamped to [%g, %g]\n", name.c_str(), v,
                         p.min_value, p.max_value);
        detail::check(stream.set_param(static_cast<uint32_t>(index), v), "rill_stream_set_param");
    }
}

void check_input(const Model& model, const Audio& input, const std::string& path) {
    const rill_model_info info = model.info();
    if (input.channels.size() != info.input_channels)
        throw std::runtime_error("input '" + path + "' has " +
                                 std::to_string(input.channels.size()) +
                                 " channel(s); the model expects " +
                                 std::to_string(info.input_channels));
    if (input.sample_rate != info.sample_rate) {
        const std::string rate = std::to_string(static_cast<long>(std::lround(info.sample_rate)));
        throw std::runtime_error("input '" + path + "' is at " + std::to_string(input.sample_rate) +
                                 " Hz; the model expects " + rate +
                                 " Hz (resample first, e.g. sox IN -r " + rate + " OUT)");
    }
}

} // namespace

int cmd_run(const Args& in_args) {
    Args args = in_args;
    std::string block_text = "512", value;
    take_option(args, "--block", block_text);
    const unsigned block = parse_unsigned(block_text, "--block", 1, 1u << 20);
    std::vector<std::string> settings;
    while (take_option(args, "--param", value))
        settings.push_back(value);
    const bool keep_latency = take_flag(args, "--keep-latency");
    const std::string options = take_import_options(args);
    expect_positional(args, 3, "MODEL IN OUT");
    const std::string model_path = args[0], in_path = args[1], out_path = args[2];

    const Model model = load_model(model_path, options);
    const Audio input = read_audio(in_path);
    check_input(model, input, in_path);
    Stream stream(model, block);
    apply_params(model, stream, settings);

    const uint32_t in_ch = stream.input_channels(), out_ch = stream.output_channels();
    const size_t latency = stream.latency_frames();
    const size_t frames = input.frames();
    const size_t total = keep_latency ? frames : frames + latency; // frames to stream

    Audio output;
    output.sample_rate = input.sample_rate;
    output.channels.assign(out_ch, std::vector<float>(total));
    // The block that runs past the input is copied here and padded with silence.
    std::vector<std::vector<float>> tail(in_ch, std::vector<float>(block));
    std::vector<const float*> in(in_ch);
    std::vector<float*> out(out_ch);
    Progress progress("rill run");
    double seconds = 0;
    bool replaced_noted = false;
    for (size_t pos = 0; pos < total; pos += block) {
        const size_t n = std::min<size_t>(block, total - pos);
        for (uint32_t c = 0; c < in_ch; ++c) {
            const std::vector<float>& src = input.channels[c];
            if (pos + n <= frames) {
                in[c] = src.data() + pos;
            } else {
                std::fill(tail[c].begin(), tail[c].end(), 0.0f);
                if (pos < frames)
                    std::copy(src.begin() + static_cast<long>(pos), src.end(), tail[c].begin());
                in[c] = tail[c].data();
            }
        }
        for (uint32_t c = 0; c < out_ch; ++c)
            out[c] = output.channels[c].data() + pos;
        const auto t0 = std::chrono::steady_clock::now();
        const rill_status s = stream.process(in, out, static_cast<uint32_t>(n));
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s < 0)
            throw std::runtime_error("processing '" + in_path + "' failed at frame " +
                                     std::to_string(pos) + ": " + rill_status_string(s));
        if (s == RILL_NONFINITE_REPLACED && !replaced_noted) {
            std::fprintf(stderr, "rill run: note: '%s' has non-finite samples (first block at "
                                 "frame %zu); they were replaced by 0\n", in_path.c_str(), pos);
            replaced_noted = true;
        }
        progress.update(static_cast<double>(pos + n) / static_cast<double>(total));
    }
    progress.finish();
    if (!keep_latency)
        for (auto& ch : output.channels)
            ch.erase(ch.begin(), ch.begin() + static_cast<long>(latency));
    const int written = write_audio(out_path, output, input.format);

    const double rate = input.sample_rate;
    const double duration = static_cast<double>(frames) / rate;
    const double rtf = duration > 0 ? seconds / duration : 0.0;
    std::printf("%s: %zu frames, %u channel(s) at %g Hz (%s); latency %zu frames (%.2f ms, %s); "
                "real-time factor %.3g (block %u)\n",
                out_path.c_str(), frames, out_ch, rate, describe_format(written).c_str(), latency,
                1000.0 * static_cast<double>(latency) / rate,
                keep_latency ? "kept in the output" : "removed", rtf, block);
    return 0;
}

} // namespace rill::cli
