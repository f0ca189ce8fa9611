#pragma once
/// Kafka Connect's watchdog, which the control room runs on its looks: the capture connector's
/// failed parts are restarted with back-off; and a task that says RUNNING but has moved nothing
/// for cdc.stall_timeout_s while staging.users changed (a call that never returns: the Avro
/// converter's registry client sets no timeout) is restarted too. A restarted task resumes from
/// its last committed transaction, and its successor's producer fences the stuck one's, so a
/// restart neither loses nor repeats a change. Pure: the control room feeds it looks and carries
/// out what it decides.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace streamflow::control {

/// One look at capture.
struct CaptureLook {
  std::int64_t at_ms = 0;
  /// The connector's state and its tasks' by id ("RUNNING", "FAILED", "PAUSED"...); an empty
  /// connector state when Connect did not answer or the connector is not registered.
  std::string connector;
  std::vector<std::string> tasks;
  /// Where capture is: the slot's confirmed_flush_lsn (bytes from 0/0) and the CDC topic's end
  /// offsets summed. Either moving is progress (a snapshot writes the topic before the slot
  /// moves).
  std::optional<std::int64_t> slot_confirmed_lsn;
  std::optional<std::int64_t> topic_end;
  /// Rows inserted, updated and deleted in the captured table since its statistics were reset
  /// (pg_stat_user_tables): whether there was anything to capture.
  std::optional<std::int64_t> table_changes;
};

struct WatchdogOptions {
  /// How long changes may wait with nothing moving before the task is restarted.
  std::int64_t stall_timeout_ms = 60000;
  /// PostgreSQL counts a backend's changes in its statistics up to a second after they commit: the
  /// count is taken as settled this long after capture last moved, and a change counted after
  /// that was made after capture moved, and should move it again. (Changes made within this
  /// time of a stall are noticed with the next change.)
  std::int64_t stats_settle_ms = 5000;
  /// How long a connector or task stays FAILED before its failed parts are restarted: long
  /// enough for `status`, the dashboard and `streamflow resync` to see the failure and its cause.
  std::int64_t failed_grace_ms = 30000;
  /// Wait after a restart before the next one; doubles up to `max_backoff_ms`, and starts over
  /// once capture moves again.
  std::int64_t first_backoff_ms = 30000;
  std::int64_t max_backoff_ms = 600000;
};

struct WatchdogAction {
  enum class Kind { restart_failed, restart_task };
  Kind kind = Kind::restart_failed;
  int task = 0;        ///< for restart_task
  std::string reason;  ///< one line for the audit log and serve's log
};

class CaptureWatchdog {
 public:
  explicit CaptureWatchdog(WatchdogOptions options = {});

  /// Takes a look; returns what to do now, if anything.
  std::optional<WatchdogAction> observe(const CaptureLook& look);

  /// Since when changes have waited with nothing moving while the connector and its tasks said
  /// RUNNING (restarts do not reset it; progress does); nullopt when they have not.
  std::optional<std::int64_t> stalled_since_ms() const {
    return running_ ? pending_since_ : std::nullopt;
  }
  /// Restarts decided so far.
  std::int64_t restarts() const { return restarts_; }

 private:
  bool may_act(std::int64_t at_ms) const { return at_ms >= next_action_ms_; }
  void acted(std::int64_t at_ms);

  WatchdogOptions options_;
  bool seen_ = false;
  bool running_ = false;
  std::optional<std::int64_t> last_lsn_;
  std::optional<std::int64_t> last_topic_end_;
  std::int64_t last_progress_ms_ = 0;
  /// The table's change count once it settled after the last progress.
  std::optional<std::int64_t> settled_changes_;
  std::optional<std::int64_t> pending_since_;
  std::optional<std::int64_t> failed_since_;
  /// When the stall clock started for the current task (a restart starts it again).
  std::int64_t stall_clock_ms_ = 0;
  std::int64_t next_action_ms_ = 0;
  std::int64_t backoff_ms_ = 0;
  std::int64_t restarts_ = 0;
};

}  // namespace streamflow::control
