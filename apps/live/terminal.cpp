#include "terminal.hpp"

#include <csignal>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

namespace rill::live {
namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_next = 0;

void on_stop(int) {
    g_stop = 1;
}
void on_next(int) {
    g_next = 1;
}

} // namespace

Keyboard::Keyboard(bool enable) {
    if (!enable || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0)
        return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

Keyboard::~Keyboard() {
    if (active_)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

int Keyboard::poll(int timeout_ms) {
    if (!active_) {
        ::poll(nullptr, 0, timeout_ms);
        return -1;
    }
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&fd, 1, timeout_ms) <= 0)
        return -1;
    unsigned char key = 0;
    return read(STDIN_FILENO, &key, 1) == 1 ? key : -1;
}

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    action.sa_handler = on_next;
    sigaction(SIGUSR1, &action, nullptr);
}

SignalsBlocked::SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &saved_);
}

SignalsBlocked::~SignalsBlocked() {
    pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

bool stop_requested() {
    return g_stop != 0;
}

bool take_next_request() {
    if (!g_next)
        return false;
    g_next = 0;
    return true;
}

} // namespace rill::live
