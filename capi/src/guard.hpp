// The exception firewall: every extern "C" entry point that may fail runs its body through
// guarded(), which maps exceptions to status codes and records the detail message (non-RT calls).
#pragma once

#include <string>

#include "rill/rill.h"

namespace rill::capi {

void set_detail(const std::string& message) noexcept;
void clear_detail() noexcept;
rill_status fail(rill_status status, const std::string& message) noexcept;

// Maps the in-flight exception (rill::CoreError, std::bad_alloc, anything) to a status + detail.
rill_status current_exception_status() noexcept;

template <typename Body> rill_status guarded(Body&& body) noexcept {
    try {
        clear_detail();
        return body();
    } catch (...) {
        return current_exception_status();
    }
}

} // namespace rill::capi
