// `webcam`: live person segmentation with Rill (over the C API only, like any user program).
// Capture -> rill_stream_process_image (person mask) -> background blur or replacement -> window
// (or PNG files), with fps, model time and end-to-end latency drawn on the frames.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "capture.hpp"
#include "compositor.hpp"
#include "options.hpp"
#include "overlay_text.hpp"
#include "png_out.hpp"
#include "segmenter.hpp"
#include "stats.hpp"
#include "window.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) {
    g_stop = 1;
}

double ms_between(webcam::Clock::time_point a, webcam::Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string fixed(double v, int decimals) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string effect_name(const webcam::Options& o) {
    if (o.model.empty())
        return "none (no model)";
    if (!o.background.empty())
        return "background " + std::filesystem::path(o.background).filename().string();
    return o.blur > 0 ? "blur " + std::to_string(o.blur) : "none";
}

int run(const webcam::Options& o) {
    using namespace webcam;
    std::string error;

    std::unique_ptr<Segmenter> segmenter;
    if (!o.model.empty()) {
        segmenter = std::make_unique<Segmenter>();
        std::string import_options = o.import_options;
        if (import_options.empty() && std::filesystem::path(o.model).extension() == ".onnx")
            import_options =
                R"({"frontend": "image"})"; // an ONNX file is imported as an image model
        if (!segmenter->load(o.model, import_options, error)) {
            std::fprintf(stderr, "webcam: %s\n", error.c_str());
            return 1;
        }
        auto params = o.params;
        if (o.smoothing_set)
            params.emplace_back("smoothing", o.smoothing);
        for (const auto& [name, value] : params)
            if (!segmenter->set_param(name, value, error)) {
                std::string names;
                for (const std::string& n : segmenter->param_names())
                    names += (names.empty() ? "" : ", ") + n;
                std::fprintf(stderr, "webcam: %s (it has: %s)\n", error.c_str(),
                             names.empty() ? "none" : names.c_str());
                return 2;
            }
    }

    Compositor compositor;
    if (!o.background.empty()) {
        if (!compositor.set_background(o.background, error)) {
            std::fprintf(stderr, "webcam: %s\n", error.c_str());
            return 1;
        }
    } else {
        compositor.set_blur(o.blur);
    }

    std::unique_ptr<Capture> capture = Capture::open(o.source, error);
    if (!capture) {
        std::fprintf(stderr, "webcam: %s\n", error.c_str());
        return 3;
    }

    if (!o.out_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(o.out_dir, ec);
        if (ec) {
            std::fprintf(stderr, "webcam: cannot create '%s': %s\n", o.out_dir.c_str(),
                         ec.message().c_str());
            return 1;
        }
    }

    std::unique_ptr<Window> window;
    if (!o.headless) {
        window = std::make_unique<Window>();
        if (!window->open("rill webcam", o.source.width, o.source.height, error)) {
            std::fprintf(stderr, "webcam: %s (use --headless --out DIR without a display)\n",
                         error.c_str());
            return 1;
        }
    }

    const std::string model_label =
        segmenter ? std::filesystem::path(o.model).filename().string() : "no model";
    std::fprintf(stderr, "webcam: %s, %s%s, effect %s\n", capture->describe().c_str(),
                 model_label.c_str(), segmenter ? (" " + segmenter->summary()).c_str() : "",
                 effect_name(o).c_str());

    Frame frame;
    std::vector<uint8_t> mask, out, png_scratch;
    RunStats stats;
    bool show_mask = o.show_mask, effect_on = true;
    double fps_smoothed = 0, last_e2e = 0, last_model = 0;
    Clock::time_point first_capture{}, last_ready{}, next_due{};
    // A file or the test pattern is paced at its frame rate in a window; a camera or pipeline
    // paces itself, and headless runs go as fast as they can.
    const double period_ms =
        (!o.headless && !capture->live()) ? 1000.0 / (capture->fps() > 0 ? capture->fps() : 30) : 0;
    int exit_code = 0;

    while (!g_stop && (o.frames == 0 || static_cast<long>(stats.frames()) < o.frames)) {
        const ReadResult r = capture->read(frame, error);
        if (r == ReadResult::end_of_file) {
            if (o.loop && capture->rewind())
                continue;
            break;
        }
        if (r == ReadResult::lost) {
            std::fprintf(stderr, "webcam: %s\n", error.c_str());
            exit_code = 3;
            break;
        }
        const int w = frame.width, h = frame.height;
        const size_t pixels = static_cast<size_t>(w) * h;
        mask.resize(pixels);
        out.resize(pixels * 3);
        if (stats.frames() == 0)
            first_capture = frame.captured;

        double model_ms = 0;
        if (segmenter) {
            const Clock::time_point t0 = Clock::now();
            if (!segmenter->process(frame.bgr.data(), w, h, mask.data(), error)) {
                std::fprintf(stderr, "webcam: %s\n", error.c_str());
                exit_code = 1;
                break;
            }
            model_ms = ms_between(t0, Clock::now());
        } else {
            std::fill(mask.begin(), mask.end(), uint8_t{255});
        }

        if (show_mask) {
            for (size_t i = 0; i < pixels; ++i)
                out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = mask[i];
        } else if (effect_on) {
            compositor.compose(frame.bgr.data(), mask.data(), out.data(), w, h);
        } else {
            std::copy(frame.bgr.begin(), frame.bgr.end(), out.begin());
        }

        if (o.overlay) {
            // The latency shown is the previous frame's: this one's ends when it is displayed.
            const int scale = h >= 720 ? 3 : 2;
            draw_panel(out.data(), w, h, 8, 8,
                       {"RILL  " + model_label, "FPS " + fixed(fps_smoothed, 1),
                        "MODEL " + fixed(segmenter ? model_ms : last_model, 1) + " MS",
                        "LATENCY " + fixed(last_e2e, 1) + " MS",
                        std::to_string(w) + "X" + std::to_string(h) + "  " +
                            (show_mask   ? std::string("MASK")
                             : effect_on ? effect_name(o)
                                         : "OFF")},
                       scale);
        }

        Clock::time_point ready;
        double write_ms = 0;
        if (window) {
            if (!window->show(out.data(), w, h, error)) {
                std::fprintf(stderr, "webcam: %s\n", error.c_str());
                exit_code = 1;
                break;
            }
            ready = Clock::now();
        } else {
            ready = Clock::now();
            if (!o.out_dir.empty()) {
                char name[32];
                std::snprintf(name, sizeof name, "%05zu.png", stats.frames());
                const std::string dir = o.out_dir + "/";
                bool ok = write_png_bgr(dir + "frame_" + name, out.data(), w, h, png_scratch);
                if (o.write_mask)
                    ok = ok && write_png_gray(dir + "mask_" + name, mask.data(), w, h);
                if (!ok) {
                    std::fprintf(stderr, "webcam: cannot write PNG files into '%s'\n",
                                 o.out_dir.c_str());
                    exit_code = 1;
                    break;
                }
                write_ms = ms_between(ready, Clock::now());
            }
        }

        last_e2e = ms_between(frame.captured, ready);
        last_model = model_ms;
        if (stats.frames() > 0) {
            const double interval = ms_between(last_ready, ready);
            const double inst = interval > 0 ? 1000.0 / interval : 0;
            fps_smoothed = fps_smoothed == 0 ? inst : 0.9 * fps_smoothed + 0.1 * inst;
        }
        last_ready = ready;
        stats.model_ms.push_back(model_ms);
        stats.end_to_end_ms.push_back(last_e2e);
        stats.write_ms.push_back(write_ms);
        stats.seconds = ms_between(first_capture, ready) / 1000.0;

        if (window) {
            const Window::Events ev = window->poll();
            if (ev.quit)
                break;
            if (ev.toggle_mask)
                show_mask = !show_mask;
            if (ev.toggle_effect)
                effect_on = !effect_on;
        }
        if (period_ms > 0) {
            const auto period = std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double, std::milli>(period_ms));
            next_due =
                next_due == Clock::time_point{} ? frame.captured + period : next_due + period;
            if (next_due < Clock::now()) // running late: do not try to catch up
                next_due = Clock::now();
            std::this_thread::sleep_until(next_due);
        }
    }

    if (stats.frames() == 0 && exit_code == 0) {
        std::fprintf(stderr, "webcam: %s gave no frames\n", capture->describe().c_str());
        exit_code = 3;
    }
    std::printf("webcam: %s\n", stats.line().c_str());
    if (!o.out_dir.empty()) {
        std::ofstream summary(o.out_dir + "/summary.json");
        summary << stats.json(capture->describe(), o.model, effect_name(o), frame.width,
                              frame.height, o.headless);
        if (!summary) {
            std::fprintf(stderr, "webcam: cannot write '%s/summary.json'\n", o.out_dir.c_str());
            return exit_code ? exit_code : 1;
        }
    }
    return exit_code;
}

} // namespace

int main(int argc, char** argv) {
    webcam::Options options;
    bool help = false;
    std::string error;
    if (!webcam::parse_options(argc, argv, options, help, error)) {
        std::fprintf(stderr, "webcam: %s\n\n%s", error.c_str(), webcam::usage_text);
        return 2;
    }
    if (help) {
        std::fputs(webcam::usage_text, stdout);
        return 0;
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    return run(options);
}
