#include "audio_file.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sndfile.h>
#include <sys/stat.h>

namespace rill::cli {
namespace {

const char* kReadable = "WAV, FLAC, OGG/Vorbis, Opus, MP3, AIFF, AU, CAF, W64 or another format "
                        "libsndfile reads";

std::string lower_extension(const std::string& path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return "";
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

// 0 for an extension libsndfile has no writer for.
int major_for_extension(const std::string& ext) {
    if (ext == "wav" || ext == "wave") return SF_FORMAT_WAV;
    if (ext == "flac") return SF_FORMAT_FLAC;
    if (ext == "ogg" || ext == "oga") return SF_FORMAT_OGG;
    if (ext == "aiff" || ext == "aif" || ext == "aifc") return SF_FORMAT_AIFF;
    if (ext == "au" || ext == "snd") return SF_FORMAT_AU;
    if (ext == "caf") return SF_FORMAT_CAF;
    if (ext == "w64") return SF_FORMAT_W64;
    if (ext == "rf64") return SF_FORMAT_RF64;
    if (ext == "mp3") return SF_FORMAT_MPEG; // libsndfile >= 1.1 (Debian 12: 1.2)
    return 0;
}

int usual_subtype(int major) {
    switch (major) {
    case SF_FORMAT_FLAC: return SF_FORMAT_PCM_24;
    case SF_FORMAT_OGG: return SF_FORMAT_VORBIS;
    case SF_FORMAT_MPEG: return SF_FORMAT_MPEG_LAYER_III;
    default: return SF_FORMAT_FLOAT;
    }
}

bool writable(int format, int channels, int rate) {
    SF_INFO info{};
    info.format = format;
    info.channels = channels;
    info.samplerate = rate;
    return sf_format_check(&info) == SF_TRUE;
}

std::string format_name(int command, int value) {
    SF_FORMAT_INFO fi{};
    fi.format = value;
    if (sf_command(nullptr, command, &fi, sizeof fi) != 0 || !fi.name)
        return "format 0x" + std::to_string(value);
    return fi.name;
}

} // namespace

std::string describe_format(int format) {
    return format_name(SFC_GET_FORMAT_INFO, format & SF_FORMAT_TYPEMASK) + ", " +
           format_name(SFC_GET_FORMAT_INFO, format & SF_FORMAT_SUBMASK);
}

Audio read_audio(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        throw std::runtime_error("cannot open input '" + path + "': " + std::strerror(errno));
    if (S_ISDIR(st.st_mode))
        throw std::runtime_error("input '" + path + "' is a directory; expected an audio file");
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (!f)
        throw std::runtime_error("cannot read input '" + path + "' as audio (" +
                                 sf_strerror(nullptr) + "); expected " + kReadable);
    if (info.channels <= 0 || info.frames < 0) {
        sf_close(f);
        throw std::runtime_error("input '" + path + "' has no audio channels");
    }
    Audio a;
    a.sample_rate = info.samplerate;
    a.format = info.format;
    const size_t ch = static_cast<size_t>(info.channels);
    a.channels.assign(ch, std::vector<float>());
    for (auto& c : a.channels)
        c.reserve(static_cast<size_t>(info.frames));
    // Read in chunks: some formats (compressed, or streamed) report frames inexactly.
    std::vector<float> chunk(4096 * ch);
    for (;;) {
        const sf_count_t got = sf_readf_float(f, chunk.data(), 4096);
        if (got <= 0)
            break;
        for (sf_count_t t = 0; t < got; ++t)
            for (size_t c = 0; c < ch; ++c)
                a.channels[c].push_back(chunk[static_cast<size_t>(t) * ch + c]);
    }
    const int err = sf_error(f);
    sf_close(f);
    if (err != SF_ERR_NO_ERROR)
        throw std::runtime_error("cannot read input '" + path + "': " + sf_error_number(err));
    return a;
}

int write_audio(const std::string& path, const Audio& audio, int like_format) {
    const int channels = static_cast<int>(audio.channels.size());
    const std::string ext = lower_extension(path);
    int major = major_for_extension(ext);
    if (major == 0)
        major = like_format & SF_FORMAT_TYPEMASK;
    const int candidates[] = {major | (like_format & SF_FORMAT_SUBMASK), major | usual_subtype(major),
                              SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    // sf_format_check accepts a few pairs that sf_open then refuses (WAV + MP3 data): try each.
    SNDFILE* f = nullptr;
    SF_INFO info{};
    std::string first_error;
    for (int candidate : candidates) {
        if (!writable(candidate, channels, audio.sample_rate))
            continue;
        info = SF_INFO{};
        info.samplerate = audio.sample_rate;
        info.channels = channels;
        info.format = candidate;
        f = sf_open(path.c_str(), SFM_WRITE, &info);
        if (f)
            break;
        if (first_error.empty())
            first_error = sf_strerror(nullptr);
    }
    if (!f) {
        if (first_error.empty())
            first_error = "no audio format fits " + std::to_string(channels) +
                          " channel(s) at " + std::to_string(audio.sample_rate) + " Hz";
        throw std::runtime_error("cannot write output '" + path + "': " + first_error);
    }
    const int format = info.format;
    sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);
    const size_t frames = audio.frames(), ch = audio.channels.size();
    std::vector<float> interleaved(frames * ch);
    for (size_t t = 0; t < frames; ++t)
        for (size_t c = 0; c < ch; ++c)
            interleaved[t * ch + c] = audio.channels[c][t];
    const sf_count_t put = sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(frames));
    const std::string write_error = sf_strerror(f);
    const int err = sf_close(f);
    if (put != static_cast<sf_count_t>(frames) || err)
        throw std::runtime_error("cannot write output '" + path + "': " + write_error);
    return format;
}

} // namespace rill::cli
