#include "capture.hpp"

#include <cmath>
#include <cstring>
#include <sys/stat.h>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/videoio.hpp>

namespace webcam {
namespace {

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// Reads into the frame's own buffer when the size matches (OpenCV keeps a Mat whose size and
// type already fit), and copies row by row otherwise.
bool read_into(cv::VideoCapture& cap, Frame& frame) {
    cv::Mat mat;
    if (frame.width > 0 && frame.height > 0)
        mat = cv::Mat(frame.height, frame.width, CV_8UC3, frame.bgr.data());
    if (!cap.read(mat) || mat.empty())
        return false;
    if (mat.type() != CV_8UC3)
        return false; // CAP_PROP_CONVERT_RGB is on by default: anything else is a broken source
    if (mat.data != frame.bgr.data()) {
        frame.width = mat.cols;
        frame.height = mat.rows;
        frame.bgr.resize(static_cast<size_t>(mat.cols) * mat.rows * 3);
        const size_t row = static_cast<size_t>(mat.cols) * 3;
        for (int y = 0; y < mat.rows; ++y)
            std::memcpy(frame.bgr.data() + y * row, mat.ptr(y), row);
    }
    frame.captured = Clock::now();
    return true;
}

class OpenCvCapture final : public Capture {
public:
    explicit OpenCvCapture(SourceSpec spec) : spec_(std::move(spec)) {}

    bool open(std::string& error) {
        try {
            switch (spec_.kind) {
            case SourceSpec::Kind::camera: {
                const std::string dev = "/dev/video" + std::to_string(spec_.camera_index);
                if (!cap_.open(spec_.camera_index, cv::CAP_V4L2) || !cap_.isOpened()) {
                    error = "cannot open camera " + std::to_string(spec_.camera_index) + " (" +
                            dev + "): " +
                            (file_exists(dev) ? "busy or not a video capture device"
                                              : "no such device");
                    return false;
                }
                cap_.set(cv::CAP_PROP_FRAME_WIDTH, spec_.width);
                cap_.set(cv::CAP_PROP_FRAME_HEIGHT, spec_.height);
                // One driver buffer: a slow frame drops camera frames instead of queueing them,
                // which would add their age to the end-to-end latency.
                cap_.set(cv::CAP_PROP_BUFFERSIZE, 1);
                break;
            }
            case SourceSpec::Kind::video:
                if (!file_exists(spec_.path)) {
                    error = "cannot open video '" + spec_.path + "': no such file";
                    return false;
                }
                if (!cap_.open(spec_.path, cv::CAP_FFMPEG) || !cap_.isOpened()) {
                    error = "cannot open video '" + spec_.path + "': not a readable video file";
                    return false;
                }
                frame_count_ = static_cast<long>(cap_.get(cv::CAP_PROP_FRAME_COUNT));
                break;
            case SourceSpec::Kind::pipeline:
                if (!cap_.open(spec_.path, cv::CAP_GSTREAMER) || !cap_.isOpened()) {
                    error = "cannot open GStreamer pipeline '" + spec_.path +
                            "' (it must end in appsink and produce BGR frames)";
                    return false;
                }
                break;
            case SourceSpec::Kind::test_pattern:
                break;
            }
        } catch (const cv::Exception& e) {
            error = "cannot open " + describe() + ": " + e.what();
            return false;
        }
        fps_ = cap_.get(cv::CAP_PROP_FPS);
        if (!(fps_ > 0 && fps_ < 1000))
            fps_ = 0;
        return true;
    }

