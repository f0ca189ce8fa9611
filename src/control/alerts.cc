#include "control/alerts.h"

#include <fmt/format.h>

#include <algorithm>

namespace streamflow::control {

AlertThresholds AlertThresholds::from_settings(const config::Settings& s) {
  AlertThresholds t;
  t.consumer_lag_messages = s.get_int("alerts.consumer_lag_messages");
  t.under_replicated_partitions = s.get_int("alerts.under_replicated_partitions");
  t.slot_retained_wal_bytes = s.get_int("alerts.slot_retained_wal_bytes");
  t.dead_letters_growth = s.get_int("alerts.dead_letters_growth");
  t.window_s = s.get_int("alerts.window_s");
  t.freshness_s = s.get_int("alerts.freshness_s");
  t.reconcile_max_age_s = s.get_int("alerts.reconcile_max_age_s");
  t.cdc_stall_s = s.get_int("cdc.stall_timeout_s");
  return t;
}

const std::vector<RuleInfo>& alert_rules() {
  static const std::vector<RuleInfo> kRules = {
      {"service_down", "critical", "a service or node of the deployment fails its health probe"},
      {"offline_partitions", "critical", "a Kafka partition has no leader"},
      {"cdc_stalled", "critical",
       "capture moves nothing while staging.users changes (the watchdog restarts its task)"},
      {"reconcile_failed", "critical",
       "the last reconcile found users missing from Cassandra or unexpected there"},
      {"under_replicated_partitions", "warning",
       "Kafka partitions have fewer in-sync replicas than replicas"},
      {"consumer_lag", "warning", "a consumer is far behind the end of its topic"},
      {"slot_wal_retained", "warning", "the CDC replication slot holds back a lot of WAL"},
      {"dead_letters_growing", "warning", "messages are landing on the dead-letter topic"},
      {"freshness", "warning", "changes take long from PostgreSQL to Cassandra"},
      {"reconcile_stale", "warning", "no reconcile has passed for a long time"},
  };
  return kRules;
}

namespace {

std::string severity_of(const std::string& rule) {
  for (const auto& r : alert_rules())
    if (r.name == rule) return r.severity;
  return "warning";
}

Alert make(const std::string& rule, const std::string& subject, std::string summary, double value,
           double threshold) {
  return Alert{rule, subject, severity_of(rule), std::move(summary), value, threshold, 0};
}

std::string bytes_text(double b) {
  if (b >= 1 << 30) return fmt::format("{:.1f} GiB", b / (1 << 30));
  if (b >= 1 << 20) return fmt::format("{:.1f} MiB", b / (1 << 20));
  return fmt::format("{:.0f} B", b);
}

}  // namespace

std::vector<Alert> evaluate_alerts(const AlertInputs& in, const AlertThresholds& t) {
  std::vector<Alert> out;
  for (const auto& [name, healthy] : in.services)
    if (!healthy)
      out.push_back(make(
          "service_down", name,
          fmt::format("{} is down: see `streamflow status` and `streamflow logs {}`", name, name),
          1, 0));
  if (in.offline_partitions && *in.offline_partitions > 0)
    out.push_back(make("offline_partitions", "",
                       fmt::format("{} Kafka partitions have no leader: their brokers are down",
                                   *in.offline_partitions),
                       static_cast<double>(*in.offline_partitions), 0));
  if (in.cdc_stalled_s && *in.cdc_stalled_s >= static_cast<double>(t.cdc_stall_s))
    out.push_back(make("cdc_stalled", "connect",
                       fmt::format("capture has moved nothing for {:.0f} s while staging.users "
                                   "changed: see the audit log for the watchdog's restarts and "
                                   "`streamflow logs connect`",
                                   *in.cdc_stalled_s),
                       *in.cdc_stalled_s, static_cast<double>(t.cdc_stall_s)));
  if (in.reconcile_ok && !*in.reconcile_ok)
    out.push_back(make("reconcile_failed", "",
                       "the last reconcile failed: " +
                           (in.reconcile_detail.empty() ? std::string("run `streamflow reconcile`")
                                                        : in.reconcile_detail),
                       1, 0));
  if (in.under_replicated_partitions &&
      *in.under_replicated_partitions > t.under_replicated_partitions)
    out.push_back(make("under_replicated_partitions", "",
                       fmt::format("{} Kafka partitions are under-replicated (a broker is down "
                                   "or behind)",
                                   *in.under_replicated_partitions),
                       static_cast<double>(*in.under_replicated_partitions),
                       static_cast<double>(t.under_replicated_partitions)));
  for (const auto& [consumer, lag] : in.consumer_lag)
    if (lag > t.consumer_lag_messages)
      out.push_back(make("consumer_lag", consumer,
                         fmt::format("{} is {} messages behind (threshold {})", consumer, lag,
                                     t.consumer_lag_messages),
                         static_cast<double>(lag), static_cast<double>(t.consumer_lag_messages)));
  if (in.slot_retained_wal_bytes && *in.slot_retained_wal_bytes > t.slot_retained_wal_bytes)
    out.push_back(make(
        "slot_wal_retained", "",
        fmt::format("the CDC slot holds back {} of WAL (threshold {}): is the connector running?",
                    bytes_text(static_cast<double>(*in.slot_retained_wal_bytes)),
                    bytes_text(static_cast<double>(t.slot_retained_wal_bytes))),
        static_cast<double>(*in.slot_retained_wal_bytes),
        static_cast<double>(t.slot_retained_wal_bytes)));
  if (in.dead_letters_growth && *in.dead_letters_growth > t.dead_letters_growth)
    out.push_back(make("dead_letters_growing", "",
                       fmt::format("{} messages went to the dead-letter topic in the last {} s: "
                                   "see the message browser",
                                   *in.dead_letters_growth, t.window_s),
                       static_cast<double>(*in.dead_letters_growth),
                       static_cast<double>(t.dead_letters_growth)));
  if (in.freshness_s && *in.freshness_s > static_cast<double>(t.freshness_s))
    out.push_back(make("freshness", "",
                       fmt::format("the newest change took {:.1f} s to reach Cassandra "
                                   "(threshold {} s)",
                                   *in.freshness_s, t.freshness_s),
                       *in.freshness_s, static_cast<double>(t.freshness_s)));
  if (in.reconcile_ok && *in.reconcile_ok && in.reconcile_at_s) {
    const double age =
        static_cast<double>(in.at_ms) / 1000.0 - static_cast<double>(*in.reconcile_at_s);
    if (age > static_cast<double>(t.reconcile_max_age_s))
      out.push_back(make("reconcile_stale", "",
                         fmt::format("the last reconcile ran {:.0f} s ago: is the "
                                     "streamflow_reconcile DAG paused?",
                                     age),
                         age, static_cast<double>(t.reconcile_max_age_s)));
  }
  return out;
}

std::string prometheus_rules(const AlertThresholds& t) {
  // One group; every expression reads only what serve's /metrics exposes. Labels say which
  // service or consumer an alert is about, as the page does.
  std::string y =
      "# Prometheus alerting rules for StreamFlow, over `streamflow serve`'s /metrics.\n"
      "# Written by `streamflow alerts --rules` from the alerts.* settings; regenerate it after\n"
      "# changing a threshold. Check with `promtool check rules <file>`.\n"
      "groups:\n"
      "  - name: streamflow\n"
      "    rules:\n";
  const auto rule = [&y](const std::string& name, const std::string& expr,
                         const std::string& summary) {
    y += fmt::format(
        "      - alert: {}\n"
        "        expr: {}\n"
        "        labels:\n"
        "          severity: {}\n"
        "        annotations:\n"
        "          summary: {}\n",
        name, expr, severity_of(name), summary);
  };
  rule("service_down", "streamflow_service_up == 0",
       "'{{ $labels.service }} is down: see `streamflow status`'");
  rule("offline_partitions", "streamflow_kafka_offline_partitions > 0",
       "'{{ $value }} Kafka partitions have no leader'");
  rule("cdc_stalled", fmt::format("streamflow_cdc_stalled_seconds >= {}", t.cdc_stall_s),
       "'capture has moved nothing for {{ $value }} s while staging.users changed'");
  rule("reconcile_failed", "streamflow_reconcile_ok == 0",
       "'the last reconcile found users missing or unexpected in Cassandra'");
  rule("under_replicated_partitions",
       fmt::format("streamflow_kafka_under_replicated_partitions > {}",
                   t.under_replicated_partitions),
       "'{{ $value }} Kafka partitions are under-replicated'");
  rule("consumer_lag",
       fmt::format("streamflow_consumer_lag_messages > {}", t.consumer_lag_messages),
       "'{{ $labels.consumer }} is {{ $value }} messages behind'");
  rule(
      "slot_wal_retained",
      fmt::format("streamflow_replication_slot_retained_wal_bytes > {}", t.slot_retained_wal_bytes),
      "'the CDC replication slot holds back {{ $value }} bytes of WAL'");
  rule("dead_letters_growing",
       fmt::format("delta(streamflow_dead_letters[{}s]) > {}", t.window_s, t.dead_letters_growth),
       "'messages are landing on the dead-letter topic'");
  rule("freshness", fmt::format("streamflow_freshness_seconds > {}", t.freshness_s),
       "'changes take {{ $value }} s from PostgreSQL to Cassandra'");
  rule("reconcile_stale",
       fmt::format("streamflow_reconcile_ok == 1 and time() - "
                   "streamflow_reconcile_last_run_timestamp_seconds > {}",
                   t.reconcile_max_age_s),
       "'no reconcile has run for a long time'");
  return y;
}

std::vector<Alert> AlertBook::update(std::vector<Alert> firing, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::map<std::string, std::int64_t> since;
  for (auto& a : firing) {
    const auto key = a.rule + "/" + a.subject;
    const auto it = since_.find(key);
    a.since_ms = it == since_.end() ? now_ms : it->second;
    since[key] = a.since_ms;
  }
  since_ = std::move(since);
  current_ = firing;
  return firing;
}

std::vector<Alert> AlertBook::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

nlohmann::json alerts_json(const std::vector<Alert>& alerts, const AlertThresholds& t,
                           std::int64_t evaluated_at_ms) {
  nlohmann::json firing = nlohmann::json::array();
  for (const auto& a : alerts)
    firing.push_back({{"rule", a.rule},
                      {"subject", a.subject},
                      {"severity", a.severity},
                      {"summary", a.summary},
                      {"value", a.value},
                      {"threshold", a.threshold},
                      {"since", a.since_ms}});
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : alert_rules()) {
    const bool on =
        std::any_of(alerts.begin(), alerts.end(), [&](const Alert& a) { return a.rule == r.name; });
    rules.push_back({{"name", r.name},
                     {"severity", r.severity},
                     {"description", r.description},
                     {"firing", on}});
  }
  return {{"evaluated_at", evaluated_at_ms},
          {"firing", firing},
          {"rules", rules},
          {"thresholds",
           {{"consumer_lag_messages", t.consumer_lag_messages},
            {"under_replicated_partitions", t.under_replicated_partitions},
            {"slot_retained_wal_bytes", t.slot_retained_wal_bytes},
            {"dead_letters_growth", t.dead_letters_growth},
            {"window_s", t.window_s},
            {"freshness_s", t.freshness_s},
            {"reconcile_max_age_s", t.reconcile_max_age_s},
            {"cdc_stall_s", t.cdc_stall_s}}}};
}

}  // namespace streamflow::control
