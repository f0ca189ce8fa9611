#include "serve/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <sstream>

#include "serve/server.h"

namespace streamflow::serve {
namespace {

using Labels = std::map<std::string, std::string>;

/// The value of the sample `name{labels}` in an exposition, whatever the label order; nullopt
/// when there is no such sample. A small parser of the text format (no escapes in our values
/// but spaces and slashes).
std::optional<double> value_of(const std::string& text, const std::string& name,
                               const Labels& labels = {}) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    const auto metric = line.substr(0, brace == std::string::npos ? space : brace);
    if (metric != name) continue;
    Labels seen;
    if (brace != std::string::npos) {
      const auto end = line.rfind('}');
      std::string body = line.substr(brace + 1, end - brace - 1);
      std::size_t pos = 0;
      while (pos < body.size()) {
        const auto eq = body.find('=', pos);
        const auto close = body.find('"', eq + 2);
        seen[body.substr(pos, eq - pos)] = body.substr(eq + 2, close - eq - 2);
        pos = close + 2;  // past the quote and the comma
      }
    }
    if (seen == labels) return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

TEST(Metrics, StagesServicesControlAndRequestsAreExposed) {
  HealthSnapshot h;
  Stage ingest;
  ingest.name = "ingest";
  ingest.state = StageState::ok;
  ingest.total = 10;
  ingest.rate_per_s = 2.5;
  Stage spark;
  spark.name = "spark";
  spark.lag = 7;
  spark.lag_unit = "change events not yet read";
  h.stages = {ingest, spark};
  h.services = {{"postgres", true, ""}, {"spark", false, "down"}};
  h.freshness_s = 1.25;
  h.dead_letters = 3;
  control::ControlMetrics c;
  c.brokers = {{1, true}, {2, false}};
  c.under_replicated_partitions = 4;
  c.offline_partitions = 0;
  c.consumer_lag = {{"spark:users", 1200}};
  c.topic_rates = {{"streamflow.staging.users", 350.5}};
  c.reconcile_ok = false;
  c.reconcile_at_s = 1764000000;
  c.alerts = {{"service_down", "spark", "critical", "spark is down", 1, 0, 5}};
  RequestStats stats;
  stats.record("/api/v1/totals", 200, 0.002);
  stats.record("/api/v1/totals", 503, 0.2, 0.03);  // waited 30 ms for a worker
  const auto text = render_metrics(h, c, stats);
  EXPECT_EQ(value_of(text, "streamflow_stage_up", {{"stage", "ingest"}}), 1) << text;
  EXPECT_EQ(value_of(text, "streamflow_stage_up", {{"stage", "spark"}}), 0);
  EXPECT_EQ(value_of(text, "streamflow_stage_records", {{"stage", "ingest"}}), 10);
  EXPECT_EQ(value_of(text, "streamflow_stage_rate_per_second", {{"stage", "ingest"}}), 2.5);
  EXPECT_EQ(value_of(text, "streamflow_stage_lag",
                     {{"stage", "spark"}, {"unit", "change events not yet read"}}),
            7);
  EXPECT_EQ(value_of(text, "streamflow_freshness_seconds"), 1.25);
  EXPECT_EQ(value_of(text, "streamflow_dead_letters"), 3);
  EXPECT_EQ(value_of(text, "streamflow_service_up", {{"service", "spark"}}), 0);
  EXPECT_EQ(value_of(text, "streamflow_service_up", {{"service", "postgres"}}), 1);
  EXPECT_EQ(value_of(text, "streamflow_kafka_broker_up", {{"broker", "2"}}), 0);
  EXPECT_EQ(value_of(text, "streamflow_kafka_under_replicated_partitions"), 4);
  EXPECT_EQ(value_of(text, "streamflow_kafka_offline_partitions"), 0);
  EXPECT_EQ(value_of(text, "streamflow_consumer_lag_messages", {{"consumer", "spark:users"}}),
            1200);
  EXPECT_EQ(value_of(text, "streamflow_kafka_topic_messages_in_per_second",
                     {{"topic", "streamflow.staging.users"}}),
            350.5);
  EXPECT_EQ(value_of(text, "streamflow_reconcile_ok"), 0);
  EXPECT_EQ(value_of(text, "streamflow_reconcile_last_run_timestamp_seconds"), 1764000000);
  EXPECT_EQ(value_of(text, "streamflow_alert_firing",
                     {{"rule", "service_down"}, {"subject", "spark"}, {"severity", "critical"}}),
            1);
  EXPECT_EQ(value_of(text, "streamflow_http_requests_total",
                     {{"route", "/api/v1/totals"}, {"code", "503"}}),
            1);
  EXPECT_EQ(value_of(text, "streamflow_http_request_duration_seconds_bucket",
                     {{"route", "/api/v1/totals"}, {"le", "0.0025"}}),
            1);
  EXPECT_EQ(value_of(text, "streamflow_http_request_duration_seconds_count",
                     {{"route", "/api/v1/totals"}}),
            2);
  // The wait is counted only for the request that knew it.
  EXPECT_EQ(
      value_of(text, "streamflow_http_request_wait_seconds_count", {{"route", "/api/v1/totals"}}),
      1);
  EXPECT_EQ(value_of(text, "streamflow_http_request_wait_seconds_bucket",
                     {{"route", "/api/v1/totals"}, {"le", "0.025"}}),
            0);
  EXPECT_EQ(value_of(text, "streamflow_http_request_wait_seconds_bucket",
                     {{"route", "/api/v1/totals"}, {"le", "0.05"}}),
            1);
  EXPECT_NE(text.find("# TYPE streamflow_http_requests_total counter"), std::string::npos);
  // Nothing is made up for what was not measured.
  EXPECT_EQ(value_of(text, "streamflow_rejects"), std::nullopt);
}

TEST(Metrics, LabelValuesAreEscaped) {
  HealthSnapshot h;
  h.services = {{"a\"b\\c", true, ""}};
  const auto text = render_metrics(h, {}, RequestStats{});
  EXPECT_NE(text.find(R"(streamflow_service_up{service="a\"b\\c"} 1)"), std::string::npos) << text;
}

TEST(Server, RoutesForMetricsAndLoopback) {
  EXPECT_EQ(route_of("/api/v1/users/abc"), "/api/v1/users/{id}");
  EXPECT_EQ(route_of("/api/v1/users"), "/api/v1/users");
  EXPECT_EQ(route_of("/api/v2/nothing"), "/api/(unknown)");
  EXPECT_EQ(route_of("/assets/app.js"), "/(static)");
  EXPECT_EQ(route_of("/api/v1/control/connect/connectors/pg/tasks/0/restart"),
            "/api/v1/control/connect/connectors/{name}/tasks/{task}/restart");
  EXPECT_EQ(route_of("/api/v1/control/schemas/a-value/versions/2"),
            "/api/v1/control/schemas/{subject}/versions/{version}");
  EXPECT_EQ(route_of("/api/v1/control/kafka/topics"), "/api/v1/control/kafka/topics");
  EXPECT_NE(openapi_document().find("\"/api/v1/users/{id}\""), std::string::npos);
}

}  // namespace
}  // namespace streamflow::serve
