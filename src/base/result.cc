#include "base/result.h"

namespace streamflow::base {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::not_found:
      return "not_found";
    case Errc::io_error:
      return "io_error";
    case Errc::timeout:
      return "timeout";
    case Errc::unavailable:
      return "unavailable";
    case Errc::conflict:
      return "conflict";
    case Errc::failed_precondition:
      return "failed_precondition";
    case Errc::data_error:
      return "data_error";
    case Errc::internal:
      return "internal";
    case Errc::cancelled:
      return "cancelled";
  }
  return "unknown";
}

int exit_code(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return 64;  // EX_USAGE-like: bad arguments or config
    case Errc::not_found:
      return 66;  // EX_NOINPUT
    case Errc::io_error:
      return 74;  // EX_IOERR
    case Errc::timeout:
      return 75;  // EX_TEMPFAIL: try again
    case Errc::unavailable:
      return 69;  // EX_UNAVAILABLE
    case Errc::conflict:
      return 73;  // EX_CANTCREAT: something holds the resource
    case Errc::failed_precondition:
      return 78;  // EX_CONFIG: machine not set up
    case Errc::data_error:
      return 65;  // EX_DATAERR: input that cannot be used
    case Errc::internal:
      return 70;  // EX_SOFTWARE
    case Errc::cancelled:
      return 130;  // as a shell reports a command ended by Ctrl-C
  }
  return 70;
}

std::string Error::describe() const {
  if (context.empty()) return message;
  return message + " (" + context + ")";
}

}  // namespace streamflow::base
