// Headless tests of the plugin's AudioProcessor: block sizes, latency compensation, resampling,
// model swap, state, error handling and real-time safety.
#include <gtest/gtest.h>
#include <juce_cryptography/juce_cryptography.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "alloc_counter.hpp" // apps/cli: the one allocation counter
#include "message_pump.hpp"
#include "processor_host.hpp"
#include "recent_models.hpp"
#include "test_paths.hpp"

namespace rill::plugin::test {
namespace {

constexpr double kModelRate = 44100.0;

std::string passthrough() {
    return paths().models + "/passthrough_44k.rill";
}
std::string passthrough_stereo() {
    return paths().models + "/passthrough_stereo_44k.rill";
}
std::string broken() {
    return paths().models + "/broken.rill";
}

std::vector<int> varying_blocks() {
    std::vector<int> blocks{1, 7, 64, 480, 513, 8192, 0, 3};
    std::mt19937 rng(5);
    for (int i = 0; i < 64; ++i)
        blocks.push_back(std::uniform_int_distribution<int>(1, 2048)(rng));
    return blocks;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, size_t from = 0,
                   long shift = 0) {
    float m = 0;
    for (size_t i = from; i < a.size(); ++i) {
        const long j = static_cast<long>(i) - shift;
        if (j >= 0 && j < static_cast<long>(b.size()))
            m = std::max(m, std::fabs(a[i] - b[static_cast<size_t>(j)]));
    }
    return m;
}

size_t argmax_abs(const std::vector<float>& x) {
    return static_cast<size_t>(
        std::max_element(x.begin(), x.end(),
                         [](float a, float b) { return std::fabs(a) < std::fabs(b); }) -
        x.begin());
}

} // namespace

TEST(ProcessorBlocks, EqualsTheLibraryForAnyBlockSizes) {
    ProcessorHost host(kModelRate, 2, 512);
    host.set_slot(0, 0.7f); // drive 0.7
    host.load(paths().drive);
    const ModelStatus status = host.processor().model_status();
    ASSERT_EQ(status.state, ModelStatus::State::loaded) << status.error;
    EXPECT_EQ(host.latency(), 134);
    EXPECT_EQ(host.processor().slot(0).getName(100), "drive");
    EXPECT_EQ(host.processor().slot(1).getName(100), "Model parameter 2");

    const Signal input = make_signal(2, 3 * 44100, kModelRate, 1);
    const Signal expected = library_output(paths().drive, input, {{0, 0.7f}});
    Signal output = input;
    host.process(output, varying_blocks());
    for (size_t c = 0; c < 2; ++c)
        EXPECT_LT(max_abs_diff(output[c], expected[c]), 1e-5f) << "channel " << c;
    // A figure, not a check: the audio thread's time per block over the block's duration.
    for (const int block : {64, 512}) {
        Signal more = make_signal(2, 44100, kModelRate, 9);
        host.process(more, {block});
        std::printf("DSP load, bundled model, 44.1 kHz stereo, %d-frame blocks: %.1f %%\n", block,
                    100.0 * host.processor().engine().dsp_load());
    }
}

// A stereo model keeps the channels apart in a stereo host and takes the one channel of a mono
// host on both inputs (its first output is played).
TEST(ProcessorBlocks, StereoModelsRouteChannelsInOrder) {
    ProcessorHost stereo(kModelRate, 2, 512);
    stereo.load(passthrough_stereo());
    ASSERT_EQ(stereo.processor().model_status().state, ModelStatus::State::loaded)
        << stereo.processor().model_status().error;
    ASSERT_EQ(stereo.latency(), 1);
    const Signal input = make_signal(2, 10000, kModelRate, 8);
    Signal y = input;
    stereo.process(y, varying_blocks());
    EXPECT_LT(max_abs_diff(y[0], input[0], 1, 1), 1e-6f);
    EXPECT_LT(max_abs_diff(y[1], input[1], 1, 1), 1e-6f);

    ProcessorHost mono(kModelRate, 1, 512);
    mono.load(passthrough_stereo());
    Signal m{input[0]};
    mono.process(m, varying_blocks());
    EXPECT_LT(max_abs_diff(m[0], input[0], 1, 1), 1e-6f);
}

// Loading a model from the editor (not from a session) sets its parameters to the model's
// defaults and puts the file at the top of the recent list.
TEST(ProcessorModels, AUserLoadAppliesDefaultsAndJoinsTheRecentList) {
    ProcessorHost host(kModelRate, 2, 512);
    host.set_slot(0, 0.9f);
    host.processor().load_model(juce::String::fromUTF8(passthrough().c_str()));
    host.processor().wait_for_model();
    const juce::String path = juce::String::fromUTF8(passthrough().c_str());
    ASSERT_TRUE(pump_messages_until([&] { return recent_models()[0] == path; }, 500));
    EXPECT_FLOAT_EQ(host.processor().slot(0).get(), 0.25f); // the model's default of "unused"
    EXPECT_EQ(host.processor().slot(0).getName(64), "unused");
}

TEST(ProcessorLatency, HalfDryHalfWetOfAPassThroughModelDoesNotCombFilter) {
    ProcessorHost host(kModelRate, 2, 512);
    host.set("mix", 50.0f);
    host.load(passthrough());
    ASSERT_EQ(host.latency(), 1);
    Signal x = impulse(2, 4096, 100);
    host.process(x, varying_blocks());
    for (size_t c = 0; c < 2; ++c) {
        EXPECT_NEAR(x[c][101], 1.0f, 1e-6f);
        x[c][101] = 0.0f;
        EXPECT_LT(*std::max_element(x[c].begin(), x[c].end()), 1e-6f);
    }
}

TEST(ProcessorLatency, DryAndBypassPathsAreDelayedByTheReportedLatency) {
    for (const bool bypass : {false, true}) {
        ProcessorHost host(kModelRate, 1, 512);
        host.set("mix", 0.0f);
        host.set("bypass", bypass ? 1.0f : 0.0f);
        host.load(paths().drive);
        Signal x = impulse(1, 8192, 300);
        host.process(x, {97, 1024, 5});
        EXPECT_EQ(argmax_abs(x[0]), 300u + 134u) << "bypass " << bypass;
        EXPECT_NEAR(x[0][434], 1.0f, 1e-6f);
    }
}

// Host rates other than the model's: the resampled pass-through model lines up with the
// delayed dry signal to the sample (its impulse peaks at the reported latency, and a 50% mix
// of a tone keeps the tone's amplitude).
TEST(ProcessorLatency, ResamplingKeepsTheReportedLatency) {
    for (const double rate : {48000.0, 96000.0, 22050.0, 32000.0}) {
        ProcessorHost host(rate, 2, 512);
        host.load(passthrough());
        const int latency = host.latency();
        EXPECT_GT(latency, 1) << rate;
        Signal x = impulse(2, 8192, 1000);
        host.process(x, varying_blocks());
        EXPECT_EQ(argmax_abs(x[0]), 1000u + static_cast<size_t>(latency)) << rate;
        EXPECT_EQ(argmax_abs(x[1]), 1000u + static_cast<size_t>(latency)) << rate;

        ProcessorHost half(rate, 2, 512);
        half.set("mix", 50.0f);
        half.load(passthrough());
        const size_t frames = static_cast<size_t>(rate);
        Signal tone(2, std::vector<float>(frames));
        for (size_t i = 0; i < frames; ++i)
            tone[0][i] = tone[1][i] =
                static_cast<float>(0.5 * std::sin(2 * M_PI * 1000.0 * i / rate));
        Signal y = tone;
        half.process(y, varying_blocks());
        EXPECT_LT(max_abs_diff(y[0], tone[0], 4096, latency), 2e-3f) << rate;
        EXPECT_EQ(half.processor().engine().underruns(), 0u);
    }
}

// The host changes its sample rate with a model loaded: the model is rebuilt for the new rate
// and the latency follows.
TEST(ProcessorLatency, FollowsTheHostToAnotherSampleRate) {
    ProcessorHost host(kModelRate, 2, 512);
    host.load(passthrough());
    ASSERT_EQ(host.latency(), 1);
    for (const double rate : {96000.0, 44100.0}) {
        host.change_rate(rate);
        const int latency = host.latency();
        Signal x = impulse(2, 8192, 500);
        host.process(x, {256});
        EXPECT_EQ(argmax_abs(x[0]), 500u + static_cast<size_t>(latency)) << rate;
        EXPECT_EQ(host.processor().model_status().state, ModelStatus::State::loaded);
    }
    EXPECT_EQ(host.latency(), 1);
}

// A model swap while playing crossfades from the old stream to the new one over
// kCrossfadeSeconds, exactly, with no allocation on the audio thread meanwhile.
TEST(ProcessorSwap, CrossfadesFromTheOldModelToTheNewWithoutAllocating) {
    ProcessorHost host(kModelRate, 1, 256);
    host.load(paths().drive);
    const size_t frames = 2 * 44100;
    const Signal input = make_signal(1, frames, kModelRate, 2);
    Signal y = input;

    const size_t block = 256;
    size_t offset = 0, swap_at = 0;
    const uint64_t taken = host.processor().engine().runners_taken();
    size_t allocations = 0;
    for (; offset + block <= frames / 2; offset += block)
        host.process_block(y, offset, block);
    host.processor().load_model(juce::String::fromUTF8(paths().drive.c_str()));
    {
        rill::alloc::ThreadScope scope;
        for (; offset + block <= frames; offset += block) {
            host.process_block(y, offset, block);
            if (!swap_at && host.processor().engine().runners_taken() != taken)
                swap_at = offset;
        }
        allocations = scope.count();
    }
    EXPECT_EQ(allocations, 0u);
    ASSERT_NE(swap_at, 0u) << "the new model was never taken";

    // old: the stream that ran from the start; fresh: a new stream from swap_at on.
    const Signal old_out = library_output(paths().drive, input, {{0, 0.5f}});
    Signal tail{std::vector<float>(input[0].begin() + static_cast<long>(swap_at), input[0].end())};
    const Signal new_out = library_output(paths().drive, tail, {{0, 0.5f}});
    const size_t fade = static_cast<size_t>(kModelRate * kCrossfadeSeconds);
    float worst = 0;
    for (size_t i = swap_at; i < offset; ++i) {
        const float f = std::min(1.0f, static_cast<float>(i - swap_at) / static_cast<float>(fade));
        const float expected = f * new_out[0][i - swap_at] + (1.0f - f) * old_out[0][i];
        worst = std::max(worst, std::fabs(y[0][i] - expected));
    }
    EXPECT_LT(worst, 1e-5f);
}

// Unloading while playing crossfades to the dry signal: no jump larger than the signal's own.
TEST(ProcessorSwap, UnloadingCrossfadesToTheDrySignal) {
    ProcessorHost host(kModelRate, 1, 256);
    host.set("mix", 0.0f); // the dry path only: the output before and after is the input
    host.load(passthrough());
    const size_t frames = 44100;
    Signal tone(1, std::vector<float>(frames));
    for (size_t i = 0; i < frames; ++i)
        tone[0][i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 441.0 * i / kModelRate));
    Signal y = tone;
    size_t offset = 0;
    for (; offset < frames / 2; offset += 256)
        host.process_block(y, offset, 256);
    host.processor().unload_model();
    for (; offset + 256 <= frames; offset += 256)
        host.process_block(y, offset, 256);
    host.processor().wait_for_model();
    float max_step = 0, own_step = 0;
    for (size_t i = 1; i < offset; ++i) {
        max_step = std::max(max_step, std::fabs(y[0][i] - y[0][i - 1]));
        own_step = std::max(own_step, std::fabs(tone[0][i] - tone[0][i - 1]));
    }
    // The dry path's one-frame delay goes away with the model: the crossfade blends the delayed
    // and undelayed tone, whose steps are the tone's own.
    EXPECT_LE(max_step, own_step * 1.01f);
    EXPECT_EQ(host.latency(), 0);
}

