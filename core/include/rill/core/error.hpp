// Errors inside the core: thrown at load/creation time only (never from process paths), mapped to
// rill_status codes by the C API's exception firewall.
#pragma once

#include <stdexcept>
#include <string>

namespace rill {

enum class ErrorKind { InvalidArgument, Io, Format, Unsupported, Internal };

class CoreError : public std::runtime_error {
public:
    CoreError(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

// Helpers that name what was wrong; messages should say which node/field and what was expected.
[[noreturn]] inline void fail_format(const std::string& message) {
    throw CoreError(ErrorKind::Format, message);
}
[[noreturn]] inline void fail_unsupported(const std::string& message) {
    throw CoreError(ErrorKind::Unsupported, message);
}
[[noreturn]] inline void fail_argument(const std::string& message) {
    throw CoreError(ErrorKind::InvalidArgument, message);
}

} // namespace rill
