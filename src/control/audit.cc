#include "control/audit.h"

#include <deque>
#include <fstream>

namespace streamflow::control {

nlohmann::json to_json(const AuditEntry& e) {
  return {{"at", e.at_ms},      {"action", e.action}, {"target", e.target}, {"outcome", e.outcome},
          {"status", e.status}, {"client", e.client}, {"detail", e.detail}};
}

AuditLog::AuditLog(std::filesystem::path file) : file_(std::move(file)) {}

base::Result<void> AuditLog::record(const AuditEntry& entry) {
  std::lock_guard lock(mu_);
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  // One older file is kept beside it: the log stays bounded whoever posts to it.
  if (std::filesystem::file_size(file_, ec) > kRotateBytes && !ec)
    std::filesystem::rename(file_, file_.string() + ".1", ec);
  std::ofstream out(file_, std::ios::app);
  out << to_json(entry).dump() << '\n';
  out.flush();
  if (!out)
    return base::make_error(base::Errc::io_error,
                            "cannot append to the audit log " + file_.string());
  return {};
}

nlohmann::json AuditLog::recent(std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::deque<std::string> last;
  std::ifstream in(file_);
  for (std::string line; std::getline(in, line);) {
    last.push_back(std::move(line));
    if (last.size() > limit) last.pop_front();
  }
  nlohmann::json entries = nlohmann::json::array();
  for (auto it = last.rbegin(); it != last.rend(); ++it) {
    auto j = nlohmann::json::parse(*it, nullptr, false);
    if (j.is_object()) entries.push_back(std::move(j));
  }
  return entries;
}

}  // namespace streamflow::control
