#include "plugin_processor.hpp"

#include <cmath>
#include <cstdlib>

#include <juce_cryptography/juce_cryptography.h>

#include "plugin_editor.hpp"
#include "plugin_state.hpp"
#include "recent_models.hpp"

namespace rill::plugin {
namespace {

// Host blocks are cut into chunks of at most this many frames: the streams' max_block_frames.
constexpr uint32_t kChunkFrames = 512;

juce::AudioProcessorValueTreeState::ParameterLayout make_layout() {
    juce::AudioProcessorValueTreeState::ParameterLayout layout;
    layout.add(std::make_unique<juce::AudioParameterFloat>(
        juce::ParameterID{"mix", 1}, "Dry/wet", juce::NormalisableRange<float>(0.0f, 100.0f, 0.1f),
        100.0f, juce::AudioParameterFloatAttributes().withLabel("%")));
    layout.add(std::make_unique<juce::AudioParameterFloat>(
        juce::ParameterID{"input_gain", 1}, "Input gain",
        juce::NormalisableRange<float>(-24.0f, 24.0f, 0.1f), 0.0f,
        juce::AudioParameterFloatAttributes().withLabel("dB")));
    layout.add(std::make_unique<juce::AudioParameterFloat>(
        juce::ParameterID{"output_gain", 1}, "Output gain",
        juce::NormalisableRange<float>(-24.0f, 24.0f, 0.1f), 0.0f,
        juce::AudioParameterFloatAttributes().withLabel("dB")));
    layout.add(std::make_unique<juce::AudioParameterBool>(juce::ParameterID{"bypass", 1}, "Bypass",
                                                          false));
    for (int i = 0; i < static_cast<int>(kParamSlots); ++i)
        layout.add(std::make_unique<ModelParamSlot>(i));
    return layout;
}

std::string sha256_hex(const void* data, size_t size) {
    return juce::SHA256(data, size).toHexString().toStdString();
}

} // namespace

RillProcessor::RillProcessor()
    : juce::AudioProcessor(BusesProperties()
                               .withInput("Input", juce::AudioChannelSet::stereo(), true)
                               .withOutput("Output", juce::AudioChannelSet::stereo(), true)),
      parameters_(*this, nullptr, "RillPlugin", make_layout()) {
    for (size_t i = 0; i < kParamSlots; ++i)
        slots_[i] = dynamic_cast<ModelParamSlot*>(
            parameters_.getParameter(ModelParamSlot::id_for(static_cast<int>(i))));
    mix_ = parameters_.getRawParameterValue("mix");
    input_gain_ = parameters_.getRawParameterValue("input_gain");
    output_gain_ = parameters_.getRawParameterValue("output_gain");
    bypass_ = parameters_.getRawParameterValue("bypass");
    bypass_param_ = parameters_.getParameter("bypass");
    loader_ = std::make_unique<ModelLoader>(engine_, sha256_hex,
                                            [this](const ModelStatus& status, bool apply_defaults) {
                                                model_finished(status, apply_defaults);
                                            });
    // A fresh instance may start with a model (e.g. the Standalone in a demo or a screenshot).
    if (const char* path = std::getenv("RILL_PLUGIN_MODEL"); path && *path)
        load_model(juce::String::fromUTF8(path));
}

RillProcessor::~RillProcessor() {
    alive_->store(false);
    loader_.reset(); // stops the loader thread before the engine goes
}

bool RillProcessor::isBusesLayoutSupported(const BusesLayout& layouts) const {
    const juce::AudioChannelSet in = layouts.getMainInputChannelSet();
    const juce::AudioChannelSet out = layouts.getMainOutputChannelSet();
    return in == out &&
           (out == juce::AudioChannelSet::mono() || out == juce::AudioChannelSet::stereo());
}

void RillProcessor::prepareToPlay(double sample_rate, int /*maximum_block*/) {
    HostConfig config;
    config.sample_rate = static_cast<uint32_t>(std::lround(sample_rate));
    config.channels = static_cast<uint32_t>(
        juce::jlimit(1, static_cast<int>(kMaxChannels), getTotalNumOutputChannels()));
    config.max_chunk = kChunkFrames;
    setLatencySamples(static_cast<int>(loader_->prepare(config, read_controls(false))));
}

Controls RillProcessor::read_controls(bool force_bypass) const noexcept {
    Controls c;
    c.mix = mix_->load(std::memory_order_relaxed) / 100.0f;
    c.input_gain = juce::Decibels::decibelsToGain(input_gain_->load(std::memory_order_relaxed));
    c.output_gain = juce::Decibels::decibelsToGain(output_gain_->load(std::memory_order_relaxed));
    c.bypass = force_bypass || bypass_->load(std::memory_order_relaxed) >= 0.5f;
    for (size_t i = 0; i < kParamSlots; ++i)
        c.slots[i] = slots_[i]->get();
    return c;
}

void RillProcessor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    run(buffer, false);
}

// The host's own bypass: the delayed dry signal, so the latency stays as reported.
void RillProcessor::processBlockBypassed(juce::AudioBuffer<float>& buffer, juce::MidiBuffer&) {
    run(buffer, true);
}

void RillProcessor::run(juce::AudioBuffer<float>& buffer, bool force_bypass) noexcept {
    juce::ScopedNoDenormals no_denormals;
    const int channels = std::min(buffer.getNumChannels(), static_cast<int>(kMaxChannels));
    engine_.process(buffer.getArrayOfWritePointers(), static_cast<uint32_t>(channels),
                    static_cast<uint32_t>(buffer.getNumSamples()), read_controls(force_bypass));
    for (int c = channels; c < buffer.getNumChannels(); ++c)
        buffer.clear(c, 0, buffer.getNumSamples());
}

void RillProcessor::load_model(const juce::String& path) {
    loader_->load(path.toStdString(), "", true);
}

void RillProcessor::unload_model() {
    loader_->unload();
}

void RillProcessor::model_finished(const ModelStatus& status, bool apply_defaults) {
    for (size_t i = 0; i < kParamSlots; ++i)
        slots_[i]->assign(i < status.params.size() ? &status.params[i] : nullptr);
    setLatencySamples(static_cast<int>(status.latency_frames));
    const bool loaded = status.state == ModelStatus::State::loaded;
    const juce::String path = juce::String::fromUTF8(status.path.c_str());
    juce::MessageManager::callAsync([this, alive = alive_, apply_defaults, loaded, path] {
        if (!alive->load())
            return;
        if (apply_defaults)
            for (ModelParamSlot* slot : slots_)
                if (slot->in_use())
                    slot->setValueNotifyingHost(slot->default_normalised());
        updateHostDisplay(ChangeDetails().withParameterInfoChanged(true));
        if (loaded && apply_defaults)
            remember_recent_model(path);
    });
}

void RillProcessor::getStateInformation(juce::MemoryBlock& destination) {
    const ModelStatus status = loader_->status();
    SavedModel model{juce::String::fromUTF8(status.path.c_str()),
                     juce::String::fromUTF8(status.hash.c_str())};
    write_state(parameters_, model, destination);
}

void RillProcessor::setStateInformation(const void* data, int size) {
    const std::optional<SavedModel> model = read_state(parameters_, data, size);
    if (!model)
        return;
    if (model->path.isEmpty())
        loader_->unload();
    else
        loader_->load(model->path.toStdString(), model->hash.toStdString(), false);
}

juce::AudioProcessorEditor* RillProcessor::createEditor() {
    return new RillEditor(*this);
}

} // namespace rill::plugin

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() {
    return new rill::plugin::RillProcessor();
}
