// The subcommands of `rill`. Each returns the process exit code; errors are thrown as
// std::runtime_error / rill::Error and printed by main.
#pragma once

#include <string>
#include <vector>

namespace rill::cli {

using Args = std::vector<std::string>;

int cmd_info(const Args& args);
int cmd_run(const Args& args);
int cmd_bench(const Args& args);

// Small helpers shared by the commands.
[[noreturn]] void usage_error(const std::string& message);
bool take_flag(Args& args, const std::string& flag);
bool take_option(Args& args, const std::string& name, std::string& value);
unsigned parse_unsigned(const std::string& text, const std::string& what, unsigned lo, unsigned hi);

} // namespace rill::cli
