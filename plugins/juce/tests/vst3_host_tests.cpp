// A host on JUCE's hosting classes: scans and instantiates the built Rill.vst3, restores a
// session that names the bundled model, reads the latency the plugin reports, automates the
// model's parameter, processes audio and compares the result with `rill run`.
#include <gtest/gtest.h>
#include <juce_audio_formats/juce_audio_formats.h>
#include <juce_audio_processors/juce_audio_processors.h>

#include <cmath>

#include "message_pump.hpp"
#include "plugin_processor.hpp"
#include "processor_host.hpp"
#include "test_paths.hpp"

namespace rill::plugin::test {
namespace {

void write_wav(const juce::File& file, const std::vector<float>& samples, double rate) {
    file.deleteFile();
    juce::WavAudioFormat wav;
    std::unique_ptr<juce::AudioFormatWriter> writer(
        wav.createWriterFor(new juce::FileOutputStream(file), rate, 1, 32, {}, 0));
    ASSERT_NE(writer, nullptr);
    const float* channel = samples.data();
    writer->writeFromFloatArrays(&channel, 1, static_cast<int>(samples.size()));
}

std::vector<float> read_wav(const juce::File& file) {
    juce::AudioFormatManager formats;
    formats.registerBasicFormats();
    std::unique_ptr<juce::AudioFormatReader> reader(formats.createReaderFor(file));
    if (!reader)
        return {};
    juce::AudioBuffer<float> buffer(1, static_cast<int>(reader->lengthInSamples));
    reader->read(&buffer, 0, buffer.getNumSamples(), 0, true, false);
    return std::vector<float>(buffer.getReadPointer(0),
                              buffer.getReadPointer(0) + buffer.getNumSamples());
}

} // namespace

TEST(Vst3Host, ScansLoadsAutomatesAndMatchesRillRun) {
    ASSERT_FALSE(paths().vst3.empty()) << "--vst3 BUNDLE is needed";
    const double rate = 44100.0;
    const int block = 512;

    juce::AudioPluginFormatManager formats;
    formats.addDefaultFormats();
    juce::AudioPluginFormat* vst3 = nullptr;
    for (juce::AudioPluginFormat* format : formats.getFormats())
        if (format->getName() == juce::VST3PluginFormat::getFormatName())
            vst3 = format;
    ASSERT_NE(vst3, nullptr);
    juce::OwnedArray<juce::PluginDescription> types;
    vst3->findAllTypesForFile(types, juce::String::fromUTF8(paths().vst3.c_str()));
    ASSERT_EQ(types.size(), 1);
    EXPECT_EQ(types[0]->name, "Rill");
    juce::String error;
    std::unique_ptr<juce::AudioPluginInstance> plugin =
        formats.createPluginInstance(*types[0], rate, block, error);
    ASSERT_NE(plugin, nullptr) << error;

    juce::AudioProcessor::BusesLayout mono;
    mono.inputBuses.add(juce::AudioChannelSet::mono());
    mono.outputBuses.add(juce::AudioChannelSet::mono());
    ASSERT_TRUE(plugin->setBusesLayout(mono));
    plugin->prepareToPlay(rate, block);
    EXPECT_EQ(plugin->getLatencySamples(), 0);

    // A session that names the bundled model: the plugin's own state in the VST3 component
    // state, in the form JUCE's VST3 host saves it.
    juce::MemoryBlock session;
    {
        ProcessorHost maker(rate, 1, block);
        maker.load(paths().drive);
        juce::MemoryBlock component;
        maker.processor().getStateInformation(component);
        juce::XmlElement xml("VST3PluginState");
        xml.createNewChildElement("IComponent")->addTextElement(component.toBase64Encoding());
        juce::AudioProcessor::copyXmlToBinary(xml, session);
    }
    plugin->setStateInformation(session.getData(), static_cast<int>(session.getSize()));
    // The host keeps playing (silence) while the plugin loads the model in the background.
    std::vector<float> silence(block, 0.0f);
    juce::MidiBuffer midi;
    const bool reported = pump_messages_until(
        [&] {
            float* channel = silence.data();
            juce::AudioBuffer<float> buffer(&channel, 1, block);
            plugin->processBlock(buffer, midi);
            return plugin->getLatencySamples() == 134;
        },
        3000);
    ASSERT_TRUE(reported) << "latency " << plugin->getLatencySamples();

    juce::AudioProcessorParameter* drive = nullptr;
    juce::StringArray names;
    for (juce::AudioProcessorParameter* p : plugin->getParameters()) {
        names.add(p->getName(64));
        if (p->getName(64) == "drive")
            drive = p;
    }
    ASSERT_NE(drive, nullptr) << names.joinIntoString(", ").toStdString();
    drive->setValueNotifyingHost(0.8f); // host automation

    const int latency = plugin->getLatencySamples();
    const Signal input = make_signal(1, 3 * 44100, rate, 7);
    std::vector<float> output(input[0].size() + static_cast<size_t>(latency), 0.0f);
    std::copy(input[0].begin(), input[0].end(), output.begin());
    for (size_t offset = 0; offset < output.size(); offset += block) {
        const int n = static_cast<int>(std::min<size_t>(block, output.size() - offset));
        float* channel = output.data() + offset;
        juce::AudioBuffer<float> buffer(&channel, 1, n);
        plugin->processBlock(buffer, midi);
    }
    plugin->releaseResources();

    const juce::File work(juce::String::fromUTF8(paths().work.c_str()));
    const juce::File in_wav = work.getChildFile("vst3_in.wav"),
                     out_wav = work.getChildFile("vst3_rill_run.wav");
    write_wav(in_wav, input[0], rate);
    const std::string command = "'" + paths().rill + "' run '" + paths().drive + "' '" +
                                in_wav.getFullPathName().toStdString() + "' '" +
                                out_wav.getFullPathName().toStdString() + "' --param drive=0.8";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const std::vector<float> expected = read_wav(out_wav);
    ASSERT_EQ(expected.size(), input[0].size());

    // After the parameter's 20 ms glide and the model's receptive field, the plugin's output
    // is `rill run`'s, delayed by the latency the plugin reported.
    float worst = 0;
    for (size_t i = 4096; i < expected.size(); ++i)
        worst = std::max(worst, std::fabs(output[i + static_cast<size_t>(latency)] - expected[i]));
    EXPECT_LT(worst, 1e-5f);
}

} // namespace rill::plugin::test