    ReadResult read(Frame& frame, std::string& error) override {
        bool ok = false;
        try {
            ok = read_into(cap_, frame);
        } catch (const cv::Exception& e) {
            error = std::string("OpenCV: ") + e.what();
        }
        if (ok) {
            ++frames_read_;
            return ReadResult::ok;
        }
        const std::string count = std::to_string(frames_read_);
        switch (spec_.kind) {
        case SourceSpec::Kind::camera:
            error = "camera " + std::to_string(spec_.camera_index) +
                    " stopped delivering frames after " + count + " frame(s) (unplugged?)";
            return ReadResult::lost;
        case SourceSpec::Kind::pipeline:
            error = "pipeline stopped delivering frames after " + count + " frame(s)";
            return ReadResult::lost;
        default:
            break;
        }
        // A file whose header announced more frames than could be decoded is damaged; a couple of
        // frames short is how some containers round their estimate.
        if (frames_read_ == 0 || (frame_count_ > 0 && frames_read_ + 2 < frame_count_ &&
                                  frames_read_ < frame_count_ * 95 / 100)) {
            error = "video '" + spec_.path + "' ended after " + count + " of " +
                    std::to_string(frame_count_) + " frame(s) (truncated or unreadable)";
            return ReadResult::lost;
        }
        return ReadResult::end_of_file;
    }

    bool rewind() override {
        if (spec_.kind != SourceSpec::Kind::video)
            return false;
        cap_.release();
        frames_read_ = 0;
        std::string ignored;
        return open(ignored);
    }

    bool live() const override {
        return spec_.kind == SourceSpec::Kind::camera || spec_.kind == SourceSpec::Kind::pipeline;
    }
    double fps() const override { return fps_; }

    std::string describe() const override {
        switch (spec_.kind) {
        case SourceSpec::Kind::camera:
            return "camera " + std::to_string(spec_.camera_index);
        case SourceSpec::Kind::video:
            return "video '" + spec_.path + "'";
        default:
            return "pipeline '" + spec_.path + "'";
        }
    }

private:
    SourceSpec spec_;
    cv::VideoCapture cap_;
    double fps_ = 0;
    long frame_count_ = 0;
    long frames_read_ = 0;
};

// A moving colour gradient with a bouncing disc: exercises capture-free runs (no person in it).
class TestPattern final : public Capture {
public:
    explicit TestPattern(const SourceSpec& spec) : spec_(spec) {}

    ReadResult read(Frame& frame, std::string&) override {
        const int w = spec_.width, h = spec_.height;
        frame.width = w;
        frame.height = h;
        frame.bgr.resize(static_cast<size_t>(w) * h * 3);
        const double t = index_++ / spec_.fps;
        const double cx = w * (0.5 + 0.35 * std::sin(t * 1.3));
        const double cy = h * (0.5 + 0.3 * std::sin(t * 2.1));
        const double r2 = (h * 0.15) * (h * 0.15);
        const int shift = static_cast<int>(t * 60);
        for (int y = 0; y < h; ++y) {
            uint8_t* p = frame.bgr.data() + static_cast<size_t>(y) * w * 3;
            for (int x = 0; x < w; ++x, p += 3) {
                const double dx = x - cx, dy = y - cy;
                if (dx * dx + dy * dy < r2) {
                    p[0] = 40, p[1] = 200, p[2] = 240;
                } else {
                    p[0] = static_cast<uint8_t>((x + shift) * 255 / (w + 1) % 256);
                    p[1] = static_cast<uint8_t>(y * 255 / h);
                    p[2] = static_cast<uint8_t>(((x + y) / 32 + shift / 16) % 2 ? 160 : 60);
                }
            }
        }
        frame.captured = Clock::now();
        return ReadResult::ok;
    }
    bool rewind() override {
        index_ = 0;
        return true;
    }
    bool live() const override { return false; }
    double fps() const override { return spec_.fps; }
    std::string describe() const override {
        return "test pattern " + std::to_string(spec_.width) + "x" + std::to_string(spec_.height);
    }

private:
    SourceSpec spec_;
    long index_ = 0;
};

} // namespace

std::unique_ptr<Capture> Capture::open(const SourceSpec& spec, std::string& error) {
    // OpenCV's own warnings ("can't open camera by index") would repeat our messages.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    if (spec.kind == SourceSpec::Kind::test_pattern)
        return std::make_unique<TestPattern>(spec);
    auto cap = std::make_unique<OpenCvCapture>(spec);
    if (!cap->open(error))
        return nullptr;
    return cap;
}

} // namespace webcam
