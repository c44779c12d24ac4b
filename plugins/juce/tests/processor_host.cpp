#include "processor_host.hpp"

#include <cmath>
#include <random>

#include "rill/rill.hpp"

namespace rill::plugin::test {

ProcessorHost::ProcessorHost(double sample_rate, int channels, int max_block)
    : rate_(sample_rate), channels_(channels), max_block_(max_block),
      processor_(std::make_unique<RillProcessor>()), pointers_(static_cast<size_t>(channels)) {
    const juce::AudioChannelSet set =
        channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
    juce::AudioProcessor::BusesLayout layout;
    layout.inputBuses.add(set);
    layout.outputBuses.add(set);
    processor_->setBusesLayout(layout);
    prepare();
}

void ProcessorHost::prepare() {
    processor_->setRateAndBufferSizeDetails(rate_, max_block_);
    processor_->prepareToPlay(rate_, max_block_);
}

void ProcessorHost::change_rate(double sample_rate) {
    rate_ = sample_rate;
    prepare();
}

void ProcessorHost::set(const juce::String& id, float plain_value) {
    juce::RangedAudioParameter* p = processor_->parameters().getParameter(id);
    p->setValueNotifyingHost(p->convertTo0to1(plain_value));
}

void ProcessorHost::set_slot(int index, float normalised) {
    processor_->slot(index).setValueNotifyingHost(normalised);
}

void ProcessorHost::load(const std::string& path) {
    processor_->load_model(juce::String::fromUTF8(path.c_str()));
    processor_->wait_for_model();
    prepare();
}

void ProcessorHost::process_block(Signal& io, size_t offset, int frames) {
    for (size_t c = 0; c < pointers_.size(); ++c)
        pointers_[c] = io[c].data() + offset;
    juce::AudioBuffer<float> buffer(pointers_.data(), channels_, frames);
    processor_->processBlock(buffer, midi_);
}

void ProcessorHost::process(Signal& io, const std::vector<int>& blocks) {
    const size_t frames = io.front().size();
    size_t offset = 0;
    for (size_t b = 0; offset < frames; ++b) {
        const int n = static_cast<int>(
            std::min<size_t>(static_cast<size_t>(blocks[b % blocks.size()]), frames - offset));
        process_block(io, offset, n);
        offset += static_cast<size_t>(n);
    }
}

Signal make_signal(int channels, size_t frames, double sample_rate, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    Signal s(static_cast<size_t>(channels), std::vector<float>(frames));
    for (int c = 0; c < channels; ++c)
        for (size_t i = 0; i < frames; ++i) {
            const double t = static_cast<double>(i) / sample_rate;
            s[static_cast<size_t>(c)][i] =
                static_cast<float>(0.4 * std::sin(2 * M_PI * (110.0 * (c + 1)) * t) *
                                   (0.5 + 0.5 * std::sin(2 * M_PI * 1.3 * t))) +
                noise(rng);
        }
    return s;
}

Signal impulse(int channels, size_t frames, size_t at) {
    Signal s(static_cast<size_t>(channels), std::vector<float>(frames, 0.0f));
    for (auto& c : s)
        c[at] = 1.0f;
    return s;
}

Signal library_output(const std::string& model_path, const Signal& input,
                      const std::vector<std::pair<uint32_t, float>>& params) {
    const rill::Model model = rill::Model::load(model_path);
    Signal out = input;
    for (size_t c = 0; c < input.size(); ++c) {
        rill::Stream stream(model, 512);
        for (const auto& [index, value] : params)
            stream.set_param(index, value);
        for (size_t offset = 0; offset < input[c].size(); offset += 512) {
            const uint32_t n =
                static_cast<uint32_t>(std::min<size_t>(512, input[c].size() - offset));
            const float* in = input[c].data() + offset;
            float* o = out[c].data() + offset;
            stream.process(&in, &o, n);
        }
    }
    return out;
}

} // namespace rill::plugin::test
