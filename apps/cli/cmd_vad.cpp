// rill vad MODEL IN [--threshold T] [--csv OUT] [--block N] [--import-options JSON]
// Voice activity with a model whose first output is a per-window speech probability (Silero VAD
// imported from ONNX, or its .rill conversion): streams the file block by block as a live host
// would, reads one probability per model hop, and prints the speech segments (probability >=
// threshold) with the real-time factor. --csv writes "time_s,probability" per hop.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "audio_file.hpp"
#include "commands.hpp"
#include "import_options.hpp"
#include "rill/rill.hpp"

namespace rill::cli {

int cmd_vad(const Args& in_args) {
    Args args = in_args;
    std::string value, csv_path, block_text = "512";
    double threshold = 0.5;
    if (take_option(args, "--threshold", value))
        threshold = parse_positive(value, "--threshold");
    take_option(args, "--csv", csv_path);
    take_option(args, "--block", block_text);
    const unsigned block = parse_unsigned(block_text, "--block", 1, 1u << 20);
    const std::string options = take_import_options(args);
    expect_positional(args, 2, "MODEL IN");

    const Model model = load_model(args[0], options);
    const rill_model_info info = model.info();
    if (info.input_channels != 1 || info.num_outputs < 1 || model.outputs()[0].kind != RILL_KIND_FRAMES)
        throw std::runtime_error("'" + args[0] + "' is not a voice activity model (needs one audio "
                                 "input and a frames output of probabilities first)");
    const Audio input = read_audio(args[1]);
    if (input.channels.size() != 1 || input.sample_rate != info.sample_rate)
        throw std::runtime_error("'" + args[1] + "' must be mono at " +
                                 std::to_string(static_cast<long>(info.sample_rate)) + " Hz");
    Stream stream(model, block);
    const size_t latency = stream.latency_frames(), hop = info.hop_frames ? info.hop_frames : 1;
    const size_t frames = input.frames(), total = frames + latency;
    std::vector<float> padded(input.channels[0]);
    padded.resize(total + block, 0.0f);
    std::vector<std::vector<float>> out(stream.output_channels(), std::vector<float>(total + block));
    std::vector<float*> out_ptr(out.size());
    double seconds = 0;
    for (size_t pos = 0; pos < total; pos += block) {
        const size_t n = std::min<size_t>(block, total - pos);
        const float* in_ptr = padded.data() + pos;
        for (size_t c = 0; c < out.size(); ++c)
            out_ptr[c] = out[c].data() + pos;
        const auto t0 = std::chrono::steady_clock::now();
        const rill_status s = stream.process(&in_ptr, out_ptr.data(), static_cast<uint32_t>(n));
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s < 0)
            throw std::runtime_error(std::string("processing failed: ") + rill_status_string(s));
    }
    // After removing the latency, output frame i belongs to input frame i: one value per hop.
    std::FILE* csv = nullptr;
    if (!csv_path.empty() && !(csv = std::fopen(csv_path.c_str(), "w")))
        throw std::runtime_error("cannot write '" + csv_path + "'");
    if (csv)
        std::fprintf(csv, "time_s,probability\n");
    const double rate = info.sample_rate;
    bool speech = false;
    double start = 0, speech_seconds = 0;
    size_t windows = 0;
    for (size_t i = 0; i + hop <= frames; i += hop, ++windows) {
        const float p = out[0][latency + i];
        const double t = static_cast<double>(i) / rate;
        if (csv)
            std::fprintf(csv, "%.4f,%.6f\n", t, p);
        if (p >= threshold && !speech) {
            speech = true;
            start = t;
        } else if (p < threshold && speech) {
            speech = false;
            std::printf("speech %8.3f s - %8.3f s\n", start, t);
            speech_seconds += t - start;
        }
    }
    if (speech) {
        const double end = static_cast<double>(frames) / rate;
        std::printf("speech %8.3f s - %8.3f s\n", start, end);
        speech_seconds += end - start;
    }
    if (csv)
        std::fclose(csv);
    const double duration = static_cast<double>(frames) / rate;
    std::printf("%zu windows of %zu samples; speech %.1f s of %.1f s (threshold %.2f); latency %zu "
                "frames; real-time factor %.3g (block %u)\n",
                windows, hop, speech_seconds, duration, threshold, latency,
                duration > 0 ? seconds / duration : 0.0, block);
    return 0;
}

} // namespace rill::cli
