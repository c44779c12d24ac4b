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

// Throws std::runtime_error naming the file, what went wrong and what was expected.
Audio read_audio(const std::string& path);

// The container comes from OUT's extension (wav, flac, ogg, mp3, aiff, ...), or is the input's
// (`like_format`) for an unknown extension. The sample format is the input's when the container
// can hold it, else the container's usual one (float; 24-bit for FLAC; Vorbis for OGG); when
// nothing fits, WAV float. Returns the libsndfile format written.
int write_audio(const std::string& path, const Audio& audio, int like_format);

// "WAV float", "FLAC 16-bit", ... for messages.
std::string describe_format(int format);

} // namespace rill::cli
