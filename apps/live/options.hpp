// rill-live's command line.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace rill::live {

struct Options {
    std::vector<std::string> models;
    double switch_every = 0; // seconds; 0 = only on 'n' (or SIGUSR1)
    double seconds = 0;      // run time; 0 = until 'q', SIGINT or SIGTERM
    std::string client_name = "rill-live";
    std::vector<std::string> connect_in, connect_out;
    uint32_t channels = 1;
    bool no_connect = false;
    bool headless = false;
    bool count_allocations = false;
    bool help = false;
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws UsageError naming the option and what was expected.
Options parse_options(int argc, const char* const* argv);
const char* usage();

} // namespace rill::live
