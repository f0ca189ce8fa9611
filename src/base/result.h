#pragma once
/// Result<T>: the return type of every operation that can fail for an expected reason
/// (bad input, a service that is down, a timeout). Exceptions are kept for start-up mistakes
/// and truly fatal states; see STYLE.md.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace streamflow::base {

/// Error codes shared by all modules. Each code maps to a distinct process exit status
/// (see exit_code()) so that scripts and Airflow can tell failure kinds apart.
enum class Errc {
  invalid_argument = 1,  ///< the caller asked for something that cannot be done as asked
  not_found,             ///< a file, binary or record that should be there is not
  io_error,              ///< reading or writing a file or a socket failed
  timeout,               ///< a condition was not reached in the allotted time
  unavailable,           ///< a service is down or refused the request
  conflict,              ///< something else holds what we need (a port, a lock)
  failed_precondition,   ///< the machine is not set up for this (missing Java, jars, user)
  data_error,            ///< input that cannot be used at all (an unreadable saved response)
  internal,              ///< a bug or a state we did not expect
  cancelled,             ///< stopped on request (Ctrl-C / SIGTERM) before it was done
};

std::string_view to_string(Errc code);

/// The process exit status for an error code (2 is kept for usage errors by CLI11).
int exit_code(Errc code);

/// An expected failure: what went wrong, in words a data engineer can act on, plus where.
struct Error {
  Errc code = Errc::internal;
  std::string message;
  std::string context;  ///< e.g. "service=kafka port=9092"; may be empty

  /// "message (context)".
  std::string describe() const;
};

/// Either a value or an Error. Cheap to move; check with ok() or operator bool before value().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const Error& error() const { return std::get<Error>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Error> v_;
};

/// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

inline Error make_error(Errc code, std::string message, std::string context = {}) {
  return Error{code, std::move(message), std::move(context)};
}

}  // namespace streamflow::base
