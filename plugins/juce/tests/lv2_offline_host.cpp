// rill_lv2_host URI IN.wav OUT.wav [--block N] [--settle-latency L] [--compare REF.wav --from N]
// A small offline LV2 host on lilv: finds the plugin by URI (LV2_PATH), gives it the features a
// JUCE plugin requires (urid map/unmap, options with min/max/nominal block length and sample
// rate, bounded block length), connects every port (an empty atom sequence in, a chunk out,
// control inputs at their defaults), processes IN block by block and writes OUT (channel 0,
// the same length as IN plus the latency), then prints "latency N" (the plugin's latency port).
//
// --settle-latency L: before IN, runs silence until the latency port reads L, and then 16384
// more frames (a plugin that loads its model in the background crossfades to it meanwhile).
// --compare REF.wav --from N: exits 1 unless OUT[n + latency] equals REF[n] (to 1e-5) for every
// n >= N (REF aligned with IN, as `rill run` writes it).
#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/urid/urid.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

struct UridMap {
    std::vector<std::string> uris;
    static LV2_URID map(LV2_URID_Map_Handle handle, const char* uri) {
        auto* self = static_cast<UridMap*>(handle);
        for (size_t i = 0; i < self->uris.size(); ++i)
            if (self->uris[i] == uri)
                return static_cast<LV2_URID>(i + 1);
        self->uris.emplace_back(uri);
        return static_cast<LV2_URID>(self->uris.size());
    }
    static const char* unmap(LV2_URID_Unmap_Handle handle, LV2_URID urid) {
        auto* self = static_cast<UridMap*>(handle);
        return urid >= 1 && urid <= self->uris.size() ? self->uris[urid - 1].c_str() : nullptr;
    }
};

int fail(const std::string& message) {
    std::fprintf(stderr, "rill_lv2_host: %s\n", message.c_str());
    return 1;
}

