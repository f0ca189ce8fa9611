#pragma once
/// Writes decoded batches into the PostgreSQL staging tables: one transaction per batch, so a
/// batch lands whole or not at all. New users are COPYed straight into staging.users; when a
/// batch holds users that already exist, it goes through COPY into a temporary table and an
/// upsert keyed by user_id that leaves unchanged rows untouched (no new row version, so no
/// CDC event for a re-run). Rejects and the batch record are written in the same transaction.
/// Not thread-safe: one BatchWriter (one connection) per worker.

#include <optional>
#include <string>

#include "base/result.h"
#include "io/pg.h"
#include "model/user.h"

namespace streamflow::ingest {

struct BatchInfo {
  std::string batch_id;
  std::string source;  ///< URL without query string, or file:<path>
  std::optional<std::string> seed;
  std::optional<std::int64_t> page;
  std::int64_t requested = 0;
  int retries = 0;
};

struct WriteCounts {
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t unchanged = 0;
  std::int64_t rejected = 0;
};

class BatchWriter {
 public:
  static base::Result<BatchWriter> open(const std::string& conninfo);

  /// Retries by itself on deadlock/serialisation failures; other errors come back.
  base::Result<WriteCounts> write(const BatchInfo& info, const model::Batch& batch);
  /// Records a batch that never landed (its source kept failing).
  base::Result<void> record_failure(const BatchInfo& info, const std::string& error);
  /// Takes the next request slot of an API host from the shared clock
  /// (staging.api_request_clock, see pacing.h); returns the seconds to wait for it.
  base::Result<double> reserve_request(const std::string& host, double interval_s);

 private:
  explicit BatchWriter(io::Connection conn) : conn_(std::move(conn)) {}
  base::Result<WriteCounts> write_once(const BatchInfo& info, const model::Batch& batch);
  /// load_users (filled by the caller) -> staging.users, ordered upsert skipping unchanged rows;
  /// returns (inserted, updated).
  base::Result<std::pair<std::int64_t, std::int64_t>> upsert();
  io::Connection conn_;
  std::string users_buf_;
  std::string rejects_buf_;
};

}  // namespace streamflow::ingest
