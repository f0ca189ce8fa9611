#include "control/postgres_view.h"

#include <gtest/gtest.h>

namespace streamflow::control {
namespace {

const std::optional<std::string> kNull;

TEST(PostgresView, ALogicalSlotWithRetainedWal) {
  std::vector<TextRow> slots = {{"streamflow_debezium", "pgoutput", "logical", "streamflow", "t",
                                 "4242", "1048576", "8192", "reserved"}};
  const auto v = build_postgres_overview(slots, {}, "100");
  ASSERT_EQ(v["slots"].size(), 1u);
  const auto& s = v["slots"][0];
  EXPECT_EQ(s["name"], "streamflow_debezium");
  EXPECT_EQ(s["plugin"], "pgoutput");
  EXPECT_EQ(s["type"], "logical");
  EXPECT_EQ(s["database"], "streamflow");
  EXPECT_EQ(s["active"], true);
  EXPECT_EQ(s["active_pid"], 4242);
  EXPECT_EQ(s["retained_wal_bytes"], 1048576);
  EXPECT_EQ(s["unconfirmed_bytes"], 8192);
  EXPECT_EQ(s["wal_status"], "reserved");
  EXPECT_EQ(v["max_connections"], 100);
  EXPECT_EQ(v["connections_total"], 0);
  EXPECT_TRUE(v["connections"].is_array());
  EXPECT_TRUE(v["connections"].empty());
}

TEST(PostgresView, AnInactivePhysicalSlotHasNullsWhereItsLsnsAre) {
  // Physical: no plugin, database or confirmed_flush_lsn; inactive: no pid; "lost": no
  // restart_lsn any more.
  std::vector<TextRow> slots = {
      {"standby_1", kNull, "physical", kNull, "f", kNull, kNull, kNull, "lost"}};
  const auto v = build_postgres_overview(slots, {}, "100");
  const auto& s = v["slots"][0];
  EXPECT_EQ(s["active"], false);
  EXPECT_TRUE(s["plugin"].is_null());
  EXPECT_TRUE(s["database"].is_null());
  EXPECT_TRUE(s["active_pid"].is_null());
  EXPECT_TRUE(s["retained_wal_bytes"].is_null());
  EXPECT_TRUE(s["unconfirmed_bytes"].is_null());
  EXPECT_EQ(s["wal_status"], "lost");
}

TEST(PostgresView, NumericDifferencesWithAFractionOfZerosAreWholeBytes) {
  std::vector<TextRow> slots = {
      {"a", "pgoutput", "logical", "db", "t", "1", "123.000", "0", "extended"},
      {"b", "pgoutput", "logical", "db", "t", "1", "12.5", "-16", "unreserved"},
      {"c", "pgoutput", "logical", "db", "x", "pid?", "", "99999999999999999999", kNull}};
  const auto v = build_postgres_overview(slots, {}, kNull);
  EXPECT_EQ(v["slots"][0]["retained_wal_bytes"], 123);
  EXPECT_EQ(v["slots"][0]["unconfirmed_bytes"], 0);
  EXPECT_TRUE(v["slots"][1]["retained_wal_bytes"].is_null());  // a fraction: not bytes
  // Negative: the slot confirmed past the current LSN (a standby's view), kept as told.
  EXPECT_EQ(v["slots"][1]["unconfirmed_bytes"], -16);
  EXPECT_TRUE(v["slots"][2]["active"].is_null());
  EXPECT_TRUE(v["slots"][2]["active_pid"].is_null());
  EXPECT_TRUE(v["slots"][2]["retained_wal_bytes"].is_null());
  EXPECT_TRUE(v["slots"][2]["unconfirmed_bytes"].is_null());  // out of range: unknown, not 0
  EXPECT_TRUE(v["slots"][2]["wal_status"].is_null());
  EXPECT_TRUE(v["max_connections"].is_null());
}

TEST(PostgresView, ConnectionsAreGroupedAndSummed) {
  std::vector<TextRow> connections = {
      {"streamflow", "streamflow", "streamflow-ingest", "idle", "3"},
      {"streamflow", "streamflow", "", "active", "1"},
      {"airflow", "airflow", "airflow-scheduler", "idle in transaction", "12"},
      {"postgres", kNull, kNull, kNull, "2"}};
  const auto v = build_postgres_overview({}, connections, "200");
  ASSERT_EQ(v["connections"].size(), 4u);
  EXPECT_EQ(v["connections"][0], (nlohmann::json{{"database", "streamflow"},
                                                 {"user", "streamflow"},
                                                 {"application", "streamflow-ingest"},
                                                 {"state", "idle"},
                                                 {"count", 3}}));
  EXPECT_EQ(v["connections"][1]["application"], "");  // empty, not null: libpq's default
  EXPECT_EQ(v["connections"][2]["state"], "idle in transaction");
  EXPECT_TRUE(v["connections"][3]["user"].is_null());
  EXPECT_TRUE(v["connections"][3]["state"].is_null());
  EXPECT_EQ(v["connections_total"], 18);
  EXPECT_EQ(v["max_connections"], 200);
  EXPECT_TRUE(v["slots"].is_array());
  EXPECT_TRUE(v["slots"].empty());
}

TEST(PostgresView, ShortRowsReadAsNullsNotGarbage) {
  std::vector<TextRow> slots = {{"only_a_name"}};
  std::vector<TextRow> connections = {{"db", "user"}};
  const auto v = build_postgres_overview(slots, connections, "not a number");
  EXPECT_EQ(v["slots"][0]["name"], "only_a_name");
  EXPECT_TRUE(v["slots"][0]["wal_status"].is_null());
  EXPECT_TRUE(v["connections"][0]["count"].is_null());
  EXPECT_EQ(v["connections_total"], 0);
  EXPECT_TRUE(v["max_connections"].is_null());
}

}  // namespace
}  // namespace streamflow::control
