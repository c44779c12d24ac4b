#include "audio_file.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <sndfile.h>

namespace rill::cli {
namespace {

int major_for(const std::string& path) {
    auto dot = path.rfind('.');
    std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == "wav") return SF_FORMAT_WAV;
    if (ext == "flac") return SF_FORMAT_FLAC;
    if (ext == "ogg" || ext == "oga") return SF_FORMAT_OGG;
    if (ext == "aiff" || ext == "aif") return SF_FORMAT_AIFF;
    if (ext == "au") return SF_FORMAT_AU;
    if (ext == "caf") return SF_FORMAT_CAF;
    if (ext == "w64") return SF_FORMAT_W64;
    throw std::runtime_error("cannot write '" + path + "': unknown extension '" + ext +
                             "' (use .wav, .flac, .ogg, .aiff, .au, .caf or .w64)");
}

} // namespace

Audio read_audio(const std::string& path) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (!f)
        throw std::runtime_error("cannot read '" + path + "': " + sf_strerror(nullptr));
    Audio a;
    a.sample_rate = info.samplerate;
    a.format = info.format;
    std::vector<float> interleaved(static_cast<size_t>(info.frames) * static_cast<size_t>(info.channels));
    const sf_count_t got = sf_readf_float(f, interleaved.data(), info.frames);
    sf_close(f);
    if (got != info.frames)
        throw std::runtime_error("cannot read '" + path + "': file ends early");
    a.channels.assign(static_cast<size_t>(info.channels), std::vector<float>(static_cast<size_t>(info.frames)));
    for (sf_count_t t = 0; t < info.frames; ++t)
        for (int c = 0; c < info.channels; ++c)
            a.channels[static_cast<size_t>(c)][static_cast<size_t>(t)] =
                interleaved[static_cast<size_t>(t * info.channels + c)];
    return a;
}

void write_audio(const std::string& path, const Audio& audio, int like_format) {
    const int major = major_for(path);
    SF_INFO info{};
    info.samplerate = audio.sample_rate;
    info.channels = static_cast<int>(audio.channels.size());
    const int fallback = major == SF_FORMAT_FLAC ? SF_FORMAT_PCM_16
                         : major == SF_FORMAT_OGG ? SF_FORMAT_VORBIS
                                                  : SF_FORMAT_FLOAT;
    info.format = major | (like_format & SF_FORMAT_SUBMASK);
    if (!sf_format_check(&info))
        info.format = major | fallback;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f)
        throw std::runtime_error("cannot write '" + path + "': " + sf_strerror(nullptr));
    sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);
    const size_t frames = audio.frames(), ch = audio.channels.size();
    std::vector<float> interleaved(frames * ch);
    for (size_t t = 0; t < frames; ++t)
        for (size_t c = 0; c < ch; ++c)
            interleaved[t * ch + c] = audio.channels[c][t];
    const sf_count_t put = sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(frames));
    const int err = sf_close(f);
    if (put != static_cast<sf_count_t>(frames) || err)
        throw std::runtime_error("cannot write '" + path + "': " + sf_strerror(nullptr));
}

} // namespace rill::cli
