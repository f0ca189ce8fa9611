#include "stack/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/catalog.h"
#include "stack/services.h"

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

/// The layout of deploy/cluster-local.yaml's shape, with the test ports.
Layout cluster_layout() {
  auto layout = test_layout();
  auto topology = deploy::parse_topology(R"(
name: cluster-local
zookeeper: {nodes: [127.0.0.2, 127.0.0.3, 127.0.0.4]}
kafka: {nodes: [127.0.0.2, 127.0.0.3, 127.0.0.4], replication_factor: 3, min_insync_replicas: 2}
cassandra: {nodes: [127.0.0.2, 127.0.0.3, 127.0.0.4], replication_factor: 3, seeds: 2}
connect: {nodes: [127.0.0.2, 127.0.0.3]}
spark: {masters: [127.0.0.2, 127.0.0.3], workers: [127.0.0.3, 127.0.0.4], worker_cores: 1}
)",
                                         "/srv/sf/deploy/cluster-local.yaml");
  EXPECT_TRUE(topology.ok()) << (topology ? "" : topology.error().message);
  config::Sources sources;
  sources.working_dir = "/srv/sf";
  sources.overrides = {
      "kafka.port=19092",     "kafka.controller_port=19093",  "connect.port=18083",
      "cassandra.port=19042", "cassandra.storage_port=17000", "cassandra.jmx_port=17199"};
  auto settings = config::Settings::load(config::catalog(), sources);
  EXPECT_TRUE(settings.ok());
  return Layout::from_settings(*settings, topology ? *topology : deploy::Topology{});
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Render, KafkaIsAKraftCombinedNodeOnLoopbackWithItsPorts) {
  auto text = render_kafka_properties(test_layout(), deploy::Node{});
  EXPECT_TRUE(has_line(text, "process.roles=broker,controller"));
  EXPECT_TRUE(has_line(text, "node.id=1"));
  EXPECT_TRUE(has_line(text, "controller.quorum.bootstrap.servers=127.0.0.1:19093"));
  EXPECT_EQ(text.find("broker.heartbeat.interval.ms"), std::string::npos);  // the default, 2 s
  EXPECT_TRUE(has_line(text, "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"));
  EXPECT_TRUE(has_line(text, "controller.listener.names=CONTROLLER"));
  EXPECT_TRUE(has_line(text, "offsets.topic.replication.factor=1"));
  EXPECT_TRUE(has_line(text, "log.dirs=/srv/sf/.streamflow/kafka/data"));
  EXPECT_EQ(text.find("0.0.0.0"), std::string::npos);
}

TEST(Render, ClusterKafkaNodesAreVotersOfOneStaticQuorumWithTheirOwnAddressAndDirectory) {
  const auto layout = cluster_layout();
  const auto& second = layout.topology.kafka[1];
  auto text = render_kafka_properties(layout, second);
  EXPECT_TRUE(has_line(text, "node.id=2"));
  EXPECT_TRUE(has_line(text,
                       "controller.quorum.voters=1@127.0.0.2:19093,2@127.0.0.3:19093,"
                       "3@127.0.0.4:19093"));
  EXPECT_TRUE(has_line(text, "listeners=PLAINTEXT://127.0.0.3:19092,CONTROLLER://127.0.0.3:19093"));
  EXPECT_TRUE(has_line(text, "default.replication.factor=3"));
  EXPECT_TRUE(has_line(text, "min.insync.replicas=2"));
  EXPECT_TRUE(has_line(text, "offsets.topic.replication.factor=3"));
  EXPECT_TRUE(has_line(text, "transaction.state.log.min.isr=2"));
  EXPECT_TRUE(has_line(text, "log.dirs=/srv/sf/.streamflow/kafka-2/data"));
  EXPECT_EQ(text.find("controller.quorum.bootstrap.servers"), std::string::npos);
  // So that a node stopped with all the others hears its controlled shutdown granted in time.
  EXPECT_TRUE(has_line(text, "broker.heartbeat.interval.ms=500"));
  EXPECT_EQ(layout.kafka_bootstrap(), "127.0.0.2:19092,127.0.0.3:19092,127.0.0.4:19092");
  EXPECT_EQ(kafka_argv(layout, second).back(), "/srv/sf/.streamflow/conf/kafka-2.properties");
}

TEST(Render, ClusterConnectWorkersShareOneGroupWithReplicatedStateAndIdempotentProducers) {
  const auto layout = cluster_layout();
  auto text = render_connect_properties(layout, layout.topology.connect[1]);
  EXPECT_TRUE(has_line(text, "bootstrap.servers=127.0.0.2:19092,127.0.0.3:19092,127.0.0.4:19092"));
  EXPECT_TRUE(has_line(text, "group.id=streamflow-connect"));
  EXPECT_TRUE(has_line(text, "offset.storage.replication.factor=3"));
  EXPECT_TRUE(has_line(text, "producer.enable.idempotence=true"));
  EXPECT_TRUE(has_line(text, "producer.acks=all"));
  EXPECT_TRUE(has_line(text, "exactly.once.source.support=enabled"));
  EXPECT_TRUE(has_line(text, "listeners=http://127.0.0.3:18083"));
  EXPECT_TRUE(has_line(text, "rest.advertised.host.name=127.0.0.3"));
}

