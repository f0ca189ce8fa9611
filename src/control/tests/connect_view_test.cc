#include "control/connect_view.h"

#include <gtest/gtest.h>

namespace streamflow::control {
namespace {

// Kafka Connect 4's answer to GET /connectors?expand=status&expand=info, a task failed.
const char* kExpanded = R"({
  "streamflow-staging": {
    "info": {"name": "streamflow-staging", "type": "source", "tasks": [{"connector": "streamflow-staging", "task": 0}],
             "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                        "database.password": "${file:/x/secrets.properties:password}"}},
    "status": {"name": "streamflow-staging", "type": "source",
               "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083"},
               "tasks": [{"id": 1, "state": "RUNNING", "worker_id": "127.0.0.3:8083"},
                         {"id": 0, "state": "FAILED", "worker_id": "127.0.0.2:8083",
                          "trace": "org.apache.kafka.connect.errors.ConnectException: boom\n\tat x"}]}
  },
  "another": {"status": {"connector": {"state": "PAUSED", "worker_id": "127.0.0.2:8083"}, "tasks": []},
              "info": {"config": {}}}
})";

TEST(ConnectView, ConnectorsWithTasksWorkersAndTraces) {
  auto r = parse_connectors(kExpanded);
  ASSERT_TRUE(r) << r.error().describe();
  const auto& list = (*r)["connectors"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "another");
  EXPECT_EQ(list[0]["state"], "PAUSED");
  const auto& c = list[1];
  EXPECT_EQ(c["name"], "streamflow-staging");
  EXPECT_EQ(c["type"], "source");
  EXPECT_EQ(c["class"], "io.debezium.connector.postgresql.PostgresConnector");
  EXPECT_EQ(c["state"], "RUNNING");
  EXPECT_EQ(c["worker_id"], "127.0.0.1:8083");
  ASSERT_EQ(c["tasks"].size(), 2u);
  EXPECT_EQ(c["tasks"][0]["id"], 0);  // sorted by id
  EXPECT_EQ(c["tasks"][0]["state"], "FAILED");
  EXPECT_NE(c["tasks"][0]["trace"].get<std::string>().find("boom"), std::string::npos);
  EXPECT_EQ(c["tasks"][1]["trace"], "");
  // The config is never shown (it may name secrets).
  EXPECT_EQ(r->dump().find("secrets.properties"), std::string::npos);
}

TEST(ConnectView, NotAnAnswerIsADataError) {
  EXPECT_FALSE(parse_connectors("[]"));
  EXPECT_FALSE(parse_connectors("<html>"));
}

TEST(ConnectView, WorkersCountWhatTheyRun) {
  auto r = parse_connectors(kExpanded);
  ASSERT_TRUE(r);
  const auto w = workers_json({{"127.0.0.2:8083", true}, {"127.0.0.3:8083", false}}, *r);
  EXPECT_EQ(w[0]["connectors"], 1);
  EXPECT_EQ(w[0]["tasks"], 1);
  EXPECT_EQ(w[1]["up"], false);
  EXPECT_EQ(w[1]["tasks"], 1);
}

TEST(ConnectView, OnlyPlainNamesAreActedOn) {
  EXPECT_TRUE(is_plain_connector_name("streamflow-users_v2.1"));
  EXPECT_FALSE(is_plain_connector_name(""));
  EXPECT_FALSE(is_plain_connector_name("a/../b"));
  EXPECT_FALSE(is_plain_connector_name("a?x=1"));
  EXPECT_FALSE(is_plain_connector_name("a b"));
  EXPECT_FALSE(is_plain_connector_name(".."));
  EXPECT_FALSE(is_plain_connector_name("."));
  EXPECT_TRUE(is_plain_connector_name("a.."));
}

}  // namespace
}  // namespace streamflow::control
