// A progress bar on stderr when stderr is a terminal; silent in pipes and files.
#pragma once

#include <cstdio>

#include <unistd.h>

namespace rill::cli {

class Progress {
public:
    explicit Progress(const char* label) : label_(label), enabled_(isatty(STDERR_FILENO) == 1) {}
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    ~Progress() { finish(); }

    void update(double fraction) {
        if (!enabled_)
            return;
        const int percent = static_cast<int>(fraction * 100);
        if (percent == last_)
            return;
        last_ = percent;
        const int filled = percent * kWidth / 100;
        std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label_, filled,
                     "########################################", kWidth - filled, "", percent);
        std::fflush(stderr);
    }
    // Ends the bar's line (once); later output starts on a fresh line.
    void finish() {
        if (enabled_ && last_ >= 0)
            std::fprintf(stderr, "\n");
        last_ = -1;
        enabled_ = false;
    }

private:
    static constexpr int kWidth = 40;
    const char* label_;
    bool enabled_;
    int last_ = -1;
};

} // namespace rill::cli