TEST(Render, ClusterCassandraNodesShareSeedsAndTheKeyspaceIsReplicatedThreeTimes) {
  const auto layout = cluster_layout();
  const auto& third = layout.topology.cassandra[2];
  auto text = render_cassandra_yaml(layout, third);
  EXPECT_TRUE(has_line(text, "listen_address: 127.0.0.4"));
  EXPECT_TRUE(has_line(text, "rpc_address: 127.0.0.4"));
  EXPECT_NE(text.find("seeds: \"127.0.0.2:17000,127.0.0.3:17000\""), std::string::npos);
  EXPECT_TRUE(has_line(text, "allocate_tokens_for_local_replication_factor: 3"));
  auto argv = cassandra_argv(layout, third, "");
  auto has = [&](const std::string& a) {
    return std::find(argv.begin(), argv.end(), a) != argv.end();
  };
  EXPECT_TRUE(has("-Dcassandra.storagedir=/srv/sf/.streamflow/cassandra-3"));
  EXPECT_TRUE(has("-Dcassandra.jmx.local.port=17201"));  // JMX binds 127.0.0.1: a port each
  EXPECT_TRUE(has("-Dcassandra.config=file:///srv/sf/.streamflow/conf/cassandra-3.yaml"));
  EXPECT_EQ(layout.cassandra_replication, "{'class': 'NetworkTopologyStrategy', 'datacenter1': 3}");
  EXPECT_EQ(layout.cassandra_contact_point(), "127.0.0.2:19042,127.0.0.3:19042,127.0.0.4:19042");
}

TEST(Render, ZooKeeperNodesListTheWholeEnsembleAndListenOnTheirOwnAddress) {
  const auto layout = cluster_layout();
  auto text = render_zookeeper_cfg(layout, layout.topology.zookeeper[0]);
  EXPECT_TRUE(has_line(text, "clientPortAddress=127.0.0.2"));
  EXPECT_TRUE(has_line(text, "clientPort=2181"));
  EXPECT_TRUE(has_line(text, "server.1=127.0.0.2:2888:3888"));
  EXPECT_TRUE(has_line(text, "server.3=127.0.0.4:2888:3888"));
  EXPECT_TRUE(has_line(text, "admin.enableServer=false"));
  EXPECT_TRUE(has_line(text, "dataDir=/srv/sf/.streamflow/zookeeper-1/data"));
  EXPECT_EQ(layout.zookeeper_connect(), "127.0.0.2:2181,127.0.0.3:2181,127.0.0.4:2181");
}

TEST(Render, SparkMastersRecoverThroughZooKeeperAndWorkersKnowBoth) {
  const auto layout = cluster_layout();
  auto master = spark_master_argv(layout, layout.topology.spark_masters[1], "/venv/pyspark");
  auto has = [](const std::vector<std::string>& argv, const std::string& a) {
    return std::find(argv.begin(), argv.end(), a) != argv.end();
  };
  EXPECT_TRUE(has(master, "-Dspark.deploy.recoveryMode=ZOOKEEPER"));
  EXPECT_TRUE(
      has(master, "-Dspark.deploy.zookeeper.url=127.0.0.2:2181,127.0.0.3:2181,127.0.0.4:2181"));
  EXPECT_TRUE(has(master, "org.apache.spark.deploy.master.Master"));
  EXPECT_TRUE(has(master, "127.0.0.3"));
  EXPECT_TRUE(has(master, "/venv/pyspark/jars/*"));
  auto worker = spark_worker_argv(layout, layout.topology.spark_workers[0], "/venv/pyspark");
  EXPECT_EQ(worker.back(), "spark://127.0.0.2:7077,127.0.0.3:7077");
  EXPECT_TRUE(has(worker, "--cores"));
  EXPECT_TRUE(has(worker, "1024m"));
  EXPECT_EQ(layout.spark_master_url(), "spark://127.0.0.2:7077,127.0.0.3:7077");
}

TEST(Render, ConnectIsDistributedWithStateInKafkaAndSchemalessJson) {
  auto text = render_connect_properties(test_layout(), deploy::Node{});
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
  auto text = render_cassandra_yaml(test_layout(), deploy::Node{});
  for (const char* key :
       {"commitlog_sync: batch", "commitlog_disk_access_mode: auto",
        "partitioner: org.apache.cassandra.dht.Murmur3Partitioner", "endpoint_snitch: SimpleSnitch",
        "listen_address: 127.0.0.1", "rpc_address: 127.0.0.1", "native_transport_port: 19042",
        "storage_port: 17000"}) {
    EXPECT_TRUE(has_line(text, key)) << key;
  }
  EXPECT_NE(text.find("seeds: \"127.0.0.1:17000\""), std::string::npos);
}