TEST(ProcessorRealtime, NoAllocationWhileAutomatingAnyBlockSizeOrNonFiniteInput) {
    ProcessorHost host(48000.0, 2, 512); // resampled: the resamplers run too
    host.load(paths().drive);
    Signal x = make_signal(2, 48000, 48000.0, 3);
    x[0][1000] = std::numeric_limits<float>::quiet_NaN();
    x[1][2000] = std::numeric_limits<float>::infinity();
    const std::vector<int> blocks = varying_blocks();
    juce::AudioProcessorValueTreeState& parameters = host.processor().parameters();
    juce::RangedAudioParameter* mix = parameters.getParameter("mix");
    juce::RangedAudioParameter* gain = parameters.getParameter("input_gain");
    juce::RangedAudioParameter* bypass = parameters.getParameter("bypass");
    ModelParamSlot& drive = host.processor().slot(0);
    size_t allocations = 0;
    {
        rill::alloc::ThreadScope scope;
        size_t offset = 0;
        for (size_t b = 0; offset < x[0].size(); ++b) {
            const int n =
                std::min<int>(blocks[b % blocks.size()], static_cast<int>(x[0].size() - offset));
            // Host automation arrives on the audio thread.
            mix->setValueNotifyingHost(static_cast<float>(b % 100) / 100.0f);
            gain->setValueNotifyingHost(static_cast<float>(b % 13) / 13.0f);
            bypass->setValueNotifyingHost(b % 17 == 0 ? 1.0f : 0.0f);
            drive.setValueNotifyingHost(static_cast<float>(b % 10) / 10.0f);
            host.process_block(x, offset, n);
            offset += static_cast<size_t>(n);
        }
        allocations = scope.count();
    }
    EXPECT_EQ(allocations, 0u);
    for (const auto& channel : x)
        for (float v : channel)
            ASSERT_TRUE(std::isfinite(v));
}

