#include "guard.hpp"

#include <new>

#include "rill/core/error.hpp"

namespace rill::capi {
namespace {
thread_local std::string t_detail;
}

void set_detail(const std::string& message) noexcept {
    try {
        t_detail = message;
    } catch (...) {
        t_detail.clear();
    }
}

void clear_detail() noexcept { t_detail.clear(); }

rill_status fail(rill_status status, const std::string& message) noexcept {
    set_detail(message);
    return status;
}

rill_status current_exception_status() noexcept {
    try {
        throw;
    } catch (const CoreError& e) {
        switch (e.kind()) {
        case ErrorKind::InvalidArgument: return fail(RILL_ERR_INVALID_ARGUMENT, e.what());
        case ErrorKind::Io: return fail(RILL_ERR_IO, e.what());
        case ErrorKind::Format: return fail(RILL_ERR_FORMAT, e.what());
        case ErrorKind::Unsupported: return fail(RILL_ERR_UNSUPPORTED, e.what());
        case ErrorKind::Internal: return fail(RILL_ERR_INTERNAL, e.what());
        }
        return fail(RILL_ERR_INTERNAL, e.what());
    } catch (const std::bad_alloc&) {
        return fail(RILL_ERR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return fail(RILL_ERR_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(RILL_ERR_INTERNAL, "internal error: unknown exception");
    }
}

} // namespace rill::capi

extern "C" {

const char* rill_last_error_detail(void) { return rill::capi::t_detail.c_str(); }

}
