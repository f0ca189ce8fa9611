#include "stack/services.h"

#include "stack/detail/service_factories.h"

namespace streamflow::stack {

// What each service is (name, wave, ports, what it needs installed) is said here, in one
// place; how it runs is in its file of services/. Within a wave, services start in this order.
std::vector<std::unique_ptr<Service>> make_services(const Layout& layout) {
  const auto& ports = layout.ports;
  const auto& topology = layout.topology;
  // This host starts the nodes whose address is its own (every node, on one machine).
  const bool single_here = deploy::is_own_address(topology.single_host);
  const auto here = [](const std::vector<deploy::Node>& nodes) {
    std::vector<deploy::Node> out;
    for (const auto& n : nodes) {
      if (deploy::is_own_address(n.host)) out.push_back(n);
    }
    return out;
  };
  std::vector<std::unique_ptr<Service>> out;
  // Wave 0: the stores, the broker, the coordination service and the source, which need
  // nothing else.
  if (single_here) {
    out.push_back(detail::make_postgres(
        layout, {.name = "postgres", .ports = {{"sql", ports.postgres, topology.single_host}}}));
  }
  for (const auto& node : here(topology.zookeeper)) {
    out.push_back(detail::make_zookeeper(
        layout, {.name = layout.node_name("zookeeper", node),
                 .ports = {{"client", ports.zookeeper, node.host},
                           {"quorum", ports.zookeeper_quorum, node.host},
                           {"election", ports.zookeeper_election, node.host}},
                 .needs_java = true,
                 .jars = {{"ZooKeeper", layout.zookeeper_libs, "zookeeper-"}},
                 .node = node}));
  }
  for (const auto& node : here(topology.kafka)) {
    out.push_back(
        detail::make_kafka(layout, {.name = layout.node_name("kafka", node),
                                    .ports = {{"broker", ports.kafka, node.host},
                                              {"controller", ports.kafka_controller, node.host}},
                                    .needs_java = true,
                                    .jars = {{"Kafka", layout.kafka_libs, "kafka_2.13-"}},
                                    .node = node}));
  }
  // A ring's nodes join one at a time, each once the one before it is up.
  std::string previous_cassandra;
  for (const auto& node : here(topology.cassandra)) {
    const auto name = layout.node_name("cassandra", node);
    out.push_back(detail::make_cassandra(
        layout, {.name = name,
                 .ports = {{"cql", ports.cassandra, node.host},
                           {"storage", ports.cassandra_storage, node.host},
                           {"jmx", layout.cassandra_jmx_port(node)}},
                 .needs_java = true,
                 .jars = {{"Cassandra", layout.cassandra_libs, "cassandra-all-"}},
                 .node = node,
                 .start_after = previous_cassandra}));
    previous_cassandra = name;
  }
  // Wave 1: the schema registry keeps its schemas in PostgreSQL (Java 21+: its own, checked in
  // its file). Connect keeps its state in Kafka topics and captures PostgreSQL; the Spark job
  // reads the CDC topic (made with Kafka) and writes Cassandra's tables (made with Cassandra).
  // The Spark masters elect their leader in ZooKeeper; the workers register with it.
  for (const auto& node : here(topology.spark_masters)) {
    out.push_back(
        detail::make_spark_master(layout, {.name = layout.node_name("spark-master", node),
                                           .wave = 1,
                                           .ports = {{"master", ports.spark_master, node.host},
                                                     {"ui", ports.spark_master_ui, node.host}},
                                           .needs_java = true,
                                           .node = node}));
  }
  for (const auto& node : here(topology.spark_workers)) {
    out.push_back(
        detail::make_spark_worker(layout, {.name = layout.node_name("spark-worker", node),
                                           .wave = 1,
                                           .ports = {{"worker", ports.spark_worker, node.host},
                                                     {"ui", ports.spark_worker_ui, node.host}},
                                           .needs_java = true,
                                           .node = node}));
  }
  // The registry before Connect, whose converter asks it for schema ids: `down` stops in
  // the reverse order, so Connect never converts a change while the registry is gone.
  if (single_here && layout.registry.enabled) {
    out.push_back(detail::make_registry(
        layout, {.name = "registry",
                 .wave = 1,
                 .ports = {{"http", ports.registry}, {"management", ports.registry_management}}}));
  }
  for (const auto& node : here(topology.connect)) {
    out.push_back(detail::make_connect(
        layout, {.name = layout.node_name("connect", node),
                 .wave = 1,
                 .ports = {{"rest", ports.connect, node.host}},
                 .needs_java = true,
                 .jars = {{"Kafka Connect", layout.kafka_libs, "connect-runtime-"},
                          {"Debezium PostgreSQL connector",
                           layout.connect_plugins / "debezium-connector-postgres",
                           "debezium-connector-postgres-"}},
                 .node = node}));
  }
  if (single_here && layout.mock_api_enabled) {
    out.push_back(detail::make_mock_api(
        layout, {.name = "mock-api", .ports = {{"http", ports.mock_api}}, .runs_self = true}));
  }
  if (single_here && layout.spark.enabled) {
    std::vector<NamedPort> ui;
    if (ports.spark_ui != 0) ui.push_back({"ui", ports.spark_ui});
    out.push_back(detail::make_spark(
        layout,
        {.name = "spark",
         // On a Spark cluster, once its workers have registered (wave 1).
         .wave = topology.spark_masters.empty() ? 1 : 2,
         .ports = std::move(ui),
         .needs_java = true,
         .jars = {{"the Spark connectors", layout.spark.jars_dir, "spark-sql-kafka-0-10_2.12-"}}}));
  }
  // Wave 2: serve reports on every other stage.
  if (single_here && layout.serve_enabled) {
    out.push_back(detail::make_serve(
        layout, {.name = "serve", .wave = 2, .ports = {{"http", ports.serve}}, .runs_self = true}));
  }
  // Airflow: the api-server in wave 1 (after `airflow db migrate`), the rest in wave 2.
  if (single_here && layout.airflow.enabled) {
    for (auto& component : detail::make_airflow(layout)) out.push_back(std::move(component));
  }
  return out;
}

std::vector<ServiceHealth> probe_services(const Layout& layout,
                                          const std::set<std::string>& with_facts) {
  std::vector<ServiceHealth> out;
  for (const auto& service : make_services(layout)) {
    const auto probe = service->probe();
    ServiceHealth health{service->name(), probe.healthy, probe.detail, {}};
    // Facts asked for an engine come from each of its nodes ("connect": connect-1, connect-2).
    if (probe.healthy &&
        (with_facts.count(health.name) || with_facts.count(deploy::engine_of(health.name))))
      health.facts = service->facts();
    out.push_back(std::move(health));
  }
  return out;
}

}  // namespace streamflow::stack
