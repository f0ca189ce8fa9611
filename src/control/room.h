#pragma once
/// The control room behind serve's second page: what a Confluent Control Center user reaches for
/// daily (brokers, topics, a message browser, consumers and their lag, connectors and their
/// tasks with actions, schemas, Spark, Cassandra's nodes, PostgreSQL's slots and connections,
/// alerts), each read from the engine's own interface when asked (Kafka's protocol through
/// librdkafka, Connect's and the registry's REST APIs, Spark's REST API and the job's progress,
/// CQL system tables, PostgreSQL's catalogs). It keeps no copy of their state: only its own
/// looks at Kafka every control.sample_ms (for messages per second, lag over time and the
/// alerts), 180 of them. Thread-safe: handlers call it from many threads.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "base/result.h"
#include "control/alerts.h"
#include "control/audit.h"
#include "control/kafka_view.h"
#include "control/watchdog.h"
#include "deploy/layout.h"

namespace streamflow::cql {
class Session;
}
namespace streamflow::io {
class Connection;
}

namespace streamflow::control {

/// What serve's health monitor already knows, handed in so the control room does not ask the
/// services twice: each service node's probe, and the pipeline's figures the alerts need.
struct PipelineFacts {
  std::vector<std::pair<std::string, bool>> services;  ///< node name, probe passed
  std::optional<double> freshness_s;
  std::optional<std::int64_t> dead_letters;
  std::optional<std::int64_t> slot_retained_wal_bytes;
};
using FactsSource = std::function<PipelineFacts()>;

struct ControlOptions {
  std::string pg_conninfo;
  int sample_ms = 2000;
  int message_limit = 100;
  AlertThresholds thresholds;
  std::filesystem::path audit_file;
  std::string dlq_topic;
  /// Whether the watchdog's restarts are carried out (cdc.watchdog). Its stall is watched, and
  /// alerts, whenever the stack captures changes.
  bool watchdog = false;
  WatchdogOptions watchdog_options;
};

/// An action's answer to the caller: the HTTP status and a JSON body.
struct ActionResult {
  int status = 200;
  nlohmann::json body;
};

/// The figures /metrics exposes from the control room's latest look.
struct ControlMetrics {
  std::vector<std::pair<int, bool>> brokers;  ///< id, up
  std::optional<std::int64_t> under_replicated_partitions;
  std::optional<std::int64_t> offline_partitions;
  std::vector<std::pair<std::string, std::int64_t>> consumer_lag;
  std::vector<std::pair<std::string, double>> topic_rates;  ///< messages per second in
  std::optional<bool> reconcile_ok;
  std::optional<std::int64_t> reconcile_at_s;
  std::vector<Alert> alerts;
  /// When the stack captures changes: how long changes have waited for capture (0 when they
  /// have not); with the watchdog on, the restarts it made.
  std::optional<double> cdc_stalled_s;
  std::optional<std::int64_t> watchdog_restarts;
};

class ControlRoom {
 public:
  ControlRoom(deploy::Layout layout, ControlOptions options, FactsSource facts);
  ~ControlRoom();
  ControlRoom(const ControlRoom&) = delete;
  ControlRoom& operator=(const ControlRoom&) = delete;

  /// Starts the looks at Kafka (and the alerts) on a thread of its own.
  void start();
  void stop();

  // Reads; each asks its engine now. unavailable when the engine does not answer.
  base::Result<nlohmann::json> brokers() const;
  base::Result<nlohmann::json> topics() const;
  /// The last `limit` messages of a partition, decoded (Avro through the registry, or JSON).
  base::Result<nlohmann::json> messages(const std::string& topic, int partition, int limit) const;
  /// Each consumer's position and lag per partition, and lag over time from the looks.
  base::Result<nlohmann::json> consumers() const;
  base::Result<nlohmann::json> connect() const;
  base::Result<nlohmann::json> schemas() const;
  base::Result<nlohmann::json> schema_version(const std::string& subject, int version) const;
  base::Result<nlohmann::json> schema_diff(const std::string& subject, int from, int to) const;
  base::Result<nlohmann::json> spark() const;
  base::Result<nlohmann::json> cassandra() const;
  base::Result<nlohmann::json> postgres() const;
  nlohmann::json alerts() const;
  /// How long changes have waited for capture with nothing moving (0 when they have not);
  /// nullopt when the stack captures nothing.
  std::optional<double> capture_stalled_s() const;
  nlohmann::json audit(std::size_t limit) const;
  ControlMetrics metrics() const;
  const AlertThresholds& thresholds() const { return options_.thresholds; }

  /// restart_task (with `task`), restart_failed, pause or resume: asks Kafka Connect and
  /// records the outcome in the audit log, with `why` when given. The caller has checked the
  /// token (or is the watchdog); `refuse` records a refused attempt.
  ActionResult act(const std::string& action, const std::string& connector, int task,
                   const std::string& client, const std::string& why = "");
  void refuse(const std::string& action, const std::string& target, const std::string& client,
              int status, const std::string& why);

 private:
  struct Look {
    std::int64_t at_ms = 0;
    std::optional<ClusterState> cluster;
    std::vector<std::pair<std::string, std::int64_t>> lag;  ///< consumer, total lag
    std::optional<std::int64_t> dead_letters;
  };
  void run();
  Look look() const;
  void evaluate(const Look& now);
  std::vector<ExpectedBroker> expected_brokers() const;
  /// A broker whose node's probe fails or whose port is closed is down, even while Kafka still
  /// lists it.
  void mark_probed_down(ClusterState& state) const;
  /// The facts' services, with a node whose port is closed down.
  std::vector<std::pair<std::string, bool>> services_now() const;
  /// Connects to every node's main port (300 ms each at most); remembers which refused.
  void check_ports();
  PartitionSize partition_size() const;
  base::Result<std::vector<nlohmann::json>> consumer_lags(const ClusterState& cluster) const;
  std::string registry_schema(int id) const;
  /// The watchdog's look at capture after a look at Kafka, and what it decides, carried out.
  /// The run thread's only.
  void watch_capture(const Look& now);

  deploy::Layout layout_;
  ControlOptions options_;
  FactsSource facts_;
  AuditLog audit_;
  AlertBook book_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Look> looks_;
  std::optional<bool> reconcile_ok_;
  std::optional<std::int64_t> reconcile_at_s_;
  std::int64_t evaluated_at_ms_ = 0;
  std::vector<std::tuple<std::string, std::string, int>> node_ports_;  ///< name, host, port
  std::set<std::string> ports_closed_;
  CaptureWatchdog watchdog_;                    ///< the run thread's
  std::unique_ptr<io::Connection> capture_pg_;  ///< the run thread's
  std::optional<std::int64_t> stalled_since_ms_;
  std::int64_t watchdog_restarts_ = 0;
  mutable std::mutex schema_mu_;
  mutable std::map<int, std::string> schema_cache_;  ///< registry ids are immutable
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::thread alerts_thread_;
};

}  // namespace streamflow::control
