#include "import_options.hpp"

#include <nlohmann/json.hpp>

namespace rill::cli {
namespace {

std::pair<std::string, std::string> split_pair(const std::string& s, const std::string& flag) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
        usage_error(flag + " expects NAME=VALUE, got '" + s + "'");
    return {s.substr(0, eq), s.substr(eq + 1)};
}

std::vector<double> numbers(const std::string& s, const std::string& flag) {
    std::vector<double> r;
    size_t pos = 0;
    while (pos <= s.size()) {
        const auto comma = s.find(',', pos);
        const std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || *end)
            usage_error(flag + ": '" + item + "' is not a number");
        r.push_back(v);
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    return r;
}

} // namespace

std::string take_import_options(Args& args) {
    nlohmann::json o = nlohmann::json::object();
    std::string v;
    if (take_option(args, "--import-options", v)) {
        try {
            o = nlohmann::json::parse(v);
        } catch (const nlohmann::json::exception&) {
            usage_error("--import-options: not valid JSON: " + v);
        }
        if (!o.is_object())
            usage_error("--import-options must be a JSON object");
    }
    if (take_option(args, "--stream-axis", v)) {
        if (v != "2" && v != "-1")
            usage_error("--stream-axis: the time axis must be the last axis of [N, C, T] (2 or -1)");
        o["frontend"] = "time_axis";
    }
    if (take_option(args, "--sample-rate", v))
        o["sample_rate"] = parse_positive(v, "--sample-rate");
    for (const auto& [flag, key] : {std::pair<const char*, const char*>{"--frontend", "frontend"},
                                    {"--window", "window"}, {"--pad-mode", "pad_mode"}})
        if (take_option(args, flag, v))
            o[key] = v;
    for (const auto& [flag, key] : {std::pair<const char*, const char*>{"--n-fft", "n_fft"},
                                    {"--hop", "hop"}, {"--window-size", "window_size"}})
        if (take_option(args, flag, v))
            o[key] = parse_unsigned(v, flag, 1, 1u << 20);
    while (take_option(args, "--bind", v)) {
        const auto [name, value] = split_pair(v, "--bind");
        o["bind"][name] = numbers(value, "--bind");
    }
    while (take_option(args, "--dim", v)) {
        const auto [name, value] = split_pair(v, "--dim");
        o["dims"][name] = parse_unsigned(value, "--dim", 1, 1u << 30);
    }
    while (take_option(args, "--shape", v)) {
        const auto [name, value] = split_pair(v, "--shape");
        std::vector<int64_t> dims;
        for (double d : numbers(value, "--shape"))
            dims.push_back(static_cast<int64_t>(d));
        o["shapes"][name] = dims;
    }
    while (take_option(args, "--state", v)) {
        const auto [in, out] = split_pair(v, "--state");
        o["state"][in] = out;
    }
    return o.empty() ? "" : o.dump();
}

Model load_model(const std::string& path, const std::string& import_options) {
    rill_load_options opts;
    rill_load_options_init(&opts);
    opts.import_options = import_options.empty() ? nullptr : import_options.c_str();
    return Model::load(path, &opts);
}

} // namespace rill::cli
