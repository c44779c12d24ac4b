// The Rill plugin's AudioProcessor: host parameters and state around the JUCE-free AudioEngine,
// with models loaded by ModelLoader on its own thread.
#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <array>
#include <atomic>
#include <memory>

#include "engine/audio_engine.hpp"
#include "engine/model_loader.hpp"
#include "model_param_slot.hpp"

namespace rill::plugin {

class RillProcessor : public juce::AudioProcessor {
public:
    RillProcessor();
    ~RillProcessor() override;

    void prepareToPlay(double sample_rate, int maximum_block) override;
    void releaseResources() override {}
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;
    void processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) override;
    void processBlockBypassed(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) override;
    using juce::AudioProcessor::processBlock;
    using juce::AudioProcessor::processBlockBypassed;

    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }

    const juce::String getName() const override { return "Rill"; }
    bool acceptsMidi() const override { return false; }
    bool producesMidi() const override { return false; }
    double getTailLengthSeconds() const override { return 0.0; }
    juce::AudioProcessorParameter* getBypassParameter() const override { return bypass_param_; }

    int getNumPrograms() override { return 1; }
    int getCurrentProgram() override { return 0; }
    void setCurrentProgram(int) override {}
    const juce::String getProgramName(int) override { return "Default"; }
    void changeProgramName(int, const juce::String&) override {}

    void getStateInformation(juce::MemoryBlock& destination) override;
    void setStateInformation(const void* data, int size) override;

    // Message thread (editor) or tests. Loads in the background; the model's parameter defaults
    // are applied and the file joins the recent list when it loads.
    void load_model(const juce::String& path);
    void unload_model();
    ModelStatus model_status() const { return loader_->status(); }
    // Blocks until the loads asked for so far are done (tests, offline hosts).
    void wait_for_model() { loader_->wait_idle(); }

    AudioEngine& engine() noexcept { return engine_; }
    juce::AudioProcessorValueTreeState& parameters() noexcept { return parameters_; }
    ModelParamSlot& slot(int index) noexcept { return *slots_[static_cast<size_t>(index)]; }

private:
    Controls read_controls(bool force_bypass) const noexcept;
    // The audio thread's work for processBlock and processBlockBypassed.
    void run(juce::AudioBuffer<float>& buffer, bool force_bypass) noexcept;
    void model_finished(const ModelStatus& status, bool apply_defaults); // loader thread

    juce::AudioProcessorValueTreeState parameters_;
    std::array<ModelParamSlot*, kParamSlots> slots_{};
    std::atomic<float>* mix_ = nullptr;
    std::atomic<float>* input_gain_ = nullptr;
    std::atomic<float>* output_gain_ = nullptr;
    std::atomic<float>* bypass_ = nullptr;
    juce::AudioProcessorParameter* bypass_param_ = nullptr;

    AudioEngine engine_;
    std::unique_ptr<ModelLoader> loader_;
    // Checked by callbacks posted to the message thread, which may run after destruction.
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

} // namespace rill::plugin
