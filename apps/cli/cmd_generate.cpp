// rill generate MODEL --prompt TEXT [--tokens N] [--temperature T] [--seed S]: runs a token model
// (one input channel carrying a token id per frame, one output channel per vocabulary entry, as
// imported from rwkv.cpp) on the bytes of the prompt as one block, then generates N tokens one
// frame at a time, each fed back as the next input: the recurrent state carries the whole text.
// Temperature 0 (default) picks the most likely token; above 0 it samples from
// softmax(logits / T). Prints the text, then prompt and generation speed on stderr.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "commands.hpp"
#include "rill/rill.hpp"

namespace rill::cli {
namespace {

using Clock = std::chrono::steady_clock;

uint32_t pick(const std::vector<float>& logits, double temperature, std::mt19937& rng) {
    if (temperature <= 0)
        return uint32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    const float top = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p(logits.size());
    for (size_t i = 0; i < p.size(); ++i)
        p[i] = std::exp((double(logits[i]) - top) / temperature);
    std::discrete_distribution<uint32_t> dist(p.begin(), p.end());
    return dist(rng);
}

} // namespace

int cmd_generate(const Args& in_args) {
    Args args = in_args;
    std::string prompt, text;
    if (!take_option(args, "--prompt", prompt) || prompt.empty())
        usage_error("--prompt TEXT is required (at least one byte)");
    unsigned tokens = 64, seed = 0;
    double temperature = 0;
    if (take_option(args, "--tokens", text))
        tokens = parse_unsigned(text, "--tokens", 0, 1000000);
    if (take_option(args, "--seed", text))
        seed = parse_unsigned(text, "--seed", 0, 4294967295u);
    if (take_option(args, "--temperature", text)) {
        temperature = std::strtod(text.c_str(), nullptr);
        if (!(temperature >= 0 && temperature <= 100))
            usage_error("--temperature must be in 0..100, got '" + text + "'");
    }
    expect_positional(args, 1, "MODEL");
    const Model model = Model::load(args[0]);
    const rill_model_info info = model.info();
    if (info.input_channels != 1 || info.output_channels < 2)
        throw std::runtime_error("'" + args[0] + "' is not a token model (it takes " +
                                 std::to_string(info.input_channels) + " input channel(s) and " +
                                 "gives " + std::to_string(info.output_channels) +
                                 " outputs; a token model takes 1 token id and gives logits)");
    const uint32_t vocab = info.output_channels;
    Stream stream(model, uint32_t(prompt.size()));

    // The prompt, one block: every position's logits, the last one's used.
    std::vector<float> ids(prompt.size());
    for (size_t i = 0; i < prompt.size(); ++i)
        ids[i] = float(static_cast<unsigned char>(prompt[i]) % vocab);
    std::vector<float> out(size_t(vocab) * prompt.size());
    std::vector<const float*> in_ptr{ids.data()};
    std::vector<float*> out_ptr(vocab);
    for (uint32_t c = 0; c < vocab; ++c)
        out_ptr[c] = out.data() + size_t(c) * prompt.size();
    const auto t0 = Clock::now();
    if (stream.process(in_ptr.data(), out_ptr.data(), uint32_t(prompt.size())) < 0)
        throw std::runtime_error("processing the prompt failed");
    const double prompt_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<float> logits(vocab);
    for (uint32_t c = 0; c < vocab; ++c)
        logits[c] = out[size_t(c) * prompt.size() + prompt.size() - 1];

    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    std::mt19937 rng(seed);
    float id = 0;
    std::vector<float*> one(vocab);
    for (uint32_t c = 0; c < vocab; ++c)
        one[c] = &logits[c];
    const float* id_ptr = &id;
    const auto t1 = Clock::now();
    for (unsigned n = 0; n < tokens; ++n) {
        const uint32_t token = pick(logits, temperature, rng);
        std::fputc(int(token & 0xff), stdout);
        std::fflush(stdout);
        id = float(token);
        if (stream.process(&id_ptr, one.data(), 1) < 0)
            throw std::runtime_error("processing token " + std::to_string(n) + " failed");
    }
    const double gen_s = std::chrono::duration<double>(Clock::now() - t1).count();
    std::printf("\n");
    std::fprintf(stderr, "prompt: %zu tokens in %.2f ms; generated %u tokens at %.0f tokens/s\n",
                 prompt.size(), prompt_s * 1e3, tokens, tokens ? tokens / gen_s : 0.0);
    return 0;
}

} // namespace rill::cli
