// `rill`: inspect, run and benchmark Rill models from the command line (over rill.hpp only).
#include <cstdio>
#include <cstring>
#include <exception>

#include "commands.hpp"
#include "rill/rill.hpp"

namespace rill::cli {

void usage_error(const std::string& message) { throw std::invalid_argument(message); }

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

unsigned parse_unsigned(const std::string& text, const std::string& what, unsigned lo, unsigned hi) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end || v < lo || v > hi)
        usage_error(what + " must be an integer in " + std::to_string(lo) + ".." +
                    std::to_string(hi) + ", got '" + text + "'");
    return static_cast<unsigned>(v);
}

} // namespace rill::cli

static const char* kUsage =
    "usage: rill COMMAND ...\n"
    "  rill info MODEL [--json]                     inputs, outputs, params, ops, latency, memory\n"
    "  rill run MODEL IN OUT [--block N] [--param NAME=VALUE]... [--keep-latency]\n"
    "                                               process an audio file (any libsndfile format)\n"
    "  rill bench MODEL [--block N] [--seconds S] [--json]\n"
    "                                               real-time factor, per-block times, allocations\n"
    "  rill --version\n";

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    rill::cli::Args args(argv + 2, argv + argc);
    try {
        if (command == "--version") {
            std::printf("rill %s\n", rill_version_string());
            return 0;
        }
        if (command == "info")
            return rill::cli::cmd_info(args);
        if (command == "run")
            return rill::cli::cmd_run(args);
        if (command == "bench")
            return rill::cli::cmd_bench(args);
        std::fprintf(stderr, "rill: unknown command '%s'\n%s", command.c_str(), kUsage);
        return 2;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "rill %s: %s\n%s", command.c_str(), e.what(), kUsage);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rill %s: %s\n", command.c_str(), e.what());
        return 1;
    }
}
