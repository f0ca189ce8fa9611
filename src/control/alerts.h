#pragma once
/// The control room's alerts: rules with thresholds from the settings (alerts.*), evaluated
/// by serve on every look at the pipeline and shown on the page, in `status` and as the
/// `streamflow_alert_firing` metric; and the same rules as a Prometheus alerting-rules file over
/// the metrics /metrics exposes, so a Prometheus that scrapes serve fires them on its own.
/// Evaluation and rendering are pure; AlertBook remembers since when each alert fires.

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.h"

namespace streamflow::control {

struct AlertThresholds {
  std::int64_t consumer_lag_messages = 50000;
  std::int64_t under_replicated_partitions = 0;
  std::int64_t slot_retained_wal_bytes = 1LL << 30;
  std::int64_t dead_letters_growth = 0;
  std::int64_t window_s = 300;
  std::int64_t freshness_s = 60;
  std::int64_t reconcile_max_age_s = 7200;
  std::int64_t cdc_stall_s = 60;
  static AlertThresholds from_settings(const config::Settings& settings);
};

/// What the rules look at, from one look at the pipeline. A missing figure (nullopt) never
/// fires its rule: the rule about the service that would give it does.
struct AlertInputs {
  std::int64_t at_ms = 0;
  /// Every service node and whether its probe passed ("kafka-2", "connect"...).
  std::vector<std::pair<std::string, bool>> services;
  /// Each consumer's lag in messages ("spark:users", a consumer group).
  std::vector<std::pair<std::string, std::int64_t>> consumer_lag;
  std::optional<std::int64_t> under_replicated_partitions;
  std::optional<std::int64_t> offline_partitions;
  std::optional<std::int64_t> slot_retained_wal_bytes;
  /// Dead letters added within the window (now minus the oldest look in it).
  std::optional<std::int64_t> dead_letters_growth;
  std::optional<double> freshness_s;
  /// The last reconcile: whether it passed, when it ran (seconds since the epoch), what it said.
  std::optional<bool> reconcile_ok;
  std::optional<std::int64_t> reconcile_at_s;
  std::string reconcile_detail;
  /// How long changes have waited for capture with nothing moving (the watchdog's stall).
  std::optional<double> cdc_stalled_s;
};

struct Alert {
  std::string rule;      ///< consumer_lag, service_down, ...
  std::string subject;   ///< what it is about ("connect", "spark:users"); "" for the pipeline
  std::string severity;  ///< critical or warning
  std::string summary;   ///< one line an operator acts on
  double value = 0;
  double threshold = 0;
  std::int64_t since_ms = 0;  ///< filled by AlertBook
};

/// The rules, in the order the page lists them: name, severity, what it means.
struct RuleInfo {
  std::string name;
  std::string severity;
  std::string description;
};
const std::vector<RuleInfo>& alert_rules();

/// The alerts firing for `inputs`. Pure.
std::vector<Alert> evaluate_alerts(const AlertInputs& inputs, const AlertThresholds& thresholds);

/// The same rules as a Prometheus alerting-rules file (YAML) over serve's /metrics, with
/// `thresholds` filled in. `promtool check rules` accepts it.
std::string prometheus_rules(const AlertThresholds& thresholds);

/// Since when each alert (rule + subject) has been firing, across evaluations. Thread-safe.
class AlertBook {
 public:
  /// Records the alerts firing now; returns them with `since_ms` set (the first evaluation
  /// that saw each, since it last stopped firing).
  std::vector<Alert> update(std::vector<Alert> firing, std::int64_t now_ms);
  std::vector<Alert> current() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::int64_t> since_;
  std::vector<Alert> current_;
};

nlohmann::json alerts_json(const std::vector<Alert>& alerts, const AlertThresholds& thresholds,
                           std::int64_t evaluated_at_ms);

}  // namespace streamflow::control
