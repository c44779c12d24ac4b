// Errors inside the core: thrown at load/creation time only (never from process paths), mapped to
// rill_status codes by the C API's exception firewall.
#pragma once

#include <stdexcept>
#include <string>

namespace rill {

enum class ErrorKind { InvalidArgument, Io, Format, Unsupported, Internal };

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

// Helpers that name what was wrong; messages should say which node/field and what was expected.
[[noreturn]] inline void fail_format(const std::string& message) {
    throw Error(ErrorKind::Format, message);
}
[[noreturn]] inline void fail_unsupported(const std::string& message) {
    throw Error(ErrorKind::Unsupported, message);
}
[[noreturn]] inline void fail_argument(const std::string& message) {
    throw Error(ErrorKind::InvalidArgument, message);
}

} // namespace rill
