#include "stack/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/catalog.h"

namespace streamflow::stack {
namespace {

Layout test_layout() {
  config::Sources sources;
  sources.working_dir = "/srv/sf";
  sources.overrides = {"postgres.port=15432",         "kafka.port=19092",
                       "kafka.controller_port=19093", "connect.port=18083",
                       "cassandra.port=19042",        "cassandra.storage_port=17000",
                       "cassandra.jmx_port=17199"};
  auto settings = config::Settings::load(config::catalog(), sources);
  EXPECT_TRUE(settings.ok());
  return Layout::from_settings(*settings);
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Render, KafkaIsAKraftCombinedNodeOnLoopbackWithItsPorts) {
  auto text = render_kafka_properties(test_layout());
  EXPECT_TRUE(has_line(text, "process.roles=broker,controller"));
  EXPECT_TRUE(has_line(text, "node.id=1"));
  EXPECT_TRUE(has_line(text, "controller.quorum.bootstrap.servers=127.0.0.1:19093"));
  EXPECT_TRUE(has_line(text, "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"));
  EXPECT_TRUE(has_line(text, "controller.listener.names=CONTROLLER"));
  EXPECT_TRUE(has_line(text, "offsets.topic.replication.factor=1"));
  EXPECT_TRUE(has_line(text, "log.dirs=/srv/sf/.streamflow/kafka/data"));
  EXPECT_EQ(text.find("0.0.0.0"), std::string::npos);
}

TEST(Render, ConnectIsDistributedWithStateInKafkaAndSchemalessJson) {
  auto text = render_connect_properties(test_layout());
  EXPECT_TRUE(has_line(text, "bootstrap.servers=127.0.0.1:19092"));
  EXPECT_TRUE(has_line(text, "config.storage.replication.factor=1"));
  EXPECT_TRUE(has_line(text, "offset.storage.topic=streamflow-connect-offsets"));
  EXPECT_TRUE(has_line(text, "value.converter.schemas.enable=false"));
  EXPECT_TRUE(has_line(text, "listeners=http://127.0.0.1:18083"));
  EXPECT_TRUE(has_line(text, "plugin.path=/srv/sf/.deps/connect-plugins"));
  // The single worker gets its connector back at once after losing its group membership.
  EXPECT_TRUE(has_line(text, "scheduled.rebalance.max.delay.ms=0"));
  // Change events leave Connect in large produce requests, not ten to a request.
  EXPECT_TRUE(has_line(text, "producer.batch.size=262144"));
  EXPECT_TRUE(has_line(text, "producer.linger.ms=5"));
}

TEST(Render, CassandraYamlHasTheRequiredKeys) {
  auto text = render_cassandra_yaml(test_layout());
  for (const char* key :
       {"commitlog_sync: periodic", "commitlog_sync_period: 10000ms",
        "partitioner: org.apache.cassandra.dht.Murmur3Partitioner", "endpoint_snitch: SimpleSnitch",
        "listen_address: 127.0.0.1", "rpc_address: 127.0.0.1", "native_transport_port: 19042",
        "storage_port: 17000"}) {
    EXPECT_TRUE(has_line(text, key)) << key;
  }
  EXPECT_NE(text.find("seeds: \"127.0.0.1:17000\""), std::string::npos);
}

TEST(Render, CassandraCommandHasTheJava17ModuleFlagsAndItsDirs) {
  auto argv = cassandra_argv(test_layout(), "/j/jamm-0.4.0.jar");
  auto has = [&](const std::string& a) {
    return std::find(argv.begin(), argv.end(), a) != argv.end();
  };
  EXPECT_TRUE(has("java.base/sun.nio.ch=ALL-UNNAMED"));  // DirectBuffer.cleaner needs this
  EXPECT_TRUE(has("-Dcassandra.storagedir=/srv/sf/.streamflow/cassandra"));
  EXPECT_TRUE(has("-Dcassandra.jmx.local.port=17199"));
  EXPECT_TRUE(has("-javaagent:/j/jamm-0.4.0.jar"));
  EXPECT_TRUE(has("-Xmx2048m"));
  EXPECT_EQ(argv.back(), "org.apache.cassandra.service.CassandraDaemon");
}

TEST(Render, PostgresRunsWithLogicalWalOnLoopback) {
  auto argv = postgres_argv(test_layout());
  auto has = [&](const std::string& a) {
    return std::find(argv.begin(), argv.end(), a) != argv.end();
  };
  EXPECT_TRUE(has("wal_level=logical"));
  EXPECT_TRUE(has("listen_addresses=127.0.0.1"));
  EXPECT_TRUE(has("port=15432"));
  EXPECT_TRUE(has("max_replication_slots=10"));
}

TEST(Render, SupervisorQuotingSurvivesSpacesAndPercent) {
  EXPECT_EQ(supervisor_quote("/plain/path"), "/plain/path");
  EXPECT_EQ(supervisor_quote("/lib dir/*"), "\"/lib dir/*\"");
  EXPECT_EQ(supervisor_quote("50%"), "50%%");
  EXPECT_EQ(supervisor_quote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(supervisor_escape("/logs/x%y"), "/logs/x%%y");
}

TEST(Render, SupervisordProgramsStartWithUpAndRestartWithBackoff) {
  ProgramSpec p;
  p.name = "kafka";
  p.argv = {"/usr/bin/java", "-cp", "/deps/kafka/*", "kafka.Kafka"};
  p.directory = "/state";
  p.user = "streamflow";
  p.stop_signal = "INT";
  p.log_file = "/state/logs/kafka.log";
  p.env = {{"HOME", "/state"}};
  auto text = render_supervisord_conf(test_layout(), {p});
  EXPECT_TRUE(has_line(text, "[program:kafka]"));
  EXPECT_TRUE(has_line(text, "command=/usr/bin/java -cp /deps/kafka/* kafka.Kafka"));
  EXPECT_TRUE(has_line(text, "autostart=false"));  // `up` starts the waves in order
  // A node that dies is started again; one that keeps dying at once is given up.
  EXPECT_TRUE(has_line(text, "autorestart=true"));
  EXPECT_TRUE(has_line(text, "startsecs=10"));
  EXPECT_TRUE(has_line(text, "startretries=5"));
  EXPECT_TRUE(has_line(text, "stopsignal=INT"));
  EXPECT_TRUE(has_line(text, "killasgroup=true"));
  EXPECT_TRUE(has_line(text, "user=streamflow"));
  EXPECT_TRUE(has_line(text, "stdout_logfile=/state/logs/kafka.log"));
  EXPECT_TRUE(has_line(text, "environment=HOME=\"/state\""));
  EXPECT_TRUE(has_line(text, "file=/srv/sf/.streamflow/run/supervisor.sock"));
}

TEST(Render, DebeziumConnectorCapturesStagingUsersWithoutAPasswordInClear) {
  auto config = nlohmann::json::parse(render_debezium_config(test_layout()));
  EXPECT_EQ(config["connector.class"], "io.debezium.connector.postgresql.PostgresConnector");
  EXPECT_EQ(config["plugin.name"], "pgoutput");
  EXPECT_EQ(config["database.port"], "15432");
  EXPECT_EQ(config["table.include.list"], "staging.users");
  EXPECT_EQ(config["topic.prefix"], "streamflow");
  EXPECT_EQ(config["slot.name"], "streamflow_cdc");
  EXPECT_EQ(config["publication.autocreate.mode"], "filtered");  // all_tables needs a superuser
  EXPECT_EQ(config["max.batch.size"], "8192");
  EXPECT_EQ(config["max.queue.size"], "32768");  // Debezium wants it above max.batch.size
  EXPECT_EQ(config["database.password"],
            "${file:/srv/sf/.streamflow/connect/secrets.properties:postgres.password}");
  auto connect = render_connect_properties(test_layout());
  EXPECT_TRUE(has_line(connect, "config.providers=file"));
}

TEST(Render, DebeziumWritesAvroWithItsSchemasInTheRegistryOrSchemalessJson) {
  auto layout = test_layout();
  layout.ports.registry = 18081;
  auto avro = nlohmann::json::parse(render_debezium_config(layout));
  for (const std::string side : {"key", "value"}) {
    EXPECT_EQ(avro[side + ".converter"], "io.apicurio.registry.utils.converter.AvroConverter");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.url"],
              "http://127.0.0.1:18081/apis/registry/v2");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.as-confluent"], "true");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.headers.enabled"], "false");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.use-id"], "contentId");
  }
  layout.cdc_format = "json";
  auto json = nlohmann::json::parse(render_debezium_config(layout));
  EXPECT_EQ(json["value.converter"], "org.apache.kafka.connect.json.JsonConverter");
  EXPECT_EQ(json["value.converter.schemas.enable"], "false");
  EXPECT_FALSE(json.contains("value.converter.apicurio.registry.url"));
}

TEST(Render, PropertiesEscapeWhatJavaPropertiesParse) {
  auto text = render_properties({{"postgres.password", "a=b:c#d\\e !f"}});
  EXPECT_NE(text.find("\npostgres.password=a\\=b\\:c\\#d\\\\e \\!f\n"), std::string::npos) << text;
  EXPECT_NE(render_properties({{"k", " lead"}}).find("k=\\ lead"), std::string::npos);
}

}  // namespace
}  // namespace streamflow::stack
