#pragma once
/// What each stage of the pipeline has handled, asked of the real services (staging row count,
/// CDC topic end offsets, the Spark job's progress file, Cassandra's analytics): read by
/// `serve` (health), `bench` (its samples) and `watch` (one block of lines every few seconds,
/// so a data engineer sees records move through every stage).

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "deploy/layout.h"

namespace streamflow::observe {

using deploy::Layout;

/// What each stage has handled so far; nullopt where the stage did not answer.
struct PipelineCounts {
  std::optional<std::int64_t> staging_users;
  std::optional<std::int64_t> staging_rejects;
  std::optional<std::int64_t> failed_batches;  ///< ingest batches that never landed
  /// Sum of the CDC topic's end offsets: change events and tombstones, and the commit marker
  /// each Connect transaction leaves on each partition it wrote (672 over 1.6 million changes
  /// in a benchmark; relatively more when changes trickle in).
  std::optional<std::int64_t> cdc_events;
  std::optional<std::int64_t> dead_letters;  ///< sum of the dead-letter topic's end offsets
  std::optional<std::int64_t> spark_upserted;
  std::optional<std::int64_t> spark_deleted;
  std::optional<std::int64_t> spark_batch_ms;
  std::optional<std::int64_t> spark_consumed;         ///< CDC offsets the users query has read
  std::optional<std::int64_t> spark_last_commit_ms;   ///< newest change written: its commit
  std::optional<std::int64_t> spark_last_written_ms;  ///< ...and when it was written
  std::optional<std::int64_t> cassandra_users;        ///< current users per the analytics table
};

/// Asks every stage for its counts, keeping its PostgreSQL connection and CQL session between
/// reads (reopened after a failure). Not thread-safe.
class PipelineReader {
 public:
  PipelineReader(const Layout& layout, std::string pg_conninfo);
  ~PipelineReader();
  PipelineReader(const PipelineReader&) = delete;
  PipelineReader& operator=(const PipelineReader&) = delete;

  /// Never throws; a stage that is down is left empty.
  PipelineCounts read();

 private:
  struct Handles;
  const Layout& layout_;
  std::string pg_conninfo_;
  std::unique_ptr<Handles> handles_;
};

/// 1234567 as "1,234,567"; an unanswered count as "?".
std::string thousands(std::int64_t v);
std::string count(const std::optional<std::int64_t>& v);

/// The lines for one tick: `now` against `before` (rates over `seconds`).
std::string format_pipeline_counts(const PipelineCounts& now,
                                   const std::optional<PipelineCounts>& before, double seconds);

/// Prints a block every `interval_s` until `stop` is set or `ticks` blocks (0: no limit).
void watch_pipeline(const Layout& layout, const std::string& pg_conninfo, double interval_s,
                    int ticks, const std::atomic<bool>& stop, std::ostream& out);

}  // namespace streamflow::observe
