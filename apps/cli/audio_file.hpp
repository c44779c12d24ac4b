// Reading and writing audio files through libsndfile, as planar float channels.
#pragma once

#include <string>
#include <vector>

namespace rill::cli {

struct Audio {
    std::vector<std::vector<float>> channels; // [channel][frame]
    int sample_rate = 0;
    int format = 0; // libsndfile format of the source file (major | subtype)
    size_t frames() const { return channels.empty() ? 0 : channels[0].size(); }
};

// Throws std::runtime_error naming the file and libsndfile's reason.
Audio read_audio(const std::string& path);

// Format from the extension (wav, flac, ogg, aiff, aif, au, caf, w64); the subtype of
// `like_format` when it suits the output's major format, else float (or 16-bit for flac).
void write_audio(const std::string& path, const Audio& audio, int like_format);

} // namespace rill::cli