std::vector<float> read_mono(const char* path, int& rate) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path, SFM_READ, &info);
    if (!f)
        return {};
    std::vector<float> frames(static_cast<size_t>(info.frames * info.channels));
    sf_readf_float(f, frames.data(), info.frames);
    sf_close(f);
    std::vector<float> mono(static_cast<size_t>(info.frames));
    for (size_t i = 0; i < mono.size(); ++i)
        mono[i] = frames[i * static_cast<size_t>(info.channels)];
    rate = info.samplerate;
    return mono;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 4)
        return fail("usage: rill_lv2_host URI IN.wav OUT.wav [--block N] [--settle-latency L]");
    const std::string uri = argv[1];
    int block = 512;
    long settle_latency = -1, compare_from = 0;
    const char* reference = nullptr;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--block"))
            block = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--settle-latency"))
            settle_latency = std::atol(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--compare"))
            reference = argv[i + 1];
        else if (!std::strcmp(argv[i], "--from"))
            compare_from = std::atol(argv[i + 1]);
        else
            return fail(std::string("unknown option ") + argv[i]);
    }
    if (block < 1 || block > 8192)
        return fail("--block must be 1..8192");
    int rate = 0;
    const std::vector<float> input = read_mono(argv[2], rate);
    if (input.empty())
        return fail(std::string("cannot read ") + argv[2]);

    LilvWorld* world = lilv_world_new();
    lilv_world_load_all(world);
    LilvNode* uri_node = lilv_new_uri(world, uri.c_str());
    const LilvPlugin* plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), uri_node);
    if (!plugin)
        return fail("no LV2 plugin " + uri + " (check LV2_PATH)");

    UridMap urids;
    LV2_URID_Map map{&urids, UridMap::map};
    LV2_URID_Unmap unmap{&urids, UridMap::unmap};
    const int32_t min_block = 1, max_block = block, nominal_block = block;
    const float sample_rate = static_cast<float>(rate);
    const LV2_URID atom_int = map.map(&urids, LV2_ATOM__Int);
    const LV2_Options_Option options[] = {
        {LV2_OPTIONS_INSTANCE, 0, map.map(&urids, LV2_BUF_SIZE__minBlockLength), sizeof(int32_t),
         atom_int, &min_block},
        {LV2_OPTIONS_INSTANCE, 0, map.map(&urids, LV2_BUF_SIZE__maxBlockLength), sizeof(int32_t),
         atom_int, &max_block},
        {LV2_OPTIONS_INSTANCE, 0, map.map(&urids, LV2_BUF_SIZE__nominalBlockLength),
         sizeof(int32_t), atom_int, &nominal_block},
        {LV2_OPTIONS_INSTANCE, 0, map.map(&urids, LV2_PARAMETERS__sampleRate), sizeof(float),
         map.map(&urids, LV2_ATOM__Float), &sample_rate},
        {LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, nullptr}};
    LV2_Feature map_feature{LV2_URID__map, &map}, unmap_feature{LV2_URID__unmap, &unmap};
    LV2_Feature options_feature{LV2_OPTIONS__options, const_cast<LV2_Options_Option*>(options)};
    LV2_Feature bounded{LV2_BUF_SIZE__boundedBlockLength, nullptr};
    const LV2_Feature* features[] = {&map_feature, &unmap_feature, &options_feature, &bounded,
                                     nullptr};

    LilvInstance* instance = lilv_plugin_instantiate(plugin, rate, features);
    if (!instance)
        return fail("the plugin did not instantiate");

    LilvNode* audio_class = lilv_new_uri(world, LV2_CORE__AudioPort);
    LilvNode* control_class = lilv_new_uri(world, LV2_CORE__ControlPort);
    LilvNode* atom_class = lilv_new_uri(world, LV2_ATOM__AtomPort);
    LilvNode* input_class = lilv_new_uri(world, LV2_CORE__InputPort);
    LilvNode* latency_designation = lilv_new_uri(world, LV2_CORE__latency);
    LilvNode* reports_latency = lilv_new_uri(world, LV2_CORE__reportsLatency);

    const uint32_t ports = lilv_plugin_get_num_ports(plugin);
    std::vector<std::vector<float>> audio_in, audio_out;
    std::vector<float> controls(ports, 0.0f);
    std::vector<std::vector<uint64_t>> atoms; // 8-byte aligned atom buffers
    std::vector<LV2_Atom*> atom_outputs;
    float* latency_port = nullptr;
    audio_in.reserve(ports);
    audio_out.reserve(ports);
    atoms.reserve(ports);
    for (uint32_t p = 0; p < ports; ++p) {
        const LilvPort* port = lilv_plugin_get_port_by_index(plugin, p);
        const bool is_input = lilv_port_is_a(plugin, port, input_class);
        if (lilv_port_is_a(plugin, port, audio_class)) {
            auto& list = is_input ? audio_in : audio_out;
            list.emplace_back(static_cast<size_t>(block), 0.0f);
            lilv_instance_connect_port(instance, p, list.back().data());
        } else if (lilv_port_is_a(plugin, port, control_class)) {
            LilvNode* def = nullptr;
            lilv_port_get_range(plugin, port, &def, nullptr, nullptr);
            if (def)
                controls[p] = lilv_node_as_float(def);
            lilv_node_free(def);
            if (!is_input && (lilv_port_has_property(plugin, port, reports_latency) ||
                              lilv_port_supports_event(plugin, port, latency_designation)))
                latency_port = &controls[p];
            LilvNode* designation =
                lilv_port_get(plugin, port, lilv_new_uri(world, LV2_CORE__designation));
            if (designation && lilv_node_equals(designation, latency_designation))
                latency_port = &controls[p];
            lilv_node_free(designation);
            lilv_instance_connect_port(instance, p, &controls[p]);
        } else if (lilv_port_is_a(plugin, port, atom_class)) {
            atoms.emplace_back(8192 / 8, 0);
            auto* atom = reinterpret_cast<LV2_Atom*>(atoms.back().data());
            if (is_input) {
                auto* seq = reinterpret_cast<LV2_Atom_Sequence*>(atom);
                seq->atom.type = map.map(&urids, LV2_ATOM__Sequence);
                seq->atom.size = sizeof(LV2_Atom_Sequence_Body);
                seq->body.unit = 0;
                seq->body.pad = 0;
            } else {
                atom_outputs.push_back(atom);
            }
            lilv_instance_connect_port(instance, p, atom);
        } else {
            lilv_instance_connect_port(instance, p, nullptr);
        }
    }
    if (audio_in.empty() || audio_out.empty())
        return fail("the plugin has no audio input or output");
    if (!latency_port)
        return fail("the plugin has no latency port");

    const LV2_URID chunk = map.map(&urids, LV2_ATOM__Chunk);
    auto run = [&](const float* in, float* out, int frames) {
        for (auto& channel : audio_in)
            std::memcpy(channel.data(), in, sizeof(float) * static_cast<size_t>(frames));
        for (LV2_Atom* atom : atom_outputs) {
            atom->type = chunk;
            atom->size = 8192 - sizeof(LV2_Atom);
        }
        lilv_instance_run(instance, static_cast<uint32_t>(frames));
        if (out)
            std::memcpy(out, audio_out.front().data(), sizeof(float) * static_cast<size_t>(frames));
    };

    lilv_instance_activate(instance);
    std::vector<float> silence(static_cast<size_t>(block), 0.0f);
    if (settle_latency >= 0) {
        // Bounded by a number of blocks, not by time: each block sleeps 1 ms for the loader.
        long blocks = 0;
        for (; blocks < 20000 && static_cast<long>(*latency_port) != settle_latency; ++blocks) {
            run(silence.data(), nullptr, block);
            struct timespec ms {
                0, 1000000
            };
            nanosleep(&ms, nullptr);
        }
        if (static_cast<long>(*latency_port) != settle_latency)
            return fail("the latency port never read " + std::to_string(settle_latency));
        for (long frames = 0; frames < 16384; frames += block)
            run(silence.data(), nullptr, block);
    }
    const long latency = static_cast<long>(*latency_port);
    std::vector<float> padded(input);
    padded.resize(input.size() + static_cast<size_t>(latency), 0.0f);
    std::vector<float> output(padded.size(), 0.0f);
    for (size_t offset = 0; offset < padded.size(); offset += static_cast<size_t>(block)) {
        const int n =
            static_cast<int>(std::min<size_t>(static_cast<size_t>(block), padded.size() - offset));
        run(padded.data() + offset, output.data() + offset, n);
    }
    lilv_instance_deactivate(instance);
    lilv_instance_free(instance);

    SF_INFO info{};
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open(argv[3], SFM_WRITE, &info);
    if (!f)
        return fail(std::string("cannot write ") + argv[3]);
    sf_writef_float(f, output.data(), static_cast<sf_count_t>(output.size()));
    sf_close(f);
    std::printf("latency %ld\n", latency);

    if (reference) {
        int reference_rate = 0;
        const std::vector<float> expected = read_mono(reference, reference_rate);
        if (expected.size() != input.size() || reference_rate != rate)
            return fail(std::string(reference) + " does not have the input's length and rate");
        double worst = 0;
        for (size_t n = static_cast<size_t>(compare_from); n < expected.size(); ++n)
            worst = std::max(worst, static_cast<double>(std::fabs(
                                        output[n + static_cast<size_t>(latency)] - expected[n])));
        std::printf("max |out[n + %ld] - ref[n]| for n >= %ld: %.3g\n", latency, compare_from,
                    worst);
        if (!(worst <= 1e-5))
            return fail("the plugin's output differs from the reference");
    }

    for (LilvNode* n : {uri_node, audio_class, control_class, atom_class, input_class,
                        latency_designation, reports_latency})
        lilv_node_free(n);
    lilv_world_free(world);
    return 0;
}
