#include "ops/resync.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace streamflow::ops {
namespace {

TEST(Resync, OffsetsMoveEveryPartitionOfTheConnectorToTheLsn) {
  const std::string current =
      R"({"offsets":[{"partition":{"server":"streamflow"},"offset":{"lsn_proc":32487832,)"
      R"("messageType":"COMMIT","lsn_commit":32487832,"lsn":32487832,"txId":773,)"
      R"("ts_usec":1796356738267618}}]})";
  auto body = offsets_at(current, "ignored", 34156144);
  ASSERT_TRUE(body) << body.error().message;
  auto doc = nlohmann::json::parse(*body);
  ASSERT_EQ(doc["offsets"].size(), 1u);
  EXPECT_EQ(doc["offsets"][0]["partition"], nlohmann::json({{"server", "streamflow"}}));
  const auto& offset = doc["offsets"][0]["offset"];
  EXPECT_EQ(offset["lsn"], 34156144);
  EXPECT_EQ(offset["lsn_proc"], 34156144);
  EXPECT_EQ(offset["lsn_commit"], 34156144);
  EXPECT_EQ(offset["messageType"], "COMMIT");
  EXPECT_FALSE(offset.contains("txId"));  // a transaction id of the skipped past: dropped
}

TEST(Resync, AConnectorWithoutOffsetsGetsItsTopicPrefixAsPartition) {
  auto body = offsets_at(R"({"offsets":[]})", "sf", 7);
  ASSERT_TRUE(body);
  auto doc = nlohmann::json::parse(*body);
  EXPECT_EQ(doc["offsets"][0]["partition"], nlohmann::json({{"server", "sf"}}));
  EXPECT_EQ(doc["offsets"][0]["offset"]["lsn"], 7);
}

TEST(Resync, AnAnswerThatIsNotAnOffsetsDocumentIsRefused) {
  EXPECT_FALSE(offsets_at("<html>", "sf", 7));
  EXPECT_FALSE(offsets_at(R"({"error_code":404})", "sf", 7));
}

TEST(Resync, ReportIsOkUnlessTheTaskFailedAgain) {
  ResyncReport r;
  r.resynced = true;
  r.resent_inserts = 3;
  EXPECT_TRUE(r.ok());
  auto doc = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(doc["resent_inserts"], 3);
  EXPECT_EQ(doc["ok"], true);
  r.failure = "RuleViolationException: Incompatible artifact";
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(nlohmann::json::parse(r.to_json())["ok"], false);
}

}  // namespace
}  // namespace streamflow::ops
