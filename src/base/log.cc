#include "base/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace streamflow::base {

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto existing = spdlog::get(module)) return existing;
  auto log = spdlog::stderr_color_mt(module);
  const char* level = std::getenv("STREAMFLOW_LOG_LEVEL");
  log->set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n %v");
  return log;
}

}  // namespace streamflow::base
