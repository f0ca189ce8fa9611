#include "control/consumer_groups.h"

#include <gtest/gtest.h>

#include <map>

namespace streamflow::control {
namespace {

/// End offsets of a made-up cluster; unknown partitions answer -1 as a failed read would.
EndOffset ends(std::map<std::pair<std::string, int>, std::int64_t> table) {
  return [table = std::move(table)](const std::string& topic, int partition) -> std::int64_t {
    const auto it = table.find({topic, partition});
    return it == table.end() ? -1 : it->second;
  };
}

TEST(ConsumerGroups, ComputeLag) {
  EXPECT_EQ(compute_lag(90, 100), 10);
  EXPECT_EQ(compute_lag(100, 100), 0);
  EXPECT_EQ(compute_lag(0, 0), 0);
  EXPECT_EQ(compute_lag(0, 7), 7);
  EXPECT_EQ(compute_lag(120, 100), 0);  // committed past the end: recreated topic, no lag
  EXPECT_EQ(compute_lag(-1, 100), -1);  // no commit: unknown
  EXPECT_EQ(compute_lag(-1001, 100), -1);
  EXPECT_EQ(compute_lag(5, -1), -1);  // end unknown
}

TEST(ConsumerGroups, SettleFillsEndsSortsAndSumsKnownLags) {
  GroupLag g;
  g.group = "g";
  g.partitions = {
      {"t", 2, 40, -1, -1}, {"a", 0, -1001, -1, -1}, {"t", 0, 95, -1, -1}, {"t", 1, 10, -1, -1}};
  settle(g, ends({{{"t", 0}, 100}, {{"t", 2}, 50}, {{"a", 0}, 9}}));
  ASSERT_EQ(g.partitions.size(), 4u);
  EXPECT_EQ(g.partitions[0].topic, "a");
  EXPECT_EQ(g.partitions[0].committed, -1);  // librdkafka's -1001 normalised
  EXPECT_EQ(g.partitions[0].end, 9);
  EXPECT_EQ(g.partitions[0].lag, -1);
  EXPECT_EQ(g.partitions[1].partition, 0);
  EXPECT_EQ(g.partitions[1].lag, 5);
  EXPECT_EQ(g.partitions[2].partition, 1);
  EXPECT_EQ(g.partitions[2].end, -1);  // end unknown
  EXPECT_EQ(g.partitions[2].lag, -1);
  EXPECT_EQ(g.partitions[3].lag, 10);
  EXPECT_EQ(g.total_lag, 15);
}

/// The shape job.py's report() writes (taken from a real progress file of the local stack).
const char* kJobProgress = R"({
 "updated_at": 1796380365.67, "started_at": 1796380107.2,
 "queries": {
  "users": {"active": true, "batch_id": 3,
   "end_offsets": [{"streamflow.staging.users": {"2": 6748, "1": 6548, "0": 6704}}]},
  "analytics": {"active": false, "batch_id": 3,
   "end_offsets": ["{\"streamflow.staging.users\":{\"0\":6000,\"1\":6548}}"]},
  "fresh": {"active": true, "batch_id": null, "end_offsets": [null]}
 }
})";

TEST(ConsumerGroups, SparkQueriesAreConsumersWithTheirEndOffsetsAsPositions) {
  const auto progress = nlohmann::json::parse(kJobProgress);
  const auto end = ends({{{"streamflow.staging.users", 0}, 6704},
                         {{"streamflow.staging.users", 1}, 6600},
                         {{"streamflow.staging.users", 2}, 6748}});
  const auto groups = spark_consumers(progress, end);
  ASSERT_EQ(groups.size(), 3u);
  // Name order.
  EXPECT_EQ(groups[0].group, "spark:analytics");
  EXPECT_EQ(groups[1].group, "spark:fresh");
  EXPECT_EQ(groups[2].group, "spark:users");

  const auto& users = groups[2];
  EXPECT_EQ(users.source, "spark");
  EXPECT_EQ(users.state, "active");
  EXPECT_EQ(users.members, 1);
  ASSERT_EQ(users.partitions.size(), 3u);
  EXPECT_EQ(users.partitions[0].topic, "streamflow.staging.users");
  EXPECT_EQ(users.partitions[0].partition, 0);
  EXPECT_EQ(users.partitions[0].committed, 6704);
  EXPECT_EQ(users.partitions[0].lag, 0);
  EXPECT_EQ(users.partitions[1].committed, 6548);
  EXPECT_EQ(users.partitions[1].end, 6600);
  EXPECT_EQ(users.partitions[1].lag, 52);
  EXPECT_EQ(users.total_lag, 52);

  // Offsets given as Spark's JSON text are read too.
  const auto& analytics = groups[0];
  EXPECT_EQ(analytics.state, "inactive");
  EXPECT_EQ(analytics.members, 0);
  ASSERT_EQ(analytics.partitions.size(), 2u);
  EXPECT_EQ(analytics.partitions[0].lag, 704);
  EXPECT_EQ(analytics.total_lag, 704 + 52);

  EXPECT_TRUE(groups[1].partitions.empty());  // no batch yet
  EXPECT_EQ(groups[1].total_lag, 0);
}

TEST(ConsumerGroups, AProgressFileThatIsNotOneGivesNoConsumers) {
  const auto none = ends({});
  EXPECT_TRUE(spark_consumers(nlohmann::json(), none).empty());
  EXPECT_TRUE(spark_consumers(nlohmann::json::array(), none).empty());
  EXPECT_TRUE(spark_consumers(nlohmann::json{{"queries", 3}}, none).empty());
  // A query that is not an object, and offsets of the wrong types, are skipped field by field.
  const auto odd = nlohmann::json::parse(R"({"queries": {
      "q": 7,
      "r": {"active": "yes", "end_offsets": [{"t": {"x": 1, "2": "3", "-1": 4, "0": 5}}, "{bad"]}
  }})");
  const auto groups = spark_consumers(odd, ends({{{"t", 0}, 8}}));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].group, "spark:q");
  EXPECT_TRUE(groups[0].partitions.empty());
  EXPECT_EQ(groups[1].state, "inactive");
  ASSERT_EQ(groups[1].partitions.size(), 1u);
  EXPECT_EQ(groups[1].partitions[0].partition, 0);
  EXPECT_EQ(groups[1].partitions[0].lag, 3);
}

TEST(ConsumerGroups, ToJsonShapesGroupsWithNullsForUnknowns) {
  GroupLag g;
  g.group = "connect-sink";
  g.state = "Stable";
  g.members = 2;
  g.partitions = {{"t", 0, 90, 100, 10}, {"t", 1, -1, 50, -1}, {"t", 2, 5, -1, -1}};
  g.total_lag = 10;
  const auto j = to_json({g});
  const auto expected = nlohmann::json::parse(R"({"groups": [{
      "group": "connect-sink", "state": "Stable", "members": 2, "source": "kafka",
      "total_lag": 10,
      "partitions": [
        {"topic": "t", "partition": 0, "committed": 90, "end": 100, "lag": 10},
        {"topic": "t", "partition": 1, "committed": null, "end": 50, "lag": null},
        {"topic": "t", "partition": 2, "committed": 5, "end": null, "lag": null}]}]})");
  EXPECT_EQ(j, expected);
  EXPECT_EQ(to_json({}), nlohmann::json::parse(R"({"groups": []})"));
}

}  // namespace
}  // namespace streamflow::control