TEST(Render, CassandraCommandHasTheJava17ModuleFlagsAndItsDirs) {
  auto argv = cassandra_argv(test_layout(), deploy::Node{}, "/j/jamm-0.4.0.jar");
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

TEST(Render, JavaOptionsReachEveryProgramAsJavaToolOptions) {
  ProgramSpec jvm;
  jvm.name = "kafka";
  jvm.argv = {"/usr/bin/java", "kafka.Kafka"};
  jvm.env = {{"HOME", "/state"}};
  ProgramSpec bare;
  bare.name = "serve";
  bare.argv = {"/bin/streamflow", "serve"};
  auto layout = test_layout();
  EXPECT_EQ(render_supervisord_conf(layout, {jvm, bare}).find("JAVA_TOOL_OPTIONS"),
            std::string::npos);  // none by default
  layout.java_options = "-XX:TieredStopAtLevel=1 -Xss2m";
  auto text = render_supervisord_conf(layout, {jvm, bare});
  EXPECT_TRUE(has_line(
      text, R"(environment=HOME="/state",JAVA_TOOL_OPTIONS="-XX:TieredStopAtLevel=1 -Xss2m")"));
  EXPECT_TRUE(has_line(text, R"(environment=JAVA_TOOL_OPTIONS="-XX:TieredStopAtLevel=1 -Xss2m")"));
}

TEST(Render, ConnectStopsBeforeTheRegistryAndIsKilledPastAShortStop) {
  auto layout = test_layout();
  layout.stop_timeout_s = 60;
  const auto services = make_services(layout);
  const auto at = [&](const std::string& name) {
    return std::find_if(services.begin(), services.end(),
                        [&](const auto& s) { return s->name() == name; }) -
           services.begin();
  };
  ASSERT_LT(at("registry"), static_cast<std::ptrdiff_t>(services.size()));
  ASSERT_LT(at("connect"), static_cast<std::ptrdiff_t>(services.size()));
  // `down` stops in the reverse order of this list: Connect first, then the registry.
  EXPECT_LT(at("registry"), at("connect"));
  EXPECT_EQ(services[at("connect")]->program().stop_wait_s, 15);
  EXPECT_EQ(services[at("kafka")]->program().stop_wait_s, 60);
  layout.stop_timeout_s = 10;  // a shorter stack-wide timeout holds for Connect too
  for (const auto& s : make_services(layout)) {
    if (s->name() == "connect") {
      EXPECT_EQ(s->program().stop_wait_s, 10);
    }
  }
}

TEST(Render, TheStreamingJobIsToldItsStallTimeout) {
  auto layout = test_layout();
  layout.spark.enabled = true;
  layout.spark.stall_timeout_s = 240;
  bool found = false;
  for (const auto& s : make_services(layout)) {
    if (s->name() != "spark") continue;
    found = true;
    const auto argv = s->program().argv;
    const auto flag = std::find(argv.begin(), argv.end(), "--stall-timeout");
    ASSERT_NE(flag, argv.end());
    ASSERT_NE(std::next(flag), argv.end());
    EXPECT_EQ(*std::next(flag), "240");
  }
  EXPECT_TRUE(found);
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
  // Records and offsets in one transaction: the streaming job reads each change once.
  EXPECT_EQ(config["exactly.once.support"], "required");
  EXPECT_EQ(config["transaction.boundary"], "poll");
  EXPECT_EQ(config["database.password"],
            "${file:/srv/sf/.streamflow/connect/secrets.properties:postgres.password}");
  auto connect = render_connect_properties(test_layout(), deploy::Node{});
  EXPECT_TRUE(has_line(connect, "config.providers=file"));
}

TEST(Render, DebeziumWritesAvroWithItsSchemasInTheRegistryOrSchemalessJson) {
  auto layout = test_layout();
  layout.ports.registry = 18081;
  layout.registry.schema_recheck_s = 5;
  auto avro = nlohmann::json::parse(render_debezium_config(layout));
  for (const std::string side : {"key", "value"}) {
    EXPECT_EQ(avro[side + ".converter"], "io.apicurio.registry.utils.converter.AvroConverter");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.url"],
              "http://127.0.0.1:18081/apis/registry/v2");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.as-confluent"], "true");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.headers.enabled"], "false");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.use-id"], "contentId");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.fault-tolerant-refresh"], "true");
    EXPECT_EQ(avro[side + ".converter.apicurio.registry.check-period-ms"], "5000");
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
