#include "control/cassandra_view.h"

#include <gtest/gtest.h>

namespace streamflow::control {
namespace {

using cql::Value;

/// Rows of kGossipQuery, with the columns Cassandra 5.0's gossip_info names.
cql::Rows gossip(std::vector<std::vector<Value>> rows) {
  return {{"address", "port", "status", "status_with_port", "load", "dc", "rack", "host_id",
           "release_version"},
          std::move(rows)};
}

/// Rows of kLocalQuery / kPeersV2Query (aliased to one column list).
cql::Rows ring(std::vector<std::vector<Value>> rows) {
  return {{"address", "host_id", "data_center", "rack", "release_version", "tokens"},
          std::move(rows)};
}

std::vector<Value> gossip_row(const char* address, Value status, Value load, const char* host_id) {
  return {address, "7000", status, status, load, "datacenter1", "rack1", host_id, "5.0.9"};
}

const nlohmann::json* node(const nlohmann::json& view, const std::string& address) {
  for (const auto& n : view["nodes"])
    if (n["address"] == address) return &n;
  return nullptr;
}

TEST(CassandraView, NodeStateFollowsTheStatusWordAndTheProbe) {
  EXPECT_EQ(node_state("NORMAL", true, true), "up");
  EXPECT_EQ(node_state("NORMAL", false, false), "up");  // not probed: gossip alone
  EXPECT_EQ(node_state("NORMAL", true, false), "down");
  EXPECT_EQ(node_state("MOVING", true, true), "up");
  EXPECT_EQ(node_state("shutdown", true, true), "down");
  EXPECT_EQ(node_state("LEFT", false, false), "down");
  EXPECT_EQ(node_state("hibernate", true, true), "down");
  EXPECT_EQ(node_state("BOOT", true, true), "joining");
  EXPECT_EQ(node_state("BOOT_REPLACE", false, false), "joining");
  EXPECT_EQ(node_state("", true, true), "joining");
  EXPECT_EQ(node_state("BOOT", true, false), "down");  // the probe wins over gossip
  EXPECT_EQ(node_state("LEAVING", true, true), "leaving");
  EXPECT_EQ(node_state("LEAVE", true, true), "leaving");
  EXPECT_EQ(node_state("removing", false, false), "leaving");
}

TEST(CassandraView, CountsTheElementsOfARenderedSet) {
  EXPECT_EQ(count_set_elements("{'-9223372036854775808'}"), 1);
  EXPECT_EQ(count_set_elements("{'-3074457345618258603','3074457345618258602','12'}"), 3);
  EXPECT_EQ(count_set_elements(" {} "), 0);
  EXPECT_EQ(count_set_elements("{ }"), 0);
  EXPECT_EQ(count_set_elements("not a set"), -1);
  EXPECT_EQ(count_set_elements(""), -1);
  EXPECT_EQ(count_set_elements("{"), -1);
}

TEST(CassandraView, AHealthyRingOfThreeWithGossipAndRingTables) {
  auto g = gossip({
      gossip_row("127.0.0.3", "NORMAL,3074457345618258602", "1.2345678E8", "h3"),
      gossip_row("127.0.0.2", "NORMAL,-3074457345618258603", "204800.0", "h2"),
      gossip_row("127.0.0.10", "NORMAL,-9223372036854775808", "0.0", "h10"),
  });
  auto r = ring({
      {"127.0.0.2", "h2", "datacenter1", "rack1", "5.0.9", "{'-3074457345618258603','42'}"},
      {"127.0.0.3", "h3", "datacenter1", "rack1", "5.0.9", "{'3074457345618258602'}"},
      {"127.0.0.10", "h10", "datacenter1", "rack1", "5.0.9", "{'-9223372036854775808'}"},
  });
  std::vector<NodeProbe> probes = {
      {"127.0.0.2:9042", true}, {"127.0.0.3:9042", true}, {"127.0.0.10:9042", true}};
  const auto view = build_nodes(g, r, probes);
  ASSERT_EQ(view["nodes"].size(), 3u);
  // Numeric address order, not text order (127.0.0.10 last).
  EXPECT_EQ(view["nodes"][0]["address"], "127.0.0.2");
  EXPECT_EQ(view["nodes"][1]["address"], "127.0.0.3");
  EXPECT_EQ(view["nodes"][2]["address"], "127.0.0.10");
  const auto& n2 = view["nodes"][0];
  EXPECT_EQ(n2["host_id"], "h2");
  EXPECT_EQ(n2["datacenter"], "datacenter1");
  EXPECT_EQ(n2["rack"], "rack1");
  EXPECT_EQ(n2["status"], "NORMAL");
  EXPECT_EQ(n2["state"], "up");
  EXPECT_EQ(n2["load_bytes"], 204800);
  EXPECT_EQ(n2["release_version"], "5.0.9");
  EXPECT_EQ(n2["tokens"], 2);
  EXPECT_EQ(view["nodes"][1]["load_bytes"], 123456780);  // Java's E-notation
  EXPECT_EQ(view["nodes"][2]["load_bytes"], 0);
  EXPECT_EQ(view["nodes"][1]["tokens"], 1);
}

TEST(CassandraView, AStoppedNodeIsDownByGossipOrByProbe) {
  auto g = gossip({
      gossip_row("127.0.0.2", "NORMAL,1", "1.0", "h2"),
      gossip_row("127.0.0.3", "shutdown,true", "1.0", "h3"),
      gossip_row("127.0.0.4", "NORMAL,3", "1.0", "h4"),
  });
  // 127.0.0.4 was SIGKILLed: gossip has not noticed yet, the probe has.
  std::vector<NodeProbe> probes = {{"127.0.0.2", true}, {"127.0.0.3", false}, {"127.0.0.4", false}};
  const auto view = build_nodes(g, ring({}), probes);
  EXPECT_EQ((*node(view, "127.0.0.2"))["state"], "up");
  EXPECT_EQ((*node(view, "127.0.0.3"))["state"], "down");
  EXPECT_EQ((*node(view, "127.0.0.3"))["status"], "shutdown");
  EXPECT_EQ((*node(view, "127.0.0.4"))["state"], "down");
  EXPECT_EQ((*node(view, "127.0.0.4"))["status"], "NORMAL");
  EXPECT_TRUE((*node(view, "127.0.0.4"))["tokens"].is_null());  // no ring row handed in
}

TEST(CassandraView, JoiningAndLeavingNodes) {
  auto g = gossip({
      gossip_row("127.0.0.2", "NORMAL,1", "1.0", "h2"),
      gossip_row("127.0.0.3", "BOOT,2", "1.0", "h3"),
      gossip_row("127.0.0.4", "LEAVING,3", "1.0", "h4"),
  });
  const auto view = build_nodes(g, ring({}), {});
  EXPECT_EQ((*node(view, "127.0.0.3"))["state"], "joining");
  EXPECT_EQ((*node(view, "127.0.0.3"))["status"], "BOOT");
  EXPECT_EQ((*node(view, "127.0.0.4"))["state"], "leaving");
}

TEST(CassandraView, StatusFallsBackToTheLegacyColumnAndNullsStayNull) {
  // status_with_port null, status set; load unreadable; dc only in the ring tables.
  cql::Rows g = gossip({{"127.0.0.2", "7000", "NORMAL,1", std::nullopt, "n/a", std::nullopt,
                         std::nullopt, std::nullopt, std::nullopt}});
  auto r = ring({{"127.0.0.2", "h2", "dc-ring", "rack-ring", "5.0.8", std::nullopt}});
  const auto view = build_nodes(g, r, {});
  const auto& n = view["nodes"][0];
  EXPECT_EQ(n["status"], "NORMAL");
  EXPECT_EQ(n["state"], "up");
  EXPECT_TRUE(n["load_bytes"].is_null());
  EXPECT_TRUE(n["tokens"].is_null());
  EXPECT_EQ(n["datacenter"], "dc-ring");
  EXPECT_EQ(n["rack"], "rack-ring");
  EXPECT_EQ(n["host_id"], "h2");
  EXPECT_EQ(n["release_version"], "5.0.8");
}

TEST(CassandraView, GossipWinsOverTheRingTablesFieldByField) {
  auto g = gossip({gossip_row("127.0.0.2", "NORMAL,1", "1.0", "h-gossip")});
  auto r = ring({{"127.0.0.2", "h-ring", "dc-ring", "rack-ring", "4.1.0", "{'1'}"}});
  const auto view = build_nodes(g, r, {});
  const auto& n = view["nodes"][0];
  EXPECT_EQ(n["host_id"], "h-gossip");
  EXPECT_EQ(n["datacenter"], "datacenter1");
  EXPECT_EQ(n["release_version"], "5.0.9");
  EXPECT_EQ(n["tokens"], 1);
}

TEST(CassandraView, ProbedNodesAbsentFromGossipStillAppear) {
  auto g = gossip({gossip_row("127.0.0.2", "NORMAL,1", "1.0", "h2")});
  std::vector<NodeProbe> probes = {
      {"127.0.0.2:9042", true}, {"127.0.0.3:9042", true}, {"127.0.0.4:9042", false}};
  const auto view = build_nodes(g, ring({}), probes);
  ASSERT_EQ(view["nodes"].size(), 3u);
  const auto& n3 = *node(view, "127.0.0.3");
  EXPECT_EQ(n3["state"], "joining");
  EXPECT_TRUE(n3["status"].is_null());
  EXPECT_TRUE(n3["host_id"].is_null());
  EXPECT_TRUE(n3["load_bytes"].is_null());
  EXPECT_EQ((*node(view, "127.0.0.4"))["state"], "down");
}

TEST(CassandraView, ARingNodeGossipDoesNotKnowIsDown) {
  auto g = gossip({gossip_row("127.0.0.2", "NORMAL,1", "1.0", "h2")});
  auto r = ring({{"127.0.0.2", "h2", "datacenter1", "rack1", "5.0.9", "{'1'}"},
                 {"127.0.0.3", "h3", "datacenter1", "rack1", "5.0.9", "{'2'}"}});
  const auto view = build_nodes(g, r, {});
  EXPECT_EQ((*node(view, "127.0.0.3"))["state"], "down");
  EXPECT_EQ((*node(view, "127.0.0.3"))["tokens"], 1);
}

TEST(CassandraView, WithoutGossipTheRingTablesAndProbesDecide) {
  auto r = ring({{"127.0.0.2", "h2", "datacenter1", "rack1", "5.0.9", "{'1'}"},
                 {"127.0.0.3", "h3", "datacenter1", "rack1", "5.0.9", "{'2'}"},
                 {"127.0.0.4", "h4", "datacenter1", "rack1", "5.0.9", "{'3'}"}});
  std::vector<NodeProbe> probes = {{"127.0.0.2", true}, {"127.0.0.3", false}};
  const auto view = build_nodes(cql::Rows{}, r, probes);
  EXPECT_EQ((*node(view, "127.0.0.2"))["state"], "up");
  EXPECT_EQ((*node(view, "127.0.0.3"))["state"], "down");
  EXPECT_EQ((*node(view, "127.0.0.4"))["state"], "up");  // listed, not probed
  EXPECT_TRUE((*node(view, "127.0.0.2"))["status"].is_null());
  EXPECT_TRUE((*node(view, "127.0.0.2"))["load_bytes"].is_null());
}

TEST(CassandraView, TheSameNodeTwiceInTheRingTablesIsOneNode) {
  // system.local from one node, peers_v2 from another that lists the first.
  auto r = ring({{"127.0.0.2", "h2", "datacenter1", "rack1", "5.0.9", "{'1','2'}"},
                 {"127.0.0.2", "h2", "datacenter1", "rack1", "5.0.9", "{'1','2'}"},
                 {"127.0.0.4", "h4", "datacenter1", "rack1", "5.0.9", "{'3'}"}});
  const auto view = build_nodes(cql::Rows{}, r, {});
  ASSERT_EQ(view["nodes"].size(), 2u);
  EXPECT_EQ(view["nodes"][0]["tokens"], 2);
}

TEST(CassandraView, IPv6ProbesMatchGossipAddresses) {
  auto g = gossip({gossip_row("::1", "NORMAL,1", "1.0", "h1")});
  const auto view = build_nodes(g, ring({}), {{"[::1]:9042", false}});
  ASSERT_EQ(view["nodes"].size(), 1u);
  EXPECT_EQ(view["nodes"][0]["state"], "down");
}

TEST(CassandraView, NoNodesAtAllIsAnEmptyList) {
  const auto view = build_nodes(cql::Rows{}, cql::Rows{}, {});
  ASSERT_TRUE(view["nodes"].is_array());
  EXPECT_TRUE(view["nodes"].empty());
}

TEST(CassandraView, RingRowsMissingNamesReachableAndNormalNodesWithoutARingRow) {
  auto g = gossip({gossip_row("127.0.0.2", "NORMAL,1", "1.0", "h2"),
                   gossip_row("127.0.0.3", "NORMAL,2", "1.0", "h3"),
                   gossip_row("127.0.0.5", "LEFT,5,1700000000000", "1.0", "h5")});
  // local from .2, peers from .4 (lists .2 and .3, not itself).
  auto r = ring({{"127.0.0.2", "h2", "dc", "r", "5.0.9", "{'1'}"},
                 {"127.0.0.2", "h2", "dc", "r", "5.0.9", "{'1'}"},
                 {"127.0.0.3", "h3", "dc", "r", "5.0.9", "{'2'}"}});
  std::vector<NodeProbe> probes = {{"127.0.0.2:9042", true},
                                   {"127.0.0.3:9042", true},
                                   {"127.0.0.4:9042", true},
                                   {"127.0.0.6:9042", false}};
  EXPECT_EQ(ring_rows_missing(g, r, probes), std::vector<std::string>{"127.0.0.4"});
  r.rows.push_back({"127.0.0.4", "h4", "dc", "r", "5.0.9", "{'4'}"});
  EXPECT_TRUE(ring_rows_missing(g, r, probes).empty());
}

}  // namespace
}  // namespace streamflow::control
