#include "options.hpp"

#include <cmath>
#include <cstdlib>

namespace rill::live {
namespace {

double parse_seconds(const std::string& option, const std::string& text) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !std::isfinite(v) || v < 0)
        throw UsageError(option + " expects a number of seconds >= 0, got '" + text + "'");
    return v;
}

} // namespace

const char* usage() {
    return "usage: rill-live --model M.rill [--model M2.rill ...] [options]\n"
           "Runs the models live on a JACK server: input ports -> model -> output ports.\n"
           "  --model PATH        a model to play (repeat: 'n' or --switch-every goes to the "
           "next)\n"
           "  --switch-every S    switch to the next model every S seconds\n"
           "  --seconds S         quit after S seconds (default: run until 'q' or Ctrl-C)\n"
           "  --client-name NAME  the JACK client name (default rill-live)\n"
           "  --channels N        1 or 2 input and output ports (default 1)\n"
           "  --connect-in PORT   connect PORT to our input (repeat; default: physical capture)\n"
           "  --connect-out PORT  connect our output to PORT (repeat; default: physical playback)\n"
           "  --no-connect        connect nothing (use jack_connect or a patchbay)\n"
           "  --headless          no keyboard, one status line a second (also without a terminal)\n"
           "  --count-allocations count heap allocations on the audio thread (there must be none)\n"
           "Keys (on a terminal): n = next model, q = quit. SIGUSR1 = next model.\n";
}

Options parse_options(int argc, const char* const* argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw UsageError(a + " needs a value");
            return argv[++i];
        };
        if (a == "--model")
            o.models.push_back(value());
        else if (a == "--switch-every")
            o.switch_every = parse_seconds(a, value());
        else if (a == "--seconds")
            o.seconds = parse_seconds(a, value());
        else if (a == "--client-name")
            o.client_name = value();
        else if (a == "--connect-in")
            o.connect_in.push_back(value());
        else if (a == "--connect-out")
            o.connect_out.push_back(value());
        else if (a == "--channels") {
            const std::string v = value();
            if (v != "1" && v != "2")
                throw UsageError("--channels expects 1 or 2, got '" + v + "'");
            o.channels = v == "1" ? 1 : 2;
        } else if (a == "--no-connect")
            o.no_connect = true;
        else if (a == "--headless")
            o.headless = true;
        else if (a == "--count-allocations")
            o.count_allocations = true;
        else if (a == "-h" || a == "--help")
            o.help = true;
        else
            throw UsageError("unknown argument '" + a + "'");
    }
    if (!o.help && o.models.empty())
        throw UsageError("give at least one --model");
    if (o.client_name.empty())
        throw UsageError("--client-name must not be empty");
    return o;
}

} // namespace rill::live
