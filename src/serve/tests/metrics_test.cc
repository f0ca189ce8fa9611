#include "serve/metrics.h"

#include <gtest/gtest.h>

#include "serve/server.h"

namespace streamflow::serve {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, StagesServicesAndRequestsAreExposed) {
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
  RequestStats stats;
  stats.record("/api/v1/totals", 200, 0.002);
  stats.record("/api/v1/totals", 503, 0.2);
  const auto text = render_metrics(h, stats.snapshot());
  EXPECT_TRUE(has_line(text, R"(streamflow_stage_up{stage="ingest"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(streamflow_stage_up{stage="spark"} 0)"));
  EXPECT_TRUE(has_line(text, R"(streamflow_stage_records{stage="ingest"} 10)"));
  EXPECT_TRUE(has_line(text, R"(streamflow_stage_rate_per_second{stage="ingest"} 2.5)"));
  EXPECT_TRUE(
      has_line(text, R"(streamflow_stage_lag{stage="spark",unit="change events not yet read"} 7)"));
  EXPECT_TRUE(has_line(text, "streamflow_freshness_seconds 1.25"));
  EXPECT_TRUE(has_line(text, "streamflow_dead_letters 3"));
  EXPECT_TRUE(has_line(text, R"(streamflow_service_up{service="spark"} 0)"));
  EXPECT_TRUE(
      has_line(text, R"(streamflow_http_requests_total{route="/api/v1/totals",code="503"} 1)"));
  EXPECT_TRUE(has_line(
      text,
      R"(streamflow_http_request_duration_seconds_bucket{route="/api/v1/totals",le="0.0025"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(streamflow_http_request_duration_seconds_count{route="/api/v1/totals"} 2)"));
  EXPECT_NE(text.find("# TYPE streamflow_http_requests_total counter"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) { EXPECT_EQ(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(Server, RoutesForMetricsAndLoopback) {
  EXPECT_EQ(route_of("/api/v1/users/abc"), "/api/v1/users/{id}");
  EXPECT_EQ(route_of("/api/v1/users"), "/api/v1/users");
  EXPECT_EQ(route_of("/api/v2/nothing"), "/api/(unknown)");
  EXPECT_EQ(route_of("/assets/app.js"), "/(static)");
  EXPECT_NE(openapi_document().find("\"/api/v1/users/{id}\""), std::string::npos);
}

}  // namespace
}  // namespace streamflow::serve
