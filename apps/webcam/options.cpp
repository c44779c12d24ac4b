#include "options.hpp"

#include <cmath>
#include <cstdlib>

namespace webcam {

const char* const usage_text =
    "usage: webcam [source] [--model FILE] [effect] [options]\n"
    "Live person segmentation with Rill: background blur or replacement, in a window or headless.\n"
    "source (default --camera 0):\n"
    "  --camera N            V4L2 camera /dev/videoN\n"
    "  --video FILE          a video file\n"
    "  --pipeline STR        a GStreamer pipeline ending in appsink (BGR frames)\n"
    "  --test-source         a generated moving test pattern\n"
    "  --size WxH            camera / test pattern size (default 640x480)\n"
    "  --loop                restart a video file at its end\n"
    "model:\n"
    "  --model FILE          segmentation model (.tflite, .rill, .onnx); none: frames pass "
    "through\n"
    "  --import-options JSON options for a model imported on load (e.g. SINet's ONNX)\n"
    "  --smoothing S         temporal smoothing of the mask, 0..1 (models that have it)\n"
    "  --param NAME=VALUE    any model parameter\n"
    "effect (default --blur 12):\n"
    "  --blur R              blur the background with radius R pixels (0 = off)\n"
    "  --background IMG      replace the background with an image (PNG, JPEG, ...)\n"
    "  --show-mask           show the mask instead of the composite (key M toggles)\n"
    "output:\n"
    "  --headless --out DIR  no window: write frame_NNNNN.png and summary.json into DIR\n"
    "  --write-mask          headless: also write mask_NNNNN.png\n"
    "  --frames N            stop after N frames\n"
    "  --no-overlay          no fps / timing read-out on the frames\n"
    "keys: Q or Escape quits, Space toggles the effect, M toggles the mask view.\n"
    "exit status: 0 done, 1 error, 2 usage, 3 the source could not be opened or was lost.\n";

namespace {

bool to_long(const std::string& text, long lo, long hi, long& out) {
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || v < lo || v > hi)
        return false;
    out = v;
    return true;
}

bool to_float(const std::string& text, float& out) {
    char* end = nullptr;
    const float v = std::strtof(text.c_str(), &end);
    if (text.empty() || *end || !std::isfinite(v))
        return false;
    out = v;
    return true;
}

} // namespace

bool parse_options(int argc, char** argv, Options& o, bool& help, std::string& error) {
    int sources = 0;
    bool blur_set = false;
    help = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](std::string& v) {
            if (i + 1 >= argc) {
                error = a + " needs a value";
                return false;
            }
            v = argv[++i];
            return true;
        };
        auto fail = [&](const char* message) {
            if (error.empty()) // value() may have said it already
                error = message;
            return false;
        };
        std::string v;
        long n = 0;
        if (a == "-h" || a == "--help") {
            help = true;
            return true;
        } else if (a == "--camera") {
            if (!value(v) || !to_long(v, 0, 255, n))
                return fail("--camera needs a number 0..255");
            o.source.kind = SourceSpec::Kind::camera;
            o.source.camera_index = static_cast<int>(n);
            ++sources;
        } else if (a == "--video" || a == "--pipeline") {
            if (!value(v))
                return false;
            o.source.kind = a == "--video" ? SourceSpec::Kind::video : SourceSpec::Kind::pipeline;
            o.source.path = v;
            ++sources;
        } else if (a == "--test-source") {
            o.source.kind = SourceSpec::Kind::test_pattern;
            ++sources;
        } else if (a == "--size") {
            if (!value(v))
                return false;
            const size_t x = v.find('x');
            long w = 0, h = 0;
            if (x == std::string::npos || !to_long(v.substr(0, x), 16, 8192, w) ||
                !to_long(v.substr(x + 1), 16, 8192, h)) {
                error = "--size needs WIDTHxHEIGHT (16..8192 each), got '" + v + "'";
                return false;
            }
            o.source.width = static_cast<int>(w);
            o.source.height = static_cast<int>(h);
        } else if (a == "--loop") {
            o.loop = true;
        } else if (a == "--model") {
            if (!value(o.model))
                return false;
        } else if (a == "--import-options") {
            if (!value(o.import_options))
                return false;
        } else if (a == "--smoothing") {
            if (!value(v) || !to_float(v, o.smoothing) || o.smoothing < 0 || o.smoothing > 1)
                return fail("--smoothing needs a number in 0..1");
            o.smoothing_set = true;
        } else if (a == "--param") {
            if (!value(v))
                return false;
            const size_t eq = v.find('=');
            float f = 0;
            if (eq == std::string::npos || eq == 0 || !to_float(v.substr(eq + 1), f)) {
                error = "--param needs NAME=VALUE, got '" + v + "'";
                return false;
            }
            o.params.emplace_back(v.substr(0, eq), f);
        } else if (a == "--blur") {
            if (!value(v) || !to_long(v, 0, 500, n))
                return fail("--blur needs a radius 0..500");
            o.blur = static_cast<int>(n);
            blur_set = true;
        } else if (a == "--background") {
            if (!value(o.background))
                return false;
        } else if (a == "--show-mask") {
            o.show_mask = true;
        } else if (a == "--headless") {
            o.headless = true;
        } else if (a == "--out") {
            if (!value(o.out_dir))
                return false;
        } else if (a == "--write-mask") {
            o.write_mask = true;
        } else if (a == "--frames") {
            if (!value(v) || !to_long(v, 1, 1L << 40, o.frames))
                return fail("--frames needs a positive number");
        } else if (a == "--no-overlay") {
            o.overlay = false;
        } else {
            error = "unknown option '" + a + "'";
            return false;
        }
    }
    if (sources == 0)
        o.source.kind = SourceSpec::Kind::camera;
    if (sources > 1) {
        error = "give one source: --camera, --video, --pipeline or --test-source";
        return false;
    }
    if (blur_set && !o.background.empty()) {
        error = "give --blur or --background, not both";
        return false;
    }
    if (o.headless && o.out_dir.empty() && o.frames == 0) {
        error = "--headless needs --out DIR or --frames N";
        return false;
    }
    if (o.write_mask && o.out_dir.empty()) {
        error = "--write-mask needs --out DIR";
        return false;
    }
    return true;
}

} // namespace webcam
