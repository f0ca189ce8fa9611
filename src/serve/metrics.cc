#include "serve/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace streamflow::serve {

const std::vector<double>& RequestStats::buckets_s() {
  static const std::vector<double> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1,    2.5,   5};
  return kBounds;
}

RequestStats::RequestStats()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(&prometheus::BuildCounter()
                     .Name("streamflow_http_requests_total")
                     .Help("requests served, by route and status")
                     .Register(*registry_)),
      latency_(&prometheus::BuildHistogram()
                    .Name("streamflow_http_request_duration_seconds")
                    .Help("request latency by route, from the parsed request to the answer")
                    .Register(*registry_)),
      wait_(&prometheus::BuildHistogram()
                 .Name("streamflow_http_request_wait_seconds")
                 .Help("time a request waited before its handler, by route: for a worker, then "
                       "for its bytes to be read and parsed")
                 .Register(*registry_)) {}

RequestStats::~RequestStats() = default;

void RequestStats::record(const std::string& route, int status, double seconds, double waited_s) {
  requests_->Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
  latency_->Add({{"route", route}}, buckets_s()).Observe(seconds);
  if (waited_s >= 0) wait_->Add({{"route", route}}, buckets_s()).Observe(waited_s);
}

namespace {

/// A gauge family in `registry`: name, help, then one Set per label set.
prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& registry,
                                             const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

template <class T>
void set_if(prometheus::Registry& registry, const std::string& name, const std::string& help,
            const std::optional<T>& v) {
  if (v) gauge(registry, name, help).Add({}).Set(static_cast<double>(*v));
}

}  // namespace

std::string render_metrics(const HealthSnapshot& h, const control::ControlMetrics& c,
                           const RequestStats& requests) {
  // A registry per scrape: every gauge is the snapshot's value, and a service or consumer that
  // is gone is gone from the page too.
  prometheus::Registry r;
  auto& up = gauge(r, "streamflow_stage_up", "1 when the stage works (ok or behind), 0 when down");
  auto& behind = gauge(r, "streamflow_stage_behind", "1 when the stage is falling behind");
  auto& records = gauge(r, "streamflow_stage_records",
                        "records each stage holds or has handled (staging users, CDC events, "
                        "users written by Spark, Cassandra users)");
  auto& rate =
      gauge(r, "streamflow_stage_rate_per_second", "records per second over the last sample");
  auto& lag = gauge(r, "streamflow_stage_lag", "how far behind the stage is, in the unit label");
  for (const auto& s : h.stages) {
    up.Add({{"stage", s.name}}).Set(s.state == StageState::down ? 0 : 1);
    behind.Add({{"stage", s.name}}).Set(s.state == StageState::behind ? 1 : 0);
    if (s.total) records.Add({{"stage", s.name}}).Set(static_cast<double>(*s.total));
    if (s.rate_per_s) rate.Add({{"stage", s.name}}).Set(*s.rate_per_s);
    if (s.lag) lag.Add({{"stage", s.name}, {"unit", s.lag_unit}}).Set(static_cast<double>(*s.lag));
  }
  set_if(r, "streamflow_freshness_seconds",
         "PostgreSQL commit to Cassandra write of the newest change the Spark job wrote",
         h.freshness_s);
  set_if(r, "streamflow_dead_letters", "messages on the dead-letter topic", h.dead_letters);
  set_if(r, "streamflow_rejects", "records in staging.user_rejects", h.rejects);
  set_if(r, "streamflow_failed_batches", "ingest batches that failed to land", h.failed_batches);
  if (!h.stages.empty()) {
    const auto* cdc = h.stage("cdc");
    gauge(r, "streamflow_connector_running",
          "1 when the Debezium connector and all its tasks are RUNNING")
        .Add({})
        .Set(cdc && cdc->state != StageState::down && !h.connector.empty() ? 1 : 0);
  }
  if (h.slot_active)
    gauge(r, "streamflow_replication_slot_active", "1 when the CDC slot is active")
        .Add({})
        .Set(*h.slot_active ? 1 : 0);
  set_if(r, "streamflow_replication_slot_retained_wal_bytes", "WAL the CDC slot holds back",
         h.slot_retained_wal_bytes);
  auto& service_up =
      gauge(r, "streamflow_service_up", "1 when the service's (or node's) health probe passes");
  for (const auto& s : h.services) service_up.Add({{"service", s.name}}).Set(s.healthy ? 1 : 0);

  // The control room's latest look at Kafka.
  if (!c.brokers.empty()) {
    auto& broker_up = gauge(r, "streamflow_kafka_broker_up",
                            "1 when the broker is registered in the cluster's metadata");
    for (const auto& [id, is_up] : c.brokers)
      broker_up.Add({{"broker", std::to_string(id)}}).Set(is_up ? 1 : 0);
  }
  set_if(r, "streamflow_kafka_under_replicated_partitions",
         "partitions with fewer in-sync replicas than replicas", c.under_replicated_partitions);
  set_if(r, "streamflow_kafka_offline_partitions", "partitions without a leader",
         c.offline_partitions);
  if (!c.topic_rates.empty()) {
    auto& in = gauge(r, "streamflow_kafka_topic_messages_in_per_second",
                     "messages per second into the topic between the last two looks");
    for (const auto& [topic, v] : c.topic_rates) in.Add({{"topic", topic}}).Set(v);
  }
  if (!c.consumer_lag.empty()) {
    auto& l = gauge(r, "streamflow_consumer_lag_messages",
                    "messages between a consumer's position and the end of its topic (the Spark "
                    "job's queries: spark:<query>; Kafka consumer groups by name)");
    for (const auto& [consumer, v] : c.consumer_lag)
      l.Add({{"consumer", consumer}}).Set(static_cast<double>(v));
  }
  if (c.reconcile_ok) {
    gauge(r, "streamflow_reconcile_ok", "1 when the last reconcile passed, 0 when it failed")
        .Add({})
        .Set(*c.reconcile_ok ? 1 : 0);
  }
  set_if(r, "streamflow_reconcile_last_run_timestamp_seconds", "when the last reconcile ran",
         c.reconcile_at_s);
  set_if(r, "streamflow_cdc_stalled_seconds",
         "how long changes to staging.users have waited with capture moving nothing (0: they "
         "have not); Kafka Connect's watchdog restarts the task after cdc.stall_timeout_s",
         c.cdc_stalled_s);
  if (c.watchdog_restarts)
    prometheus::BuildCounter()
        .Name("streamflow_connect_watchdog_restarts_total")
        .Help("restarts of the capture connector's task or failed parts by serve's watchdog")
        .Register(r)
        .Add({})
        .Increment(static_cast<double>(*c.watchdog_restarts));
  auto& firing = gauge(r, "streamflow_alert_firing",
                       "1 for each alert serve's own evaluation has firing (see the control room)");
  for (const auto& a : c.alerts)
    firing.Add({{"rule", a.rule}, {"subject", a.subject}, {"severity", a.severity}}).Set(1);

  auto families = r.Collect();
  for (auto& f : requests.registry().Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace streamflow::serve
