#include "deploy/layout.h"

#include <unistd.h>

namespace streamflow::deploy {

std::filesystem::path registry_java(const std::filesystem::path& java_home,
                                    const std::filesystem::path& deps_dir) {
  if (!java_home.empty()) return java_home / "bin" / "java";
  const std::filesystem::path candidates[] = {
      "/usr/lib/jvm/temurin-25-jdk-amd64", "/usr/lib/jvm/java-21-openjdk-amd64", deps_dir / "jdk"};
  std::error_code ec;
  for (const auto& home : candidates) {
    if (std::filesystem::exists(home / "bin" / "java", ec)) return home / "bin" / "java";
  }
  return deps_dir / "jdk" / "bin" / "java";  // named in check_installed's error
}

std::string Layout::kafka_bootstrap() const { return host_ports(topology.kafka, ports.kafka); }
std::string Layout::cassandra_contact_point() const {
  return host_ports(topology.cassandra, ports.cassandra);
}
std::string Layout::zookeeper_connect() const {
  return host_ports(topology.zookeeper, ports.zookeeper);
}
std::string Layout::spark_master_url() const {
  if (topology.spark_masters.empty()) return spark.master;
  return "spark://" + host_ports(topology.spark_masters, ports.spark_master);
}

base::Result<Layout> Layout::load(const config::Settings& settings) {
  const auto file = settings.get_path("topology");
  if (file.empty()) return from_settings(settings);
  auto topology = load_topology(file);
  if (!topology) return topology.error();
  return from_settings(settings, std::move(*topology));
}

Layout Layout::from_settings(const config::Settings& s, Topology topology) {
  Layout l;
  l.settings = s;
  l.topology = std::move(topology);
  l.state_dir = s.get_path("state_dir");
  l.conf_dir = l.state_dir / "conf";
  l.logs_dir = l.state_dir / "logs";
  l.run_dir = l.state_dir / "run";
  l.secrets_dir = l.state_dir / "secrets";
  l.postgres_data = l.state_dir / "postgres" / "data";
  l.deps_dir = s.get_path("deps_dir");
  l.kafka_libs = l.deps_dir / "kafka";
  l.cassandra_libs = l.deps_dir / "cassandra";
  l.zookeeper_libs = l.deps_dir / "zookeeper";
  l.connect_plugins = l.deps_dir / "connect-plugins";
  l.java = s.get_path("java_home") / "bin" / "java";
  l.java_options = s.get("java_options");
  l.postgres_bin_dir = s.get_path("postgres.bin_dir");
  l.postgres_database = s.get("postgres.database");
  l.postgres_user = s.get("postgres.user");
  std::error_code ec;
  l.self_exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  l.migrations_dir = s.get_path("postgres.migrations_dir");
  l.cql_migrations_dir = s.get_path("cassandra.migrations_dir");
  l.cassandra_keyspace = s.get("cassandra.keyspace");
  l.cassandra_replication = s.get("cassandra.replication");
  l.mock_api_enabled = s.get_bool("mock_api.enabled");
  l.cdc_enabled = s.get_bool("cdc.enabled");
  l.cdc_connector = s.get("cdc.connector");
  l.cdc_topic_prefix = s.get("cdc.topic_prefix");
  l.cdc_slot = s.get("cdc.slot");
  l.cdc_heartbeat_ms = static_cast<int>(s.get_int("cdc.heartbeat_ms"));
  l.cdc_format = s.get("cdc.format");
  l.mock_api_threads = static_cast<int>(s.get_int("mock_api.threads"));
  l.ports.mock_api = static_cast<int>(s.get_int("mock_api.port"));
  l.spark.enabled = s.get_bool("spark.enabled");
  l.spark.master = s.get("spark.master");
  l.spark.python = s.get_path("spark.python");
  l.spark.job_dir = s.get_path("spark.job_dir");
  l.spark.jars_dir = l.deps_dir / "spark-jars";
  l.spark.driver_memory = s.get("spark.driver_memory");
  l.spark.dlq_topic = s.get("spark.dlq_topic");
  l.spark.trigger = s.get("spark.trigger");
  l.spark.analytics_trigger = s.get("spark.analytics_trigger");
  l.spark.watermark = s.get("spark.watermark");
  l.spark.max_offsets_per_trigger = s.get_int("spark.max_offsets_per_trigger");
  l.spark.shuffle_partitions = static_cast<int>(s.get_int("spark.shuffle_partitions"));
  l.spark.write_batch_rows = static_cast<int>(s.get_int("spark.write_batch_rows"));
  l.spark.write_concurrency = static_cast<int>(s.get_int("spark.write_concurrency"));
  l.spark.stall_timeout_s = static_cast<int>(s.get_int("spark.stall_timeout_s"));
  l.ports.spark_ui = static_cast<int>(s.get_int("spark.ui_port"));
  l.airflow.enabled = s.get_bool("airflow.enabled");
  l.airflow.venv = s.get_path("airflow.venv");
  l.airflow.dags_dir = s.get_path("airflow.dags_dir");
  l.airflow.database = s.get("airflow.database");
  l.airflow.parallelism = static_cast<int>(s.get_int("airflow.parallelism"));
  l.airflow.admin_user = s.get("airflow.admin_user");
  l.ports.airflow = static_cast<int>(s.get_int("airflow.port"));
  l.serve_enabled = s.get_bool("serve.enabled");
  l.ports.serve = static_cast<int>(s.get_int("serve.port"));
  l.registry.enabled = s.get_bool("registry.enabled");
  l.registry.java = registry_java(s.get_path("registry.java_home"), l.deps_dir);
  l.registry.home = l.deps_dir / "registry";
  l.registry.heap_mb = static_cast<int>(s.get_int("registry.heap_mb"));
  l.registry.database = s.get("registry.database");
  l.registry.compatibility = s.get("registry.compatibility");
  l.registry.schema_recheck_s = static_cast<int>(s.get_int("registry.schema_recheck_s"));
  l.ports.registry = static_cast<int>(s.get_int("registry.port"));
  l.ports.registry_management = static_cast<int>(s.get_int("registry.management_port"));
  if (geteuid() == 0) l.service_user = s.get("service_user");
  l.kafka_heap_mb = static_cast<int>(s.get_int("kafka.heap_mb"));
  l.kafka_partitions = static_cast<int>(s.get_int("kafka.partitions"));
  l.connect_heap_mb = static_cast<int>(s.get_int("connect.heap_mb"));
  l.cassandra_heap_mb = static_cast<int>(s.get_int("cassandra.heap_mb"));
  l.start_timeout_s = static_cast<int>(s.get_int("stack.start_timeout_s"));
  l.stop_timeout_s = static_cast<int>(s.get_int("stack.stop_timeout_s"));
  l.ports.postgres = static_cast<int>(s.get_int("postgres.port"));
  l.ports.kafka = static_cast<int>(s.get_int("kafka.port"));
  l.ports.kafka_controller = static_cast<int>(s.get_int("kafka.controller_port"));
  l.ports.connect = static_cast<int>(s.get_int("connect.port"));
  l.ports.cassandra = static_cast<int>(s.get_int("cassandra.port"));
  l.ports.cassandra_storage = static_cast<int>(s.get_int("cassandra.storage_port"));
  l.ports.cassandra_jmx = static_cast<int>(s.get_int("cassandra.jmx_port"));
  l.ports.zookeeper = static_cast<int>(s.get_int("zookeeper.port"));
  l.ports.zookeeper_quorum = static_cast<int>(s.get_int("zookeeper.quorum_port"));
  l.ports.zookeeper_election = static_cast<int>(s.get_int("zookeeper.election_port"));
  l.ports.spark_master = static_cast<int>(s.get_int("spark.master_port"));
  l.ports.spark_master_ui = static_cast<int>(s.get_int("spark.master_ui_port"));
  l.ports.spark_worker = static_cast<int>(s.get_int("spark.worker_port"));
  l.ports.spark_worker_ui = static_cast<int>(s.get_int("spark.worker_ui_port"));
  const auto& t = l.topology;
  if (t.kafka_heap_mb > 0) l.kafka_heap_mb = t.kafka_heap_mb;
  if (t.cassandra_heap_mb > 0) l.cassandra_heap_mb = t.cassandra_heap_mb;
  if (t.connect_heap_mb > 0) l.connect_heap_mb = t.connect_heap_mb;
  if (t.clustered()) {
    // The keyspace replicated as the topology says, whatever cassandra.replication says (an
    // existing keyspace keeps its own). datacenter1 is the data centre of SimpleSnitch.
    l.cassandra_replication = "{'class': 'NetworkTopologyStrategy', 'datacenter1': " +
                              std::to_string(t.cassandra_replication_factor) + "}";
  }
  return l;
}

}  // namespace streamflow::deploy
