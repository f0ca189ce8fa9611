#include "serve/health.h"

#include <gtest/gtest.h>

namespace streamflow::serve {
namespace {

Readings healthy_readings(std::int64_t at_ms, std::int64_t n) {
  Readings r;
  r.at_ms = at_ms;
  for (const char* s : {"postgres", "kafka", "cassandra", "connect", "spark"})
    r.services.push_back({s, true, "ok"});
  r.counts.staging_users = n;
  r.counts.staging_rejects = 3;
  r.counts.failed_batches = 1;
  r.counts.cdc_events = n;
  r.counts.dead_letters = 2;
  r.counts.spark_upserted = n;
  r.counts.cassandra_users = n;
  r.connector = "RUNNING task0=RUNNING";
  r.slot_active = true;
  r.slot_retained_wal_bytes = 4096;
  r.counts.spark_consumed = n;
  r.counts.spark_last_commit_ms = at_ms - 1500;
  r.counts.spark_last_written_ms = at_ms - 500;
  return r;
}

TEST(Health, AHealthyPipelineHasEveryStageOkWithRates) {
  auto before = healthy_readings(1000, 1000);
  auto now = healthy_readings(3000, 5000);
  auto h = evaluate(now, before);
  ASSERT_EQ(h.stages.size(), 4u);
  for (const auto& s : h.stages) {
    EXPECT_EQ(s.state, StageState::ok) << s.name << ": " << s.detail;
    ASSERT_TRUE(s.rate_per_s) << s.name;
    EXPECT_DOUBLE_EQ(*s.rate_per_s, 2000.0) << s.name;
  }
  EXPECT_EQ(*h.stage("ingest")->errors, 4);  // rejects + failed batches
  EXPECT_EQ(*h.stage("spark")->errors, 2);   // dead letters
  EXPECT_EQ(*h.stage("spark")->lag, 0);
  EXPECT_DOUBLE_EQ(*h.freshness_s, 1.0);
  auto j = h.to_json();
  EXPECT_EQ(j["stages"][0]["name"], "ingest");
  EXPECT_EQ(j["replication_slot"]["active"], true);
}

TEST(Health, AStoppedServiceMarksItsStageDown) {
  auto now = healthy_readings(3000, 10);
  for (auto& s : now.services)
    if (s.name == "spark") s = {"spark", false, "progress file is 40 s old"};
  auto h = evaluate(now, std::nullopt);
  EXPECT_EQ(h.stage("spark")->state, StageState::down);
  EXPECT_NE(h.stage("spark")->detail.find("progress file is 40 s old"), std::string::npos);
  EXPECT_EQ(h.stage("cassandra")->state, StageState::ok);
  EXPECT_FALSE(h.stage("ingest")->rate_per_s);  // no earlier reading
}

TEST(Health, InAClusterAStageIsUpWhileAMajorityOfItsNodesIsOrOneConnectWorker) {
  auto now = healthy_readings(3000, 10);
  now.services = {{"postgres", true, "ok"},
                  {"kafka-1", true, "ok"},
                  {"kafka-2", false, "not running"},
                  {"kafka-3", true, "ok"},
                  {"cassandra-1", true, "ok"},
                  {"cassandra-2", false, "CQL port closed"},
                  {"cassandra-3", true, "ok"},
                  {"connect-1", false, "no answer"},
                  {"connect-2", true, "ok"},
                  {"spark-master-1", true, "ALIVE"},
                  {"spark", true, "ok"}};
  auto h = evaluate(now, std::nullopt);
  for (const auto& stage : h.stages) EXPECT_EQ(stage.state, StageState::ok) << stage.name;
  // One Cassandra node of three cannot answer LOCAL_QUORUM.
  for (auto& s : now.services) {
    if (s.name == "cassandra-3") s.healthy = false;
  }
  h = evaluate(now, std::nullopt);
  EXPECT_EQ(h.stage("cassandra")->state, StageState::down);
  EXPECT_NE(h.stage("cassandra")->detail.find("cassandra is down: 1 of 3 nodes up"),
            std::string::npos)
      << h.stage("cassandra")->detail;
  EXPECT_NE(h.stage("cassandra")->detail.find("cassandra-2: CQL port closed"), std::string::npos);
  // The connector's facts come from a worker that answers.
  std::vector<ServiceReading> services = {
      {"connect-1", false, "no answer", {}},
      {"connect-2", true, "ok", {{"connector", "RUNNING task0=RUNNING"}}}};
  Readings r;
  read_services(r, services);
  EXPECT_EQ(r.connector, "RUNNING task0=RUNNING");
}

TEST(Health, AFailedConnectorTaskOrInactiveSlotIsDown) {
  auto now = healthy_readings(3000, 10);
  now.connector = "RUNNING task0=FAILED";
  EXPECT_EQ(evaluate(now, std::nullopt).stage("cdc")->state, StageState::down);
  now.connector = "";
  EXPECT_NE(evaluate(now, std::nullopt).stage("cdc")->detail.find("not registered"),
            std::string::npos);
  now.connector = "RUNNING task0=RUNNING";
  now.slot_active = false;
  EXPECT_EQ(evaluate(now, std::nullopt).stage("cdc")->state, StageState::down);
}

TEST(Health, ACaptureThatMovesNothingWhileTheTableChangesIsBehind) {
  auto now = healthy_readings(3000, 10);
  now.capture_stalled_s = 9;  // a look between a change and its capture
  EXPECT_EQ(evaluate(now, std::nullopt).stage("cdc")->state, StageState::ok);
  now.capture_stalled_s = 42;
  const auto h = evaluate(now, std::nullopt);
  EXPECT_EQ(h.stage("cdc")->state, StageState::behind);
  EXPECT_NE(h.stage("cdc")->detail.find("moved nothing for 42 s"), std::string::npos)
      << h.stage("cdc")->detail;
}

TEST(Health, ARefusedSchemaChangeSaysWhyAndWhatToDoOnTheCdcStage) {
  std::vector<ServiceReading> services = {
      {"connect",
       true,
       "REST up",
       {{"connector", "RUNNING task0=FAILED"},
        {"failure",
         "io.apicurio.registry.rest.client.exception.RuleViolationException: Incompatible "
         "artifact: streamflow.staging.users-value [AVRO]"},
        {"slot", "streamflow_cdc inactive"}}}};
  auto now = healthy_readings(3000, 10);
  read_services(now, services);
  EXPECT_EQ(now.connector, "RUNNING task0=FAILED");
  auto h = evaluate(now, std::nullopt);
  const auto* cdc = h.stage("cdc");
  EXPECT_EQ(cdc->state, StageState::down);
  EXPECT_NE(cdc->detail.find("RuleViolationException"), std::string::npos) << cdc->detail;
  EXPECT_NE(cdc->detail.find("streamflow resync"), std::string::npos) << cdc->detail;
  EXPECT_NE(h.to_json()["connector_failure"].get<std::string>().find("Incompatible"),
            std::string::npos);
}

TEST(Health, FallingBehindIsBehindNotDown) {
  auto now = healthy_readings(3000, 100000);
  now.counts.spark_consumed = 50000;
  auto h = evaluate(now, std::nullopt);
  EXPECT_EQ(h.stage("spark")->state, StageState::behind);
  EXPECT_EQ(*h.stage("spark")->lag, 50000);
  now = healthy_readings(3000, 10);
  now.slot_retained_wal_bytes = 1LL << 30;
  EXPECT_EQ(evaluate(now, std::nullopt).stage("cdc")->state, StageState::behind);
}

TEST(Health, AStageThatDoesNotAnswerIsDownAndDisabledSparkSaysSo) {
  auto now = healthy_readings(3000, 10);
  now.counts.cassandra_users.reset();
  now.spark_enabled = false;
  auto h = evaluate(now, std::nullopt);
  EXPECT_EQ(h.stage("cassandra")->state, StageState::down);
  EXPECT_NE(h.stage("spark")->detail.find("disabled"), std::string::npos);
}

}  // namespace
}  // namespace streamflow::serve
