// Runs the JUCE message loop of a console test program for a while (JUCE_MODAL_LOOPS_PERMITTED
// is off, so MessageManager::runDispatchLoopUntil does not exist).
#pragma once

#include <juce_events/juce_events.h>

#include <chrono>
#include <thread>

namespace juce {
// JUCE's own (juce_linux_Messaging.cpp).
bool dispatchNextMessageOnSystemQueue(bool return_if_no_pending_messages);
} // namespace juce

namespace rill::plugin::test {

// Dispatches pending messages until done() or `rounds` rounds of 10 ms (a bound, not a timed
// check); returns done().
template <typename Done> bool pump_messages_until(Done done, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        while (juce::dispatchNextMessageOnSystemQueue(true)) {
        }
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

} // namespace rill::plugin::test
