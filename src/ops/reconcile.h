#pragma once
/// `streamflow reconcile`: proves that nothing was lost between PostgreSQL staging and
/// Cassandra. Compares the user ids of both in both directions, and judges each difference
/// against the freshness bound: a staging row younger than the bound may still be on its way
/// (in flight); an older one is missing, and so is a Cassandra row that staging never had (or
/// deleted long ago) unless housekeeping purged it from staging on purpose.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "config/settings.h"
#include "cql/cql.h"

namespace streamflow::ops {

/// A staging row as reconcile sees it.
struct StagingRow {
  std::string user_id;
  std::int64_t updated_at_ms = 0;  ///< last change (epoch ms)
};

struct Snapshot {
  std::vector<StagingRow> staging;
  std::vector<std::string> cassandra_ids;
  std::unordered_set<std::string> purged_ids;  ///< staging.purged_users
  std::int64_t now_ms = 0;                     ///< PostgreSQL's clock when staging was read
};

struct Report {
  std::int64_t staging_users = 0;
  std::int64_t cassandra_users = 0;
  std::int64_t purged_users = 0;            ///< in Cassandra, purged from staging by housekeeping
  std::int64_t in_flight = 0;               ///< in staging, not yet in Cassandra, within the bound
  std::int64_t missing = 0;                 ///< in staging, not in Cassandra, past the bound
  std::int64_t unexpected = 0;              ///< in Cassandra, neither in staging nor purged
  std::vector<std::string> missing_ids;     ///< the first `max_listed`, oldest first
  std::vector<std::string> unexpected_ids;  ///< the first `max_listed`, sorted
  double lag_s = 0;                         ///< age of the oldest staging row not in Cassandra
  int freshness_s = 0;
  // Context, filled by reconcile() (not by compare()).
  std::int64_t rejects = 0;                  ///< staging.user_rejects rows
  std::int64_t failed_batches = 0;           ///< staging.ingest_batches with status 'failed'
  std::optional<std::int64_t> dead_letters;  ///< messages on the dead-letter topic, if reachable

  bool ok() const { return missing == 0 && unexpected == 0; }
  std::string to_json() const;
  /// A few human lines (what is wrong and what to do).
  std::string to_text() const;
};

/// The comparison itself: pure, so that it is unit-tested without a stack.
Report compare(const Snapshot& snapshot, int freshness_s, std::size_t max_listed = 20);

/// A CQL session with the stack's Cassandra (every node of the topology's ring).
base::Result<cql::Session> cassandra_session(const config::Settings& settings);

/// Every user in Cassandra `users` with the PostgreSQL commit time of the version it holds, as
/// COPY text rows "user_id<TAB>committed_at" (for a temp table in staging's database).
base::Result<std::string> cassandra_versions(const config::Settings& settings);

/// Reads Cassandra's ids first, then staging (so that a user landing during the run shows as
/// in flight, never as unexpected), compares, and adds reject and dead-letter counts.
base::Result<Report> reconcile(const config::Settings& settings, int freshness_s);

}  // namespace streamflow::ops
