#include "control/kafka_view.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace streamflow::control {
namespace {

PartitionState partition(int id, int leader, std::vector<int> replicas, std::vector<int> isr,
                         std::int64_t end) {
  PartitionState p;
  p.partition = id;
  p.leader = leader;
  p.replicas = std::move(replicas);
  p.isr = std::move(isr);
  p.end_offset = end;
  return p;
}

ClusterState cluster_at(std::int64_t at_ms, std::int64_t end0, std::int64_t end1) {
  ClusterState c;
  c.at_ms = at_ms;
  c.controller_id = 1;
  c.brokers = {{1, "127.0.0.2", 9092, true, true}, {3, "127.0.0.4", 9092, true, false}};
  TopicState t;
  t.name = "streamflow.staging.users";
  t.partitions = {partition(0, 1, {1, 2, 3}, {1, 3}, end0), partition(1, -1, {2}, {}, end1)};
  c.topics = {t};
  return c;
}

TEST(KafkaView, CountsUnderReplicatedAndOfflinePartitions) {
  const auto c = cluster_at(0, 10, 5);
  const auto& t = c.topics[0];
  EXPECT_EQ(t.replication_factor(), 3);
  EXPECT_EQ(t.under_replicated(), 2);  // 2 of 3 in sync; and the offline one has none of 1
  EXPECT_EQ(t.offline(), 1);
  EXPECT_EQ(t.end_offset_total(), 15);
  EXPECT_EQ(t.size_bytes(), std::nullopt);
}

TEST(KafkaView, BrokersMissingFromTheMetadataAreDown) {
  auto c = cluster_at(0, 1, 1);
  add_missing_brokers(c, {{1, "127.0.0.2", 9092}, {2, "127.0.0.3", 9092}, {3, "127.0.0.4", 9092}});
  ASSERT_EQ(c.brokers.size(), 3u);
  EXPECT_EQ(c.brokers[1].id, 2);
  EXPECT_FALSE(c.brokers[1].up);
  EXPECT_EQ(c.brokers[1].host, "127.0.0.3");
  const auto j = brokers_json(c);
  EXPECT_EQ(j["controller_id"], 1);
  EXPECT_EQ(j["controller_source"], "metadata");
  c.controller_from_quorum = true;
  EXPECT_EQ(brokers_json(c)["controller_source"], "quorum");
  EXPECT_EQ(j["brokers"][0]["controller"], true);
  EXPECT_EQ(j["brokers"][1]["up"], false);
  EXPECT_EQ(j["brokers"][2]["controller"], false);
  // Listed by Kafka, but its port is closed: down.
  add_missing_brokers(c, {{3, "127.0.0.4", 9092, true}});
  EXPECT_FALSE(c.brokers[2].up);
}

TEST(KafkaView, MessagesPerSecondComeFromTwoLooks) {
  const auto before = cluster_at(1000, 100, 50);
  auto now = cluster_at(3000, 300, 50);
  rates_between(now, before);
  ASSERT_TRUE(now.topics[0].messages_per_s);
  EXPECT_DOUBLE_EQ(*now.topics[0].messages_per_s, 100.0);
  // A topic whose offsets went back (deleted and made again) has no rate, not a negative one.
  auto again = cluster_at(5000, 3, 0);
  rates_between(again, now);
  EXPECT_FALSE(again.topics[0].messages_per_s);
}

TEST(KafkaView, TopicsJsonCarriesPartitionsAndNulls) {
  auto c = cluster_at(0, 7, 3);
  const auto j = topics_json(c);
  const auto& t = j["topics"][0];
  EXPECT_EQ(t["name"], "streamflow.staging.users");
  EXPECT_EQ(t["partitions"], 2);
  EXPECT_EQ(t["under_replicated"], 2);
  EXPECT_EQ(t["offline"], 1);
  EXPECT_EQ(t["end_offset"], 10);
  EXPECT_TRUE(t["size_bytes"].is_null());
  EXPECT_TRUE(t["messages_per_s"].is_null());
  EXPECT_EQ(t["partition_list"][0]["isr"], nlohmann::json({1, 3}));
  EXPECT_TRUE(t["partition_list"][1]["leader"].is_null());
  EXPECT_FALSE(topics_json(c, false)["topics"][0].contains("partition_list"));
}

TEST(KafkaView, InternalTopicsAreKafkasAndConnects) {
  EXPECT_TRUE(is_internal_topic("__consumer_offsets"));
  EXPECT_TRUE(is_internal_topic("streamflow-connect-offsets"));
  EXPECT_FALSE(is_internal_topic("streamflow.staging.users"));
  EXPECT_FALSE(is_internal_topic("streamflow.dlq"));
}

TEST(KafkaView, PartitionSizeIsTheFolderOnDisk) {
  const auto dir = std::filesystem::temp_directory_path() / "sf-kafka-view-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "t-0");
  std::ofstream(dir / "t-0" / "00000000000000000000.log") << std::string(1000, 'x');
  std::ofstream(dir / "t-0" / "00000000000000000000.index") << std::string(24, 'x');
  EXPECT_EQ(partition_dir_size(dir.string(), "t", 0), 1024);
  EXPECT_EQ(partition_dir_size(dir.string(), "t", 1), std::nullopt);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace streamflow::control
