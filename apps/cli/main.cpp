// `rill`: inspect, run, benchmark, convert and generate with Rill models from the command line
// (over rill.hpp; `convert` also uses the core's importers).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "commands.hpp"
#include "rill/rill.hpp"

namespace rill::cli {

void usage_error(const std::string& message) { throw UsageError(message); }

bool take_flag(Args& args, const std::string& flag) {
    for (auto it = args.begin(); it != args.end(); ++it)
        if (*it == flag) {
            args.erase(it);
            return true;
        }
    return false;
}

bool take_option(Args& args, const std::string& name, std::string& value) {
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (*it == name) {
            if (it + 1 == args.end())
                usage_error(name + " needs a value");
            value = *(it + 1);
            args.erase(it, it + 2);
            return true;
        }
        if (it->rfind(name + "=", 0) == 0) {
            value = it->substr(name.size() + 1);
            args.erase(it);
            return true;
        }
    }
    return false;
}

void expect_positional(const Args& args, size_t count, const std::string& names) {
    for (const std::string& a : args)
        if (a.size() > 1 && a[0] == '-' && a != "-")
            usage_error("unknown option '" + a + "'");
    if (args.size() != count)
        usage_error("expected " + names + ", got " + std::to_string(args.size()) + " argument(s)");
}

unsigned parse_unsigned(const std::string& text, const std::string& what, unsigned lo, unsigned hi) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || *end || v < lo || v > hi)
        usage_error(what + " must be an integer in " + std::to_string(lo) + ".." +
                    std::to_string(hi) + ", got '" + text + "'");
    return static_cast<unsigned>(v);
}

double parse_positive(const std::string& text, const std::string& what) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !std::isfinite(v) || v <= 0)
        usage_error(what + " must be a positive number, got '" + text + "'");
    return v;
}

} // namespace rill::cli

namespace {

struct Command {
    const char* name;
    int (*run)(const rill::cli::Args&);
    const char* usage;
    const char* summary;
};

const Command kCommands[] = {
    {"info", rill::cli::cmd_info, "rill info MODEL [--json] [import options]",
     "inputs, outputs, params, ops, latency, memory per stream"},
    {"run", rill::cli::cmd_run,
     "rill run MODEL IN OUT [--block N] [--param NAME=VALUE]... [--keep-latency] [import options]",
     "process an audio file (any format libsndfile reads), output aligned with the input"},
    {"bench", rill::cli::cmd_bench, "rill bench MODEL [--block N] [--seconds S] [--json] [import options]",
     "real-time factor, per-block time p50/p99/max, allocations, memory"},
    {"convert", rill::cli::cmd_convert, "rill convert IN OUT.rill [import options]",
     "import a model of another format (ONNX, rwkv.cpp) and write it as .rill; import options:\n"
     "      --sample-rate HZ --frontend stft|window --n-fft N --hop N --window-size N\n"
     "      --window NAME --pad-mode reflect|constant --bind IN=V[,V] --dim NAME=N\n"
     "      --shape IN=A,B.. --state IN=OUT --stream-axis 2 --import-options JSON (docs/onnx.md)"},
    {"vad", rill::cli::cmd_vad,
     "rill vad MODEL IN [--threshold T] [--csv OUT] [--block N] [--import-options JSON]",
     "speech segments and per-window probabilities of a voice activity model (Silero VAD)"},
    {"generate", rill::cli::cmd_generate,
     "rill generate MODEL --prompt TEXT [--tokens N] [--temperature T] [--seed S]",
     "continue a text with a token model (e.g. an imported RWKV), token by token"},
};

void print_usage(std::FILE* to) {
    std::fprintf(to, "usage: rill COMMAND ...\n");
    for (const Command& c : kCommands)
        std::fprintf(to, "  %s\n      %s\n", c.usage, c.summary);
    std::fprintf(to, "  rill --version\n");
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const std::string command = argv[1];
    if (command == "-h" || command == "--help" || command == "help") {
        print_usage(stdout);
        return 0;
    }
    if (command == "--version") {
        std::printf("rill %s\n", rill_version_string());
        return 0;
    }
    for (const Command& c : kCommands) {
        if (command != c.name)
            continue;
        rill::cli::Args args(argv + 2, argv + argc);
        if (rill::cli::take_flag(args, "--help") || rill::cli::take_flag(args, "-h")) {
            std::printf("usage: %s\n  %s\n", c.usage, c.summary);
            return 0;
        }
        try {
            return c.run(args);
        } catch (const rill::cli::UsageError& e) {
            std::fprintf(stderr, "rill %s: %s\nusage: %s\n", c.name, e.what(), c.usage);
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "rill %s: %s\n", c.name, e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "rill: unknown command '%s'\n", command.c_str());
    print_usage(stderr);
    return 2;
}
