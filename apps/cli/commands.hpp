// The subcommands of `rill`. Each returns the process exit code; errors are thrown and printed by
// main: UsageError (exit 2, with the command's usage line), anything else (exit 1).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace rill::cli {

using Args = std::vector<std::string>;

int cmd_info(const Args& args);
int cmd_run(const Args& args);
int cmd_bench(const Args& args);
int cmd_convert(const Args& args);
int cmd_generate(const Args& args);
int cmd_vad(const Args& args);

// A bad command line (as opposed to a bad file or a failing model).
struct UsageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Small helpers shared by the commands.
[[noreturn]] void usage_error(const std::string& message);
bool take_flag(Args& args, const std::string& flag);
bool take_option(Args& args, const std::string& name, std::string& value);
// After the options are taken: rejects any remaining "--x" and checks the positional count.
void expect_positional(const Args& args, size_t count, const std::string& names);
unsigned parse_unsigned(const std::string& text, const std::string& what, unsigned lo, unsigned hi);
double parse_positive(const std::string& text, const std::string& what);

} // namespace rill::cli
