// A progress bar on stderr when it is a terminal; silent in pipes and files.
#pragma once

#include <cstdio>

#include <unistd.h>

namespace rill::cli {

class Progress {
public:
    explicit Progress(const char* label) : label_(label), enabled_(isatty(STDERR_FILENO) == 1) {}
    void update(double fraction) {
        if (!enabled_)
            return;
        const int percent = static_cast<int>(fraction * 100);
        if (percent == last_)
            return;
        last_ = percent;
        const int filled = percent * 30 / 100;
        std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label_, filled,
                     "##############################", 30 - filled, "", percent);
        std::fflush(stderr);
    }
    ~Progress() {
        if (enabled_ && last_ >= 0)
            std::fprintf(stderr, "\n");
    }

private:
    const char* label_;
    bool enabled_;
    int last_ = -1;
};

} // namespace rill::cli
