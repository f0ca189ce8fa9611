#pragma once
/// `streamflow resync`: gets the CDC connector past change events it cannot send, and sends the
/// rows they touched again, so that nothing is lost.
///
/// The case it exists for: a staging migration the schema registry refuses (a column's type
/// changed incompatibly). Connect's task fails on the first change event of the new shape and
/// stays failed: PostgreSQL keeps those events in that shape, so even after the change is
/// reverted the task meets them again on every restart. resync
///  1. stops the connector and waits until the streaming job has read the whole CDC topic
///     (Cassandra then holds everything that was sent);
///  2. in one transaction, holding writes to staging.users: moves the replication slot to the
///     current WAL position (the undeliverable events are skipped) and sends again what
///     Cassandra lacks: a staging row Cassandra does not hold is inserted again (stamped and
///     deleted first, as housekeeping's purge does, so that only the insert counts), and a row
///     whose version in Cassandra is older than its last change is updated to itself. A user
///     Cassandra holds and staging no longer has (deleted while the task was failed, not purged by
///     housekeeping) is deleted again: inserted stamped, unstamped, deleted, with the country
///     Cassandra has for it, so that its country's count drops too;
///  3. moves the connector's offset to the slot's position and starts it again, and says
///     whether its task now runs or is refused again (revert the change, then resync again).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "config/settings.h"

namespace streamflow::ops {

struct ResyncOptions {
  bool force = false;                                ///< even when the connector's task runs
  std::chrono::seconds catch_up_timeout{180};        ///< for the streaming job to read the topic
  std::chrono::seconds connector_timeout{60};        ///< for the connector to stop, then to run
  std::function<void(const std::string&)> progress;  ///< one line per step (may be empty)
};

struct ResyncReport {
  bool resynced = false;       ///< false: nothing to do (the connector was running)
  std::string skipped_to_lsn;  ///< the slot's new position ("0/2092E70")
  std::int64_t resent_inserts = 0;
  std::int64_t resent_updates = 0;
  std::int64_t resent_deletes = 0;
  std::string connector;  ///< its state afterwards ("RUNNING task0=RUNNING")
  std::string failure;    ///< why its task failed again, if it did

  bool ok() const { return failure.empty(); }
  std::string to_json() const;
};

/// The PATCH .../offsets body that moves a connector's offset to `lsn`: the partitions of the
/// connector's current offsets (GET .../offsets), else {"server": topic_prefix}, each with
/// Debezium PostgreSQL's offset fields set to `lsn`. invalid_argument for a body that is not
/// an offsets document.
base::Result<std::string> offsets_at(const std::string& current_offsets_json,
                                     const std::string& topic_prefix, std::int64_t lsn);

base::Result<ResyncReport> resync(const config::Settings& settings, const ResyncOptions& options);

}  // namespace streamflow::ops
