#include "stack/services.h"

#include "stack/detail/service_factories.h"

namespace streamflow::stack {

// What each service is (name, wave, ports, what it needs installed) is said here, in one
// place; how it runs is in its file of services/. Within a wave, services start in this order.
std::vector<std::unique_ptr<Service>> make_services(const Layout& layout) {
  const auto& ports = layout.ports;
  std::vector<std::unique_ptr<Service>> out;
  // Wave 0: the stores, the broker and the source, which need nothing else.
  out.push_back(
      detail::make_postgres(layout, {.name = "postgres", .ports = {{"sql", ports.postgres}}}));
  out.push_back(detail::make_kafka(
      layout, {.name = "kafka",
               .ports = {{"broker", ports.kafka}, {"controller", ports.kafka_controller}},
               .needs_java = true,
               .jars = {{"Kafka", layout.kafka_libs, "kafka_2.13-"}}}));
  out.push_back(detail::make_cassandra(
      layout, {.name = "cassandra",
               .ports = {{"cql", ports.cassandra},
                         {"storage", ports.cassandra_storage},
                         {"jmx", ports.cassandra_jmx}},
               .needs_java = true,
               .jars = {{"Cassandra", layout.cassandra_libs, "cassandra-all-"}}}));
  // Wave 1: the schema registry keeps its schemas in PostgreSQL (Java 21+: its own, checked in
  // its file). Connect keeps its state in Kafka topics and captures PostgreSQL; the Spark job
  // reads the CDC topic (made with Kafka) and writes Cassandra's tables (made with Cassandra).
  out.push_back(detail::make_connect(
      layout, {.name = "connect",
               .wave = 1,
               .ports = {{"rest", ports.connect}},
               .needs_java = true,
               .jars = {{"Kafka Connect", layout.kafka_libs, "connect-runtime-"},
                        {"Debezium PostgreSQL connector",
                         layout.connect_plugins / "debezium-connector-postgres",
                         "debezium-connector-postgres-"}}}));
  if (layout.registry.enabled) {
    out.push_back(detail::make_registry(
        layout, {.name = "registry",
                 .wave = 1,
                 .ports = {{"http", ports.registry}, {"management", ports.registry_management}}}));
  }
  if (layout.mock_api_enabled) {
    out.push_back(detail::make_mock_api(
        layout, {.name = "mock-api", .ports = {{"http", ports.mock_api}}, .runs_self = true}));
  }
  if (layout.spark.enabled) {
    std::vector<NamedPort> ui;
    if (ports.spark_ui != 0) ui.push_back({"ui", ports.spark_ui});
    out.push_back(detail::make_spark(
        layout,
        {.name = "spark",
         .wave = 1,
         .ports = std::move(ui),
         .needs_java = true,
         .jars = {{"the Spark connectors", layout.spark.jars_dir, "spark-sql-kafka-0-10_2.12-"}}}));
  }
  // Wave 2: serve reports on every other stage.
  if (layout.serve_enabled) {
    out.push_back(detail::make_serve(
        layout, {.name = "serve", .wave = 2, .ports = {{"http", ports.serve}}, .runs_self = true}));
  }
  // Airflow: the api-server in wave 1 (after `airflow db migrate`), the rest in wave 2.
  if (layout.airflow.enabled) {
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
    if (probe.healthy && with_facts.count(health.name)) health.facts = service->facts();
    out.push_back(std::move(health));
  }
  return out;
}

}  // namespace streamflow::stack
