// Unit checks of the webcam demo's parts that need no model, camera or display: blur, blend,
// background scaling, overlay text, percentiles, option parsing, sources that cannot open.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "capture.hpp"
#include "compositor.hpp"
#include "options.hpp"
#include "overlay_text.hpp"
#include "stats.hpp"

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok)
        ++failures;
}

bool parse(std::vector<std::string> args, webcam::Options& o, std::string& error) {
    std::vector<char*> argv;
    args.insert(args.begin(), "webcam");
    for (std::string& a : args)
        argv.push_back(a.data());
    bool help = false;
    return webcam::parse_options(static_cast<int>(argv.size()), argv.data(), o, help, error);
}

} // namespace

int main() {
    using namespace webcam;
    std::vector<uint8_t> scratch;
    std::vector<uint32_t> sums;

    { // A constant image stays constant; a single bright pixel spreads and keeps its energy.
        const int w = 37, h = 23;
        std::vector<uint8_t> img(w * h * 3, 77);
        box_blur_bgr(img.data(), w, h, 5, 3, scratch, sums);
        bool constant = true;
        for (uint8_t v : img)
            constant = constant && v == 77;
        check(constant, "blur keeps a constant image");

        std::vector<uint8_t> dot(w * h * 3, 0);
        const int cx = 18, cy = 11;
        for (int c = 0; c < 3; ++c)
            dot[(cy * w + cx) * 3 + c] = 255;
        std::vector<uint8_t> big(dot);
        for (uint8_t& v : big)
            v = v ? 255 : 0;
        // Radius 1, one pass: a 3x3 box, each of the 9 pixels 255/9 = 28.3 -> 28.
        box_blur_bgr(dot.data(), w, h, 1, 1, scratch, sums);
        int sum = 0, nonzero = 0;
        for (int i = 0; i < w * h; ++i) {
            sum += dot[i * 3 + 1];
            nonzero += dot[i * 3 + 1] != 0;
        }
        check(nonzero == 9 && dot[(cy * w + cx) * 3 + 1] == 28 && std::abs(sum - 255) <= 9,
              "blur radius 1 spreads a dot over 3x3 (" + std::to_string(nonzero) + " pixels)");
        // A radius larger than the image is clamped at the edges, not read out of bounds.
        box_blur_bgr(big.data(), w, h, 200, 2, scratch, sums);
        check(big[0] == big[(w * h - 1) * 3], "blur with a radius beyond the frame");
    }

    { // Half and double size keep a constant image and a horizontal ramp's mean (odd sizes too).
        const int w = 21, h = 9;
        std::vector<uint8_t> img(w * h * 3), half, back(w * h * 3);
        for (int i = 0; i < w * h; ++i)
            for (int c = 0; c < 3; ++c)
                img[i * 3 + c] = static_cast<uint8_t>(c == 0 ? 90 : (i % w) * 10);
        half_bgr(img.data(), w, h, half);
        double_bgr(half.data(), (w + 1) / 2, (h + 1) / 2, back.data(), w, h);
        bool constant = true;
        int worst = 0;
        for (int i = 0; i < w * h; ++i) {
            constant = constant && back[i * 3] == 90;
            if (i % w > 0 && i % w < w - 1) // edges are clamped
                worst = std::max(worst, std::abs(back[i * 3 + 1] - img[i * 3 + 1]));
        }
        check(constant && half.size() == 11 * 5 * 3, "half / double size keep a constant");
        check(worst <= 5, "half / double size follow a ramp (worst " + std::to_string(worst) + ")");
    }

    { // Blend: mask 255 gives the frame, 0 the background, 128 about half-way.
        const uint8_t frame[9] = {200, 100, 0, 200, 100, 0, 200, 100, 0};
        const uint8_t bg[9] = {0, 100, 200, 0, 100, 200, 0, 100, 200};
        const uint8_t mask[3] = {255, 0, 128};
        uint8_t out[9];
        blend_bgr(frame, bg, mask, out, 3, 1);
        check(out[0] == 200 && out[2] == 0 && out[3] == 0 && out[5] == 200,
              "blend: mask 255 = frame, 0 = background");
        check(out[6] == 100 && out[7] == 100 && out[8] == 100, "blend: mask 128 is half-way");
    }

    { // Cover-resize: a 4x2 image with a left half red and right half blue, into a 2x2 frame
        // keeps the middle (crop), so both halves appear.
        std::vector<uint8_t> src(4 * 2 * 3);
        for (int y = 0; y < 2; ++y)
            for (int x = 0; x < 4; ++x) {
                uint8_t* p = &src[(y * 4 + x) * 3];
                p[0] = x < 2 ? 0 : 255, p[1] = 0, p[2] = x < 2 ? 255 : 0;
            }
        const std::vector<uint8_t> out = cover_resize_bgr(src.data(), 4, 2, 2, 2);
        check(out[2] == 255 && out[0] == 0 && out[3] == 255 && out[5] == 0,
              "cover resize crops the excess width, centred");
        const std::vector<uint8_t> up = cover_resize_bgr(src.data(), 4, 2, 64, 48);
        check(up.size() == 64 * 48 * 3, "cover resize to a larger frame");
    }

    { // Text: pixels are set only inside the text box, some are set, none outside the frame.
        const int w = 64, h = 20;
        std::vector<uint8_t> img(w * h * 3, 0);
        const uint8_t white[3] = {255, 255, 255};
        draw_text(img.data(), w, h, 2, 2, "Fps 30.0", 1, white);
        int lit = 0, outside = 0;
        const int tw = text_width("Fps 30.0", 1);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                if (img[(y * w + x) * 3]) {
                    ++lit;
                    outside += x < 2 || x >= 2 + tw || y < 2 || y >= 2 + glyph_height;
                }
        check(lit > 40 && outside == 0, "text drawn inside its box (" + std::to_string(lit) + ")");
        draw_panel(img.data(), w, h, 50, 10, {"CLIPPED TEXT"}, 3); // must not write out of bounds
        check(true, "panel clipped at the frame's edge");
    }

    {
        check(percentile({}, 0.5) == 0, "percentile of nothing");
        check(percentile({3, 1, 2}, 0.5) == 2, "median of 3");
        check(std::fabs(percentile({0, 10}, 0.99) - 9.9) < 1e-9, "p99 interpolates");
        RunStats s;
        s.end_to_end_ms = {1, 2, 3};
        s.model_ms = {1, 1, 1};
        s.seconds = 0.1;
        check(std::fabs(s.fps() - 20) < 1e-9, "fps counts intervals between frames");
        check(s.json("a \"b\"", "m", "e", 1, 2, true).find("\"a \\\"b\\\"\"") != std::string::npos,
              "summary JSON escapes quotes");
    }

    {
        Options o;
        std::string error;
        check(
            parse({"--video", "x.mp4", "--blur", "9", "--frames", "5", "--headless", "--out", "d"},
                  o, error) &&
                o.source.kind == SourceSpec::Kind::video && o.blur == 9 && o.frames == 5,
            "options: video, blur, frames");
        Options o2;
        error.clear();
        bool ok = !parse({"--camera", "1", "--test-source"}, o2, error) && !error.empty();
        check(ok, "options: two sources refused (" + error + ")");
        Options o3;
        error.clear();
        ok = !parse({"--smoothing", "2"}, o3, error) && !error.empty();
        check(ok, "options: smoothing out of range refused (" + error + ")");
        Options o4;
        error.clear();
        check(!parse({"--blur", "3", "--background", "x.png"}, o4, error),
              "options: blur and background refused");
        Options o5;
        error.clear();
        ok = !parse({"--frames"}, o5, error) && error == "--frames needs a value";
        check(ok, "options: missing value (" + error + ")");
    }

    { // Sources that cannot open say why; the test pattern always opens.
        std::string error;
        SourceSpec cam;
        cam.kind = SourceSpec::Kind::camera;
        cam.camera_index = 97;
        bool ok = !Capture::open(cam, error) && error.find("/dev/video97") != std::string::npos;
        check(ok, "missing camera: " + error);
        SourceSpec file;
        file.kind = SourceSpec::Kind::video;
        file.path = "/nonexistent/clip.mp4";
        error.clear();
        ok = !Capture::open(file, error) && error.find("no such file") != std::string::npos;
        check(ok, "missing video: " + error);
        SourceSpec pattern;
        pattern.width = 64;
        pattern.height = 48;
        auto cap = Capture::open(pattern, error);
        Frame f1, f2;
        const bool read =
            cap && cap->read(f1, error) == ReadResult::ok && cap->read(f2, error) == ReadResult::ok;
        check(read && f1.width == 64 && f1.height == 48 && f1.bgr.size() == 64 * 48 * 3 &&
                  f1.bgr != f2.bgr,
              "test pattern moves");
    }

    std::printf("%s\n", failures ? "webcam parts: FAILED" : "webcam parts: all checks passed");
    return failures ? 1 : 0;
}
