// rill generate MODEL --prompt TEXT [--tokens N] [--temperature T] [--seed S]: runs a byte-level
// token model (one input channel carrying a token id per frame, 256 logits out, as imported from
// rwkv.cpp) on the bytes of the prompt in blocks of up to 256 tokens, then generates N tokens one
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

// Longer prompts run in pieces: the stream's memory grows with its block size.
constexpr size_t kMaxPromptBlock = 256;

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
    const std::vector<Port> inputs = model.inputs();
    if (inputs.size() != 1 || inputs[0].kind != RILL_KIND_FRAMES || info.input_channels != 1 ||
        info.output_channels < 2)
        throw std::runtime_error("'" + args[0] + "' is not a token model (it takes " +
                                 std::to_string(info.input_channels) + " input channel(s) and " +
                                 "gives " + std::to_string(info.output_channels) +
                                 " outputs; a token model takes 1 frame channel of token ids and "
                                 "gives logits)");
    const uint32_t vocab = info.output_channels;
    if (vocab != 256) // the prompt and the output are bytes
        throw std::runtime_error("'" + args[0] + "' has a vocabulary of " + std::to_string(vocab) +
                                 " tokens; rill generate runs byte-level models (256 tokens)");
    const uint32_t block = uint32_t(std::min<size_t>(prompt.size(), kMaxPromptBlock));
    Stream stream(model, block);

    // The prompt in blocks of up to kMaxPromptBlock tokens; the last token's logits are used.
    std::vector<float> ids(prompt.size());
    for (size_t i = 0; i < prompt.size(); ++i)
        ids[i] = float(static_cast<unsigned char>(prompt[i]));
    std::vector<float> out(size_t(vocab) * block);
    std::vector<float*> out_ptr(vocab);
    for (uint32_t c = 0; c < vocab; ++c)
        out_ptr[c] = out.data() + size_t(c) * block;
    const auto t0 = Clock::now();
    uint32_t last = 0; // frames in the last block
    for (size_t at = 0; at < prompt.size(); at += last) {
        last = uint32_t(std::min<size_t>(block, prompt.size() - at));
        const float* in_ptr = ids.data() + at;
        if (stream.process(&in_ptr, out_ptr.data(), last) < 0)
            throw std::runtime_error("processing the prompt failed");
    }
    const double prompt_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<float> logits(vocab);
    for (uint32_t c = 0; c < vocab; ++c)
        logits[c] = out[size_t(c) * block + last - 1];

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
        std::fputc(int(token), stdout);
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
