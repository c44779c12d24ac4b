// Video sources for the webcam demo: a V4L2 camera, a video file, a GStreamer pipeline (all
// through OpenCV's VideoCapture) or a built-in generated test pattern. Frames are packed BGR8.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace webcam {

using Clock = std::chrono::steady_clock;

struct Frame {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> bgr;   // width * height * 3, rows packed
    Clock::time_point captured; // when the frame was handed to us (start of end-to-end latency)
};

struct SourceSpec {
    enum class Kind { camera, video, pipeline, test_pattern };
    Kind kind = Kind::test_pattern;
    int camera_index = 0;
    std::string path; // video file or GStreamer pipeline (ending in appsink)
    int width = 640;  // requested camera / test pattern size (a camera may pick another)
    int height = 480;
    double fps = 30.0; // test pattern rate (a live source paces itself)
};

// What a failed read means for the caller.
enum class ReadResult { ok, end_of_file, lost };

class Capture {
public:
    virtual ~Capture() = default;
    // Opens the source; on failure returns nullptr and explains why in `error`.
    static std::unique_ptr<Capture> open(const SourceSpec& spec, std::string& error);

    // Blocks until the next frame. `lost` means the source stopped while more frames were expected
    // (camera unplugged, pipeline ended, file truncated); `error` then says what happened.
    virtual ReadResult read(Frame& frame, std::string& error) = 0;
    // Back to the first frame (files only; false when the source cannot rewind).
    virtual bool rewind() { return false; }
    // True for sources that deliver frames in real time by themselves (camera, pipeline); a file
    // is read as fast as asked and the caller paces it.
    virtual bool live() const = 0;
    virtual double fps() const = 0; // nominal, 0 if unknown
    virtual std::string describe() const = 0;
};

} // namespace webcam
