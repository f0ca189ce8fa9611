#pragma once
/// The control room's audit log: one JSON line per action asked for (restart a task, pause or
/// resume a connector), refused ones included, appended to a file that outlives serve. The
/// token itself is never written. Thread-safe.

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace streamflow::control {

struct AuditEntry {
  std::int64_t at_ms = 0;
  std::string action;   ///< restart_task, pause, resume
  std::string target;   ///< "<connector>" or "<connector>/<task>"
  std::string outcome;  ///< done, refused (no or wrong token), failed (the engine said no)
  int status = 0;       ///< the HTTP status given to the caller
  std::string client;   ///< the caller's address
  std::string detail;   ///< what the engine answered, or why it was refused
};

nlohmann::json to_json(const AuditEntry& e);

class AuditLog {
 public:
  /// Past this size the log becomes <file>.1 (replacing an older one) and a new one starts.
  static constexpr std::uintmax_t kRotateBytes = 10u << 20;
  explicit AuditLog(std::filesystem::path file);
  /// Appends one line and flushes it; io_error when the file cannot be written.
  base::Result<void> record(const AuditEntry& entry);
  /// The last `limit` entries, newest first (lines that are not JSON are skipped).
  nlohmann::json recent(std::size_t limit) const;
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  mutable std::mutex mu_;
};

}  // namespace streamflow::control
