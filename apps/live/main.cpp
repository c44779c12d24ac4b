// rill-live: models live on a JACK server. Input ports -> model -> output ports, switching
// models with a crossfade, showing latency, DSP load and xruns once a second.
//
// Threads: the main thread (this file: options, keyboard, display, switching), the loader thread
// (ModelLoader: reads files, builds runners, frees retired ones) and JACK's process thread
// (LiveProcessor: never allocates, locks, logs or touches files). The model's sample rate may
// differ from the server's: the engine resamples (audio/engine/resampler.hpp) and counts the
// resampling in the latency it reports.
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <unistd.h>

#include "engine/audio_engine.hpp"
#include "engine/model_loader.hpp"
#include "jack_host.hpp"
#include "live_processor.hpp"
#include "load_stats.hpp"
#include "model_switcher.hpp"
#include "options.hpp"
#include "status_line.hpp"
#include "terminal.hpp"

namespace rill::live {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// Prints event lines above the status line; on a terminal the status line is redrawn in place.
class Display {
public:
    explicit Display(bool redraw) : redraw_(redraw) {}
    void event(const std::string& line, FILE* stream = stdout) {
        clear();
        std::fprintf(stream, "%s\n", line.c_str());
        std::fflush(stream);
    }
    void status(const std::string& line) {
        clear();
        std::fprintf(stdout, redraw_ ? "%s" : "%s\n", line.c_str());
        std::fflush(stdout);
        shown_ = redraw_;
    }
    void clear() {
        if (shown_)
            std::fputs("\r\033[K", stdout);
        shown_ = false;
    }

private:
    bool redraw_, shown_ = false;
};

int run(const Options& options) {
    const bool interactive = !options.headless && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    Display display(interactive);
    install_signal_handlers();

    // Declared in this order so that the JACK client closes (no callback runs any more) before
    // the processor and engine go away.
    plugin::AudioEngine engine;
    LiveProcessor processor(engine, options.channels, options.count_allocations);
    std::unique_ptr<JackHost> host;
    std::unique_ptr<plugin::ModelLoader> loader;
    {
        SignalsBlocked blocked; // JACK's threads and the loader's inherit the mask
        host = std::make_unique<JackHost>(options.client_name, options.channels);
        plugin::HostConfig config;
        config.sample_rate = host->sample_rate();
        config.channels = options.channels;
        config.max_chunk = host->buffer_size();
        loader = std::make_unique<plugin::ModelLoader>(engine, nullptr, nullptr);
        plugin::Controls controls;
        controls.drive_params = false;
        loader->prepare(config, controls); // pass-through until the first model is in
        host->start(processor, engine);
    }
    const uint32_t rate = host->sample_rate(), period = host->buffer_size();
    display.event("rill-live: JACK client '" + host->name() + "', " + std::to_string(rate) +
                  " Hz, " + std::to_string(period) + "-frame periods (" +
                  std::to_string(1000.0 * period / rate).substr(0, 4) + " ms), " +
                  std::to_string(options.channels) + " channel(s)" +
                  (interactive ? "; keys: n = next model, q = quit" : ""));

    ModelSwitcher switcher(options.models, *loader, engine);
    switcher.next();
    Keyboard keyboard(interactive);
    LoadStats loads;   // the whole run
    LoadStats segment; // the model playing now
    std::string previous_label;
    const auto drain_loads = [&] {
        for (float load; processor.pop_load(load);) {
            loads.add(load);
            segment.add(load);
        }
    };
    const Clock::time_point started = Clock::now();
    Clock::time_point last_status = started, last_switch = started;
    bool connected = options.no_connect;
    int exit_code = 0;

    const auto figures = [&](const LoadSummary& load) {
        Figures f;
        f.seconds = since(started);
        f.playing = switcher.playing();
        f.device = host->device_latency();
        f.sample_rate = rate;
        f.load = load;
        f.xruns = host->xruns();
        f.overruns = processor.overruns();
        f.allocations = processor.allocations();
        f.callbacks = processor.callbacks();
        f.switches = switcher.switches();
        f.counting_allocations = processor.counting_allocations();
        return f;
    };

    while (!stop_requested()) {
        const int key = keyboard.poll(50);
        if (key == 'q' || key == 'Q')
            break;
        bool next = key == 'n' || key == 'N' || take_next_request();
        if (host->server_gone()) {
            display.event("rill-live: the JACK server went away", stderr);
            exit_code = 1;
            break;
        }
        if (options.seconds > 0 && since(started) >= options.seconds)
            break;

        const ModelSwitcher::Update update = switcher.poll(processor);
        for (const std::string& error : update.errors)
            display.event("rill-live: " + error, stderr);
        for (const Playing& p : update.started) {
            // Loads measured so far belong to the model that played until now (roughly: the
            // display thread drains them every 50 ms).
            drain_loads();
            if (!previous_label.empty())
                display.event(segment_line(previous_label, segment.take_window()));
            segment.take_window();
            previous_label = p.label;
            display.event(playing_line(p));
            last_switch = Clock::now();
            host->latency_changed();
        }
        // Connected once the first model plays: nobody hears the pass-through start.
        if (!connected && switcher.switches() > 0) {
            for (const std::string& failure :
                 host->connect(options.connect_in, options.connect_out))
                display.event("rill-live: " + failure, stderr);
            connected = true;
        }
        if (options.switch_every > 0 && since(last_switch) >= options.switch_every)
            next = true;
        if (next && options.models.size() > 1 && !switcher.next() && key >= 0)
            display.event("rill-live: still switching; try again in a moment");

        drain_loads();
        if (since(last_status) >= 1.0) {
            last_status = Clock::now();
            display.status(status_line(figures(loads.take_window())));
        }
    }
    drain_loads();
    const Figures final_figures = figures(loads.total());
    host->close();
    if (!previous_label.empty())
        display.event(segment_line(previous_label, segment.take_window()));
    display.event(summary_line(final_figures));
    return exit_code;
}

} // namespace
} // namespace rill::live

int main(int argc, char** argv) {
    using namespace rill::live;
    // Lines reach a pipe or a log file as they are printed.
    setvbuf(stdout, nullptr, _IOLBF, 0);
    try {
        const Options options = parse_options(argc, argv);
        if (options.help) {
            std::fputs(usage(), stdout);
            return 0;
        }
        return run(options);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "rill-live: %s\n%s", e.what(), usage());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rill-live: %s\n", e.what());
        return 1;
    }
}