TEST(ProcessorState, RestoresModelHashAndParameters) {
    ProcessorHost a(kModelRate, 2, 512);
    a.set("mix", 70.0f);
    a.set("input_gain", 3.0f);
    a.set_slot(0, 0.8f);
    a.load(paths().drive);
    juce::MemoryBlock state;
    a.processor().getStateInformation(state);

    ProcessorHost b(kModelRate, 2, 512);
    b.processor().setStateInformation(state.getData(), static_cast<int>(state.getSize()));
    b.processor().wait_for_model();
    b.prepare();
    const ModelStatus sa = a.processor().model_status(), sb = b.processor().model_status();
    EXPECT_EQ(sb.state, ModelStatus::State::loaded);
    EXPECT_EQ(sb.path, paths().drive);
    EXPECT_EQ(sb.hash, sa.hash);
    const juce::File file(juce::String::fromUTF8(paths().drive.c_str()));
    EXPECT_EQ(sb.hash, juce::SHA256(file).toHexString().toStdString());
    EXPECT_TRUE(sb.warning.empty());
    EXPECT_FLOAT_EQ(b.processor().parameters().getRawParameterValue("mix")->load(), 70.0f);
    EXPECT_FLOAT_EQ(b.processor().slot(0).get(), 0.8f);
    EXPECT_EQ(b.latency(), 134);

    Signal ya = make_signal(2, 44100, kModelRate, 4), yb = ya;
    a.process(ya, {512});
    b.process(yb, varying_blocks());
    EXPECT_LT(max_abs_diff(ya[0], yb[0]), 1e-6f);
    EXPECT_LT(max_abs_diff(ya[1], yb[1]), 1e-6f);
}

