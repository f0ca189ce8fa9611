#include "deploy/topology.h"

#include <gtest/gtest.h>

#include "base/fs.h"

namespace streamflow::deploy {
namespace {

const char* kCluster = R"(
name: cluster-local
zookeeper: {nodes: [127.0.0.2, 127.0.0.3, 127.0.0.4]}
kafka: {nodes: [127.0.0.2, 127.0.0.3, 127.0.0.4], replication_factor: 3, min_insync_replicas: 2}
cassandra: {nodes: [127.0.0.2, 127.0.0.3, 127.0.0.4]}
connect: {nodes: [127.0.0.2, 127.0.0.3]}
spark: {masters: [127.0.0.2, 127.0.0.3], workers: [127.0.0.3, 127.0.0.4]}
)";

std::string message_of(std::string_view yaml) {
  auto t = parse_topology(yaml, "t.yaml");
  return t ? "" : t.error().message;
}

TEST(Topology, TheDefaultIsOneOfEachOnLoopbackWithNoClusterEngines) {
  const Topology t;
  EXPECT_FALSE(t.clustered());
  ASSERT_EQ(t.kafka.size(), 1u);
  EXPECT_EQ(t.kafka[0].host, "127.0.0.1");
  EXPECT_TRUE(t.zookeeper.empty());
  EXPECT_TRUE(t.spark_masters.empty());
  EXPECT_EQ(t.kafka_replication_factor, 1);
}

TEST(Topology, AClusterFileNumbersItsNodesAndReplicatesThreeTimes) {
  auto t = parse_topology(kCluster, "/x/cluster-local.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->clustered());
  EXPECT_EQ(t->name, "cluster-local");
  ASSERT_EQ(t->kafka.size(), 3u);
  EXPECT_EQ(t->kafka[2].id, 3);
  EXPECT_EQ(t->kafka[2].host, "127.0.0.4");
  EXPECT_EQ(t->kafka_replication_factor, 3);
  EXPECT_EQ(t->kafka_min_insync_replicas, 2);
  // Unsaid: replication min(nodes, 3) and the first two nodes as seeds.
  EXPECT_EQ(t->cassandra_replication_factor, 3);
  EXPECT_EQ(t->cassandra_seeds, 2);
  EXPECT_EQ(t->spark_masters.size(), 2u);
  EXPECT_EQ(t->spark_workers[0].host, "127.0.0.3");
  EXPECT_EQ(t->single_host, "127.0.0.1");
}

TEST(Topology, AnEngineLeftOutRunsOneNodeOnTheSingleHost) {
  auto t = parse_topology("kafka: {nodes: [127.0.0.2, 127.0.0.3, 127.0.0.4]}\n", "k.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->cassandra.size(), 1u);
  EXPECT_EQ(t->cassandra[0].host, "127.0.0.1");
  EXPECT_EQ(t->cassandra_replication_factor, 1);
  EXPECT_EQ(t->name, "k");
}

TEST(Topology, MistakesAreRefusedWithWhatToChange) {
  EXPECT_NE(message_of("kafka: {nodes: [127.0.0.2], replication_factor: 3}"), "");
  EXPECT_NE(message_of("kafka: {nodes: [127.0.0.2, 127.0.0.2]}").find("twice"), std::string::npos);
  EXPECT_NE(message_of("kafak: {nodes: [127.0.0.2]}").find("unknown key 'kafak'"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {node: [127.0.0.2]}").find("unknown key 'kafka.node'"),
            std::string::npos);
  EXPECT_NE(message_of("spark: {masters: [127.0.0.2, 127.0.0.3], workers: [127.0.0.4]}")
                .find("zookeeper"),
            std::string::npos);
  EXPECT_NE(message_of("spark: {masters: [127.0.0.2]}").find("workers"), std::string::npos);
  EXPECT_NE(message_of("zookeeper: {nodes: [127.0.0.2, 127.0.0.3]}").find("odd"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {nodes: 127.0.0.2}").find("list"), std::string::npos);
  EXPECT_NE(message_of("[1, 2]"), "");
  EXPECT_NE(message_of("kafka: {nodes: [a, b], min_insync_replicas: 3, replication_factor: 2}"),
            "");
}

TEST(Topology, TheShippedClusterFileParses) {
  const auto file = std::filesystem::path(STREAMFLOW_SOURCE_DIR) / "deploy" / "cluster-local.yaml";
  auto t = load_topology(file);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->zookeeper.size(), 3u);
  EXPECT_EQ(t->kafka.size(), 3u);
  EXPECT_EQ(t->cassandra.size(), 3u);
  EXPECT_EQ(t->connect.size(), 2u);
  EXPECT_EQ(t->spark_masters.size(), 2u);
  EXPECT_EQ(t->spark_workers.size(), 2u);
  EXPECT_EQ(t->kafka_min_insync_replicas, 2);
}

TEST(Topology, EveryLoopbackAddressIsThisHostsAndAForeignOneIsNot) {
  EXPECT_TRUE(is_own_address("127.0.0.1"));
  EXPECT_TRUE(is_own_address("127.0.0.4"));
  EXPECT_TRUE(is_own_address("localhost"));
  EXPECT_FALSE(is_own_address("192.0.2.1"));  // TEST-NET-1: never assigned
}

}  // namespace
}  // namespace streamflow::deploy
