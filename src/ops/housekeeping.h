#pragma once
/// `streamflow housekeeping`: keeps the local pipeline's disk use bounded.
///  - purge: deletes staging rows older than the retention whose latest change Cassandra
///    already holds (its committed_at is at least the row's updated_at). The rows are stamped
///    with purged_at before the delete, so the Spark job does not delete them from Cassandra,
///    and their ids go to staging.purged_users, so reconcile still accounts for them.
///  - rejects: deletes rejected records (staging.user_rejects) older than the reject
///    retention: a reject says why a record was refused, which matters for a while, not forever.
///  - vacuum: VACUUM (ANALYZE) of the staging tables.
///  - prune: deletes files older than the log retention: Airflow's task and processor logs,
///    and Spark checkpoint metadata of batches older than the last 100 (the ones Spark itself
///    keeps to recover; never a file the running query may still read).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/settings.h"

namespace streamflow::ops {

struct HousekeepingOptions {
  bool purge = true;
  bool rejects = true;
  bool vacuum = true;
  bool prune = true;
  int staging_retention_h = 168;
  int reject_retention_days = 30;
  int log_retention_h = 336;
  bool dry_run = false;  ///< count what would go; change nothing
};

struct HousekeepingReport {
  std::int64_t purge_candidates = 0;  ///< staging rows older than the retention
  std::int64_t purged = 0;            ///< of them, deleted (confirmed in Cassandra)
  std::int64_t unconfirmed = 0;       ///< of them, kept: Cassandra lacks their latest change
  std::int64_t rejects_purged = 0;    ///< rejects older than their retention (dry run: would go)
  std::vector<std::string> vacuumed;  ///< tables
  std::int64_t pruned_files = 0;
  std::int64_t pruned_bytes = 0;
  std::vector<std::string> prune_errors;  ///< files that could not be deleted (and why)
  bool dry_run = false;
  std::string to_json() const;
  /// One line for people: what was purged, deleted, vacuumed and pruned.
  std::string to_text(const HousekeepingOptions& options) const;
};

/// Files under `root` last modified before `cutoff`, excluding directories.
std::vector<std::filesystem::path> files_older_than(const std::filesystem::path& root,
                                                    std::filesystem::file_time_type cutoff);

/// The Spark checkpoint metadata files (offsets/<n>, commits/<n> and their .crc) of batches
/// below (newest batch - keep), in one query's checkpoint directory.
std::vector<std::filesystem::path> stale_checkpoint_files(const std::filesystem::path& query_dir,
                                                          std::int64_t keep = 100);

/// Every step, with the retentions of the settings (housekeeping.*).
HousekeepingOptions housekeeping_options(const config::Settings& settings);

base::Result<HousekeepingReport> housekeeping(const config::Settings& settings,
                                              const HousekeepingOptions& options);

}  // namespace streamflow::ops
