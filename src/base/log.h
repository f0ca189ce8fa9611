#pragma once
/// One named spdlog logger per module, writing key=value diagnostics to stderr.
/// User-facing progress lines are printed to stdout by the commands themselves.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace streamflow::base {

/// The logger for a module ("stack", "ingest", ...), created on first use. Thread-safe.
/// The level comes from STREAMFLOW_LOG_LEVEL (trace|debug|info|warn|error|off), default warn.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

}  // namespace streamflow::base
