#include "serve/metrics.h"

#include <fmt/format.h>

namespace streamflow::serve {

const std::vector<double>& RequestStats::buckets_s() {
  static const std::vector<double> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1,    2.5,   5};
  return kBounds;
}

void RequestStats::record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  auto& r = routes_[route];
  if (r.buckets.empty()) r.buckets.assign(buckets_s().size(), 0);
  ++r.by_status[status];
  ++r.count;
  r.sum_s += seconds;
  for (std::size_t i = 0; i < buckets_s().size(); ++i)
    if (seconds <= buckets_s()[i]) ++r.buckets[i];
}

std::map<std::string, RequestStats::Route> RequestStats::snapshot() const {
  std::lock_guard lock(mu_);
  return routes_;
}

std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

struct Writer {
  std::string out;
  void help(const std::string& name, const std::string& type, const std::string& text) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, text, name, type);
  }
  template <class T>
  void sample(const std::string& name, const std::string& labels, T value) {
    out += labels.empty() ? fmt::format("{} {}\n", name, value)
                          : fmt::format("{}{{{}}} {}\n", name, labels, value);
  }
  template <class T>
  void gauge(const std::string& name, const std::string& text, const std::optional<T>& v) {
    if (!v) return;
    help(name, "gauge", text);
    sample(name, "", *v);
  }
};

}  // namespace

std::string render_metrics(const HealthSnapshot& h,
                           const std::map<std::string, RequestStats::Route>& requests) {
  Writer w;
  w.help("streamflow_stage_up", "gauge", "1 when the stage works (ok or behind), 0 when down");
  for (const auto& s : h.stages)
    w.sample("streamflow_stage_up", "stage=\"" + s.name + "\"",
             s.state == StageState::down ? 0 : 1);
  w.help("streamflow_stage_behind", "gauge", "1 when the stage is falling behind");
  for (const auto& s : h.stages)
    w.sample("streamflow_stage_behind", "stage=\"" + s.name + "\"",
             s.state == StageState::behind ? 1 : 0);
  w.help("streamflow_stage_records", "gauge",
         "records each stage holds or has handled (staging users, CDC events, users written by "
         "Spark, Cassandra users)");
  for (const auto& s : h.stages)
    if (s.total) w.sample("streamflow_stage_records", "stage=\"" + s.name + "\"", *s.total);
  w.help("streamflow_stage_rate_per_second", "gauge", "records per second over the last sample");
  for (const auto& s : h.stages)
    if (s.rate_per_s)
      w.sample("streamflow_stage_rate_per_second", "stage=\"" + s.name + "\"", *s.rate_per_s);
  w.help("streamflow_stage_lag", "gauge", "how far behind the stage is, in the unit label");
  for (const auto& s : h.stages)
    if (s.lag)
      w.sample("streamflow_stage_lag",
               "stage=\"" + s.name + "\",unit=\"" + label_value(s.lag_unit) + "\"", *s.lag);
  w.gauge("streamflow_freshness_seconds",
          "PostgreSQL commit to Cassandra write of the newest change the Spark job wrote",
          h.freshness_s);
  w.gauge("streamflow_dead_letters", "messages on the dead-letter topic", h.dead_letters);
  w.gauge("streamflow_rejects", "records in staging.user_rejects", h.rejects);
  w.gauge("streamflow_failed_batches", "ingest batches that failed to land", h.failed_batches);
  if (!h.stages.empty()) {
    w.help("streamflow_connector_running", "gauge",
           "1 when the Debezium connector and all its tasks are RUNNING");
    const auto* cdc = h.stage("cdc");
    w.sample("streamflow_connector_running", "",
             cdc && cdc->state != StageState::down && !h.connector.empty() ? 1 : 0);
  }
  if (h.slot_active) {
    w.help("streamflow_replication_slot_active", "gauge", "1 when the CDC slot is active");
    w.sample("streamflow_replication_slot_active", "", *h.slot_active ? 1 : 0);
  }
  w.gauge("streamflow_replication_slot_retained_wal_bytes", "WAL the CDC slot holds back",
          h.slot_retained_wal_bytes);
  w.help("streamflow_service_up", "gauge", "1 when the service's health probe passes");
  for (const auto& s : h.services)
    w.sample("streamflow_service_up", "service=\"" + label_value(s.name) + "\"", s.healthy ? 1 : 0);

  w.help("streamflow_http_requests_total", "counter", "requests served, by route and status");
  for (const auto& [route, r] : requests)
    for (const auto& [status, n] : r.by_status)
      w.sample("streamflow_http_requests_total",
               fmt::format("route=\"{}\",code=\"{}\"", label_value(route), status), n);
  w.help("streamflow_http_request_duration_seconds", "histogram", "request latency by route");
  for (const auto& [route, r] : requests) {
    const auto l = "route=\"" + label_value(route) + "\"";
    for (std::size_t i = 0; i < r.buckets.size(); ++i)
      w.sample("streamflow_http_request_duration_seconds_bucket",
               fmt::format("{},le=\"{}\"", l, RequestStats::buckets_s()[i]), r.buckets[i]);
    w.sample("streamflow_http_request_duration_seconds_bucket", l + ",le=\"+Inf\"", r.count);
    w.sample("streamflow_http_request_duration_seconds_sum", l, r.sum_s);
    w.sample("streamflow_http_request_duration_seconds_count", l, r.count);
  }
  return w.out;
}

}  // namespace streamflow::serve
