#include "stats.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace webcam {
namespace {

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (static_cast<unsigned char>(c) >= 0x20)
            out += c;
    }
    return out + "\"";
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

double mean(const std::vector<double>& v) {
    return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}

std::string timing(const std::vector<double>& v) {
    return "{\"p50\": " + number(percentile(v, 0.5)) + ", \"p99\": " + number(percentile(v, 0.99)) +
           ", \"mean\": " + number(mean(v)) +
           ", \"max\": " + number(v.empty() ? 0 : *std::max_element(v.begin(), v.end())) + "}";
}

} // namespace

double percentile(std::vector<double> values, double q) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const double pos = q * (values.size() - 1);
    const size_t i = static_cast<size_t>(pos);
    const double f = pos - i;
    return i + 1 < values.size() ? values[i] * (1 - f) + values[i + 1] * f : values[i];
}

std::string RunStats::json(const std::string& source, const std::string& model,
                           const std::string& effect, int width, int height, bool headless) const {
    std::string j = "{\n";
    j += "  \"frames\": " + std::to_string(frames()) + ",\n";
    j += "  \"seconds\": " + number(seconds) + ",\n";
    j += "  \"fps\": " + number(fps()) + ",\n";
    j += "  \"source\": " + quote(source) + ",\n";
    j += "  \"model\": " + quote(model) + ",\n";
    j += "  \"effect\": " + quote(effect) + ",\n";
    j += "  \"width\": " + std::to_string(width) + ",\n";
    j += "  \"height\": " + std::to_string(height) + ",\n";
    j += "  \"model_ms\": " + timing(model_ms) + ",\n";
    j += "  \"end_to_end_ms\": " + timing(end_to_end_ms) + ",\n";
    j += std::string("  \"end_to_end_is\": ") +
         (headless ? "\"capture to composited frame ready (PNG writing excluded)\""
                   : "\"capture to frame presented in the window\"") +
         ",\n";
    j += "  \"write_ms\": " + timing(write_ms) + "\n";
    return j + "}\n";
}

std::string RunStats::line() const {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%zu frames, %.1f fps, model %.2f ms p50 / %.2f ms p99, end-to-end %.2f ms p50 "
                  "/ %.2f ms p99",
                  frames(), fps(), percentile(model_ms, 0.5), percentile(model_ms, 0.99),
                  percentile(end_to_end_ms, 0.5), percentile(end_to_end_ms, 0.99));
    return buf;
}

} // namespace webcam
