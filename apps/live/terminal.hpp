// The keyboard and the signals rill-live listens to. Keyboard puts a terminal in
// non-canonical, no-echo mode for single keys and restores it when destroyed; without a terminal
// (or when disabled) it only waits. The signal handlers only set flags that the main loop reads.
#pragma once

#include <csignal>
#include <termios.h>

namespace rill::live {

class Keyboard {
public:
    explicit Keyboard(bool enable);
    ~Keyboard();
    Keyboard(const Keyboard&) = delete;
    Keyboard& operator=(const Keyboard&) = delete;

    bool active() const { return active_; }
    // Waits up to timeout_ms for a key; returns it, or -1.
    int poll(int timeout_ms);

private:
    bool active_ = false;
    termios saved_{};
};

// SIGINT and SIGTERM ask to stop, SIGUSR1 asks for the next model.
void install_signal_handlers();

// While one exists, this thread blocks those signals, and so do the threads it starts (JACK's,
// the loader's): they all go to the main thread, never interrupting the audio thread.
class SignalsBlocked {
public:
    SignalsBlocked();
    ~SignalsBlocked();
    SignalsBlocked(const SignalsBlocked&) = delete;
    SignalsBlocked& operator=(const SignalsBlocked&) = delete;

private:
    sigset_t saved_{};
};
bool stop_requested();
bool take_next_request();

} // namespace rill::live
