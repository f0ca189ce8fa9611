#include "control/alerts.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace streamflow::control {
namespace {

const Alert* find(const std::vector<Alert>& alerts, const std::string& rule,
                  const std::string& subject = "") {
  for (const auto& a : alerts)
    if (a.rule == rule && a.subject == subject) return &a;
  return nullptr;
}

AlertInputs healthy() {
  AlertInputs in;
  in.at_ms = 1'000'000'000;
  in.services = {{"kafka-1", true}, {"connect", true}};
  in.consumer_lag = {{"spark:users", 10}};
  in.under_replicated_partitions = 0;
  in.offline_partitions = 0;
  in.slot_retained_wal_bytes = 1024;
  in.dead_letters_growth = 0;
  in.freshness_s = 2.5;
  in.reconcile_ok = true;
  in.reconcile_at_s = in.at_ms / 1000 - 60;
  in.cdc_stalled_s = 0;
  return in;
}

TEST(Alerts, NothingFiresWhenAllIsWell) { EXPECT_TRUE(evaluate_alerts(healthy(), {}).empty()); }

TEST(Alerts, EachRuleFiresAboveItsThresholdOnly) {
  AlertThresholds t;
  t.consumer_lag_messages = 100;
  t.under_replicated_partitions = 1;
  t.slot_retained_wal_bytes = 2048;
  t.dead_letters_growth = 5;
  t.freshness_s = 30;
  t.reconcile_max_age_s = 3600;
  auto in = healthy();
  in.services[1].second = false;
  in.consumer_lag = {{"spark:users", 100}, {"spark:analytics", 101}};
  in.under_replicated_partitions = 2;
  in.offline_partitions = 1;
  in.slot_retained_wal_bytes = 2049;
  in.dead_letters_growth = 6;
  in.freshness_s = 30.5;
  const auto a = evaluate_alerts(in, t);
  ASSERT_TRUE(find(a, "service_down", "connect"));
  EXPECT_EQ(find(a, "service_down", "connect")->severity, "critical");
  EXPECT_FALSE(find(a, "service_down", "kafka-1"));
  EXPECT_FALSE(find(a, "consumer_lag", "spark:users"));  // at the threshold, not above
  ASSERT_TRUE(find(a, "consumer_lag", "spark:analytics"));
  EXPECT_EQ(find(a, "consumer_lag", "spark:analytics")->value, 101);
  EXPECT_TRUE(find(a, "under_replicated_partitions"));
  EXPECT_TRUE(find(a, "offline_partitions"));
  EXPECT_TRUE(find(a, "slot_wal_retained"));
  EXPECT_TRUE(find(a, "dead_letters_growing"));
  EXPECT_TRUE(find(a, "freshness"));
  EXPECT_FALSE(find(a, "reconcile_failed"));
  EXPECT_FALSE(find(a, "reconcile_stale"));
}

TEST(Alerts, CaptureStalledFiresFromTheStallTimeout) {
  AlertThresholds t;
  t.cdc_stall_s = 60;
  auto in = healthy();
  in.cdc_stalled_s = 59.9;
  EXPECT_FALSE(find(evaluate_alerts(in, t), "cdc_stalled", "connect"));
  in.cdc_stalled_s = 60;
  const auto a = evaluate_alerts(in, t);
  ASSERT_TRUE(find(a, "cdc_stalled", "connect"));
  EXPECT_EQ(find(a, "cdc_stalled", "connect")->severity, "critical");
  EXPECT_NE(find(a, "cdc_stalled", "connect")->summary.find("60 s"), std::string::npos);
  EXPECT_NE(prometheus_rules(t).find("expr: streamflow_cdc_stalled_seconds >= 60\n"),
            std::string::npos);
}

TEST(Alerts, ReconcileFailedAndStale) {
  AlertThresholds t;
  t.reconcile_max_age_s = 3600;
  auto in = healthy();
  in.reconcile_ok = false;
  in.reconcile_detail = "3 users missing";
  auto a = evaluate_alerts(in, t);
  ASSERT_TRUE(find(a, "reconcile_failed"));
  EXPECT_NE(find(a, "reconcile_failed")->summary.find("3 users missing"), std::string::npos);
  in.reconcile_ok = true;
  in.reconcile_at_s = in.at_ms / 1000 - 3601;
  a = evaluate_alerts(in, t);
  EXPECT_TRUE(find(a, "reconcile_stale"));
  // Never reconciled: neither (a fresh stack is not an alert).
  in.reconcile_ok.reset();
  in.reconcile_at_s.reset();
  EXPECT_TRUE(evaluate_alerts(in, t).empty());
}

TEST(Alerts, MissingFiguresNeverFire) {
  AlertInputs in;
  in.at_ms = 1;
  EXPECT_TRUE(evaluate_alerts(in, {}).empty());
}

TEST(Alerts, TheBookKeepsSinceWhenAnAlertFires) {
  AlertBook book;
  Alert down{"service_down", "connect", "critical", "", 1, 0, 0};
  auto first = book.update({down}, 1000);
  EXPECT_EQ(first[0].since_ms, 1000);
  auto second = book.update({down}, 3000);
  EXPECT_EQ(second[0].since_ms, 1000);
  book.update({}, 5000);  // it stopped firing
  auto again = book.update({down}, 7000);
  EXPECT_EQ(again[0].since_ms, 7000);
  EXPECT_EQ(book.current().size(), 1u);
}

TEST(Alerts, PrometheusRulesCarryTheThresholds) {
  AlertThresholds t;
  t.consumer_lag_messages = 1234;
  t.window_s = 120;
  t.dead_letters_growth = 7;
  const auto y = prometheus_rules(t);
  EXPECT_NE(y.find("expr: streamflow_consumer_lag_messages > 1234"), std::string::npos) << y;
  EXPECT_NE(y.find("expr: delta(streamflow_dead_letters[120s]) > 7"), std::string::npos);
  EXPECT_NE(y.find("- alert: service_down\n        expr: streamflow_service_up == 0"),
            std::string::npos);
  // Every rule the page knows is in the file.
  for (const auto& r : alert_rules())
    EXPECT_NE(y.find("- alert: " + r.name + "\n"), std::string::npos) << r.name;
}

TEST(Alerts, JsonListsEveryRuleAndWhichFire) {
  const auto j = alerts_json({{"freshness", "", "warning", "slow", 90, 60, 5}}, {}, 42);
  EXPECT_EQ(j["evaluated_at"], 42);
  EXPECT_EQ(j["firing"][0]["rule"], "freshness");
  EXPECT_EQ(j["rules"].size(), alert_rules().size());
  const auto& rules = j["rules"];
  const auto it = std::find_if(rules.begin(), rules.end(),
                               [](const nlohmann::json& r) { return r["name"] == "freshness"; });
  ASSERT_NE(it, rules.end());
  EXPECT_EQ((*it)["firing"], true);
}

}  // namespace
}  // namespace streamflow::control
