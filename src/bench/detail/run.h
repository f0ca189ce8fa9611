#pragma once
/// What both bench modes (driver.cc: together; stages_apart.cc: the halves apart) share.
/// Internal to the bench module.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "bench/driver.h"
#include "ingest/ingester.h"

namespace streamflow::bench::detail {

std::int64_t epoch_ms();
/// "2026-12-03T17:00:00Z"
std::string utc_now();
/// The healthy services with their pids, or why the bench cannot run (one is not healthy).
base::Result<std::vector<std::pair<std::string, pid_t>>> healthy_services(
    const ServiceLister& services);
/// Ingest, continuous, paced at `opt.rate` or flat out, for `opt.seconds` (or until Ctrl-C
/// sets `stop`).
ingest::Outcome ingest_for(ingest::Options ingest_opt, const Options& opt,
                           const std::atomic<bool>& stop);
/// Writes the document to <out-dir>/<name>.json and says so.
base::Result<std::filesystem::path> write_result(const Options& opt, const nlohmann::json& doc,
                                                 std::ostream& progress);

}  // namespace streamflow::bench::detail