TEST(ProcessorState, AChangedModelFileLoadsWithAWarning) {
    const juce::File copy =
        juce::File(juce::String::fromUTF8(paths().work.c_str())).getChildFile("changing.rill");
    ASSERT_TRUE(juce::File(juce::String::fromUTF8(passthrough().c_str())).copyFileTo(copy));
    ProcessorHost a(kModelRate, 2, 512);
    a.load(copy.getFullPathName().toStdString());
    juce::MemoryBlock state;
    a.processor().getStateInformation(state);
    ASSERT_TRUE(juce::File(juce::String::fromUTF8(paths().drive.c_str())).copyFileTo(copy));

    ProcessorHost b(kModelRate, 2, 512);
    b.processor().setStateInformation(state.getData(), static_cast<int>(state.getSize()));
    b.processor().wait_for_model();
    EXPECT_EQ(b.processor().model_status().state, ModelStatus::State::loaded);
    EXPECT_FALSE(b.processor().model_status().warning.empty());
}

TEST(ProcessorState, AMissingModelShowsAnErrorAndPassesAudioThrough) {
    const juce::File gone =
        juce::File(juce::String::fromUTF8(paths().work.c_str())).getChildFile("gone.rill");
    ASSERT_TRUE(juce::File(juce::String::fromUTF8(paths().drive.c_str())).copyFileTo(gone));
    ProcessorHost a(kModelRate, 2, 512);
    a.load(gone.getFullPathName().toStdString());
    juce::MemoryBlock state;
    a.processor().getStateInformation(state);
    ASSERT_TRUE(gone.deleteFile());

    ProcessorHost b(kModelRate, 2, 512);
    b.processor().setStateInformation(state.getData(), static_cast<int>(state.getSize()));
    b.processor().wait_for_model();
    b.prepare();
    const ModelStatus s = b.processor().model_status();
    EXPECT_EQ(s.state, ModelStatus::State::failed);
    EXPECT_NE(s.error.find(gone.getFullPathName().toStdString()), std::string::npos) << s.error;
    EXPECT_EQ(b.latency(), 0);
    const Signal input = make_signal(2, 20000, kModelRate, 5);
    Signal y = input;
    b.process(y, varying_blocks());
    EXPECT_EQ(max_abs_diff(y[0], input[0]), 0.0f);
    // The path stays in the state, so that the session finds the model once the file is back.
    EXPECT_EQ(s.path, gone.getFullPathName().toStdString());
}

TEST(ProcessorState, ABrokenModelFileShowsAnErrorAndPassesAudioThrough) {
    ProcessorHost host(kModelRate, 1, 512);
    host.load(paths().drive);
    ASSERT_EQ(host.latency(), 134);
    host.load(broken());
    const ModelStatus s = host.processor().model_status();
    EXPECT_EQ(s.state, ModelStatus::State::failed);
    EXPECT_NE(s.error.find("broken.rill"), std::string::npos) << s.error;
    EXPECT_EQ(host.latency(), 0);
    const Signal input = make_signal(1, 10000, kModelRate, 6);
    Signal y = input;
    host.process(y, {333});
    EXPECT_EQ(max_abs_diff(y[0], input[0]), 0.0f);
}

} // namespace rill::plugin::test
