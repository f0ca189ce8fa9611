#pragma once
/// Pipeline health for `streamflow serve`: every stage's rate, total, lag and errors, the
/// state of each service, the connector and the replication slot, and end-to-end freshness.
/// `evaluate` (pure) turns two consecutive readings into a snapshot; `HealthMonitor` takes the
/// readings from the real services on its own thread and keeps the latest snapshot.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deploy/layout.h"
#include "observe/pipeline.h"

namespace streamflow::serve {

struct ServiceReading {
  std::string name;
  bool healthy = false;
  std::string detail;
  /// Service-specific facts of a healthy service, as `status` shows them (for Kafka Connect:
  /// "connector", "failure", "slot", "slot_retained_wal_bytes").
  std::vector<std::pair<std::string, std::string>> facts = {};
};

/// Asks every service of the deployment whether it is healthy: the stack's own probes, handed
/// in by the caller (`streamflow serve` wires them), so that serve does not depend on how the
/// services are run. Called from the monitor's thread.
using ServiceProber = std::function<std::vector<ServiceReading>()>;

/// One look at the services, taken at `at_ms`.
struct Readings {
  std::int64_t at_ms = 0;
  std::vector<ServiceReading> services;
  observe::PipelineCounts counts;
  std::string connector;          ///< "RUNNING task0=RUNNING"; "" when unknown or not registered
  std::string connector_failure;  ///< why its failed part failed (the root cause), or ""
  std::optional<bool> slot_active;
  std::optional<std::int64_t> slot_retained_wal_bytes;
  bool spark_enabled = true;
  /// How long changes to staging.users have waited with capture moving nothing (the control
  /// room's watchdog); nullopt when not watched.
  std::optional<double> capture_stalled_s;
};

enum class StageState { ok, behind, down };
std::string_view to_string(StageState s);

struct Stage {
  std::string name;  ///< ingest, cdc, spark, cassandra
  StageState state = StageState::down;
  std::optional<std::int64_t> total;
  std::optional<double> rate_per_s;
  std::optional<std::int64_t> lag;  ///< in `lag_unit`
  std::string lag_unit;
  std::optional<std::int64_t> errors;
  std::string detail;  ///< why it is down or behind, else a short fact
};

/// Thresholds for "behind".
struct HealthLimits {
  std::int64_t spark_lag_messages = 20000;
  std::int64_t slot_retained_wal_bytes = 256ll << 20;
  double freshness_s = 30;
  double capture_stalled_s = 10;
};

struct HealthSnapshot {
  std::int64_t at_ms = 0;
  std::vector<Stage> stages;
  std::vector<ServiceReading> services;
  std::optional<double> freshness_s;  ///< newest change written: written - committed
  std::optional<std::int64_t> dead_letters;
  std::optional<std::int64_t> rejects;
  std::optional<std::int64_t> failed_batches;
  std::string connector;
  std::string connector_failure;
  std::optional<bool> slot_active;
  std::optional<std::int64_t> slot_retained_wal_bytes;
  nlohmann::json to_json() const;
  const Stage* stage(std::string_view name) const;
};

HealthSnapshot evaluate(const Readings& now, const std::optional<Readings>& before,
                        const HealthLimits& limits = {});

/// The services' part of a reading: each one's state, and from Kafka Connect's facts the
/// connector's state and the replication slot's.
void read_services(Readings& readings, const std::vector<ServiceReading>& services);

/// Samples the services every `interval_ms` on a thread of its own. Thread-safe.
class HealthMonitor {
 public:
  HealthMonitor(deploy::Layout layout, std::string pg_conninfo, ServiceProber prober,
                int interval_ms);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  /// Where the readings' capture_stalled_s come from (the control room's watchdog); set before
  /// start().
  void set_capture_stall(std::function<std::optional<double>()> source) {
    capture_stall_ = std::move(source);
  }
  void start();
  void stop();
  /// The latest snapshot and its sequence number (0 before the first).
  std::pair<HealthSnapshot, std::uint64_t> latest() const;
  /// Blocks until a snapshot newer than `seen` exists, `timeout_ms` passes or stop().
  std::uint64_t wait_newer(std::uint64_t seen, int timeout_ms) const;
  bool stopped() const { return stop_; }

 private:
  Readings read_all(observe::PipelineReader& reader);
  void run();

  deploy::Layout layout_;
  std::string pg_conninfo_;
  ServiceProber prober_;
  std::function<std::optional<double>()> capture_stall_;
  int interval_ms_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  HealthSnapshot latest_;
  std::uint64_t seq_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace streamflow::serve
