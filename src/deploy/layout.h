#pragma once
/// Where everything of a StreamFlow deployment lives and which ports it uses, derived once from
/// the settings and the topology (which node of which engine runs where): what `up` starts, and
/// what every other command (serve, bench, watch, ingest through Airflow) needs to find the
/// services. A plain value: cheap to copy; only `load` reads a file (the topology).

#include <filesystem>
#include <optional>
#include <string>

#include "base/fs.h"
#include "base/result.h"
#include "config/settings.h"
#include "deploy/topology.h"

namespace streamflow::deploy {

struct Ports {
  int postgres = 5432;
  int kafka = 9092;
  int kafka_controller = 9093;
  int connect = 8083;
  int cassandra = 9042;
  int cassandra_storage = 7000;
  int cassandra_jmx = 7199;
  int mock_api = 8787;
  int spark_ui = 4040;  ///< 0: no Spark UI
  int airflow = 8080;
  int serve = 8090;
  int registry = 8081;
  int registry_management = 9001;
  // Every node of an engine uses these on its own address (the cluster layout).
  int zookeeper = 2181;
  int zookeeper_quorum = 2888;
  int zookeeper_election = 3888;
  int spark_master = 7077;
  int spark_master_ui = 8180;
  int spark_worker = 7078;
  int spark_worker_ui = 8181;
};

/// How `up` runs Airflow (settings airflow.*).
struct Airflow {
  bool enabled = true;
  std::filesystem::path venv;
  std::filesystem::path dags_dir;
  std::string database;  ///< also the name of its PostgreSQL role
  int parallelism = 4;
  std::string admin_user;
};

/// How `up` runs the streaming job (settings spark.*).
struct SparkJob {
  bool enabled = true;
  std::string master;
  std::filesystem::path python;
  std::filesystem::path job_dir;
  std::filesystem::path jars_dir;
  std::string driver_memory;
  std::string dlq_topic;
  std::string trigger;
  std::string analytics_trigger;
  std::string watermark;
  long long max_offsets_per_trigger = 200000;
  int shuffle_partitions = 4;
  int write_batch_rows = 20;
  int write_concurrency = 16;
  int stall_timeout_s = 180;
};

/// How `up` runs the schema registry (settings registry.*).
struct Registry {
  bool enabled = true;
  std::filesystem::path java;  ///< Java 21+ (the registry's own; the others run on Java 17)
  std::filesystem::path home;  ///< the unpacked Apicurio Registry (quarkus-run.jar)
  int heap_mb = 256;
  std::string database;  ///< also the name of its PostgreSQL role
  std::string compatibility;
  int schema_recheck_s = 30;  ///< Connect's Avro converter asks again about a cached schema
};

/// Java 21+ for the registry: `java_home` when set, else the first that exists of Temurin 25,
/// OpenJDK 21 and the JDK deps/setup.sh installs into <deps_dir>/jdk.
std::filesystem::path registry_java(const std::filesystem::path& java_home,
                                    const std::filesystem::path& deps_dir);

struct Layout {
  std::filesystem::path state_dir;
  std::filesystem::path conf_dir;     ///< generated configs (rewritten by every `up`)
  std::filesystem::path logs_dir;     ///< one log file per service
  std::filesystem::path run_dir;      ///< supervisord socket and pid, PostgreSQL socket
  std::filesystem::path secrets_dir;  ///< generated passwords, mode 0700
  std::filesystem::path postgres_data;
  std::filesystem::path deps_dir;
  std::filesystem::path kafka_libs;  ///< broker, tools and Connect jars
  std::filesystem::path cassandra_libs;
  std::filesystem::path zookeeper_libs;
  std::filesystem::path connect_plugins;  ///< Connect plugin.path (Debezium)
  std::filesystem::path java;             ///< the java binary
  std::string java_options;               ///< JAVA_TOOL_OPTIONS of every program (empty: none)
  std::filesystem::path postgres_bin_dir;
  std::string postgres_database;
  std::string postgres_user;
  /// The account services run as; nullopt when streamflow itself is not root (run as self).
  std::optional<std::string> service_user;
  int kafka_heap_mb = 1024;
  int kafka_partitions = 3;  ///< of the topics `up` creates
  int connect_heap_mb = 512;
  int cassandra_heap_mb = 2048;
  std::filesystem::path self_exe;  ///< this streamflow binary (runs the mock API)
  std::filesystem::path migrations_dir;
  std::filesystem::path cql_migrations_dir;  ///< V<version>__<name>.cql files
  std::string cassandra_keyspace;
  std::string cassandra_replication;  ///< CQL replication map for CREATE KEYSPACE
  bool mock_api_enabled = true;
  bool cdc_enabled = true;
  std::string cdc_connector;
  std::string cdc_topic_prefix;
  std::string cdc_slot;
  int cdc_heartbeat_ms = 10000;
  std::string cdc_format = "avro";  ///< avro or json (cdc.format)
  bool cdc_avro() const { return cdc_format == "avro"; }
  int mock_api_threads = 4;
  SparkJob spark;
  Airflow airflow;
  Registry registry;
  bool serve_enabled = true;
  config::Settings settings;  ///< for secrets (config::secret)
  int start_timeout_s = 180;
  int stop_timeout_s = 60;
  Ports ports;
  Topology topology;

  /// The layout of `topology` (default: one of each on 127.0.0.1); its per-engine heaps, when
  /// set, replace the settings'.
  static Layout from_settings(const config::Settings& settings, Topology topology = {});
  /// from_settings with the file of the `topology` setting, if set, read and checked.
  static base::Result<Layout> load(const config::Settings& settings);
  /// Whether postgres.password comes from the environment (else from the secrets file).
  bool postgres_password_from_env() const { return !settings.get("postgres.password").empty(); }

  std::filesystem::path log_file(const std::string& service) const {
    return logs_dir / (service + ".log");
  }
  std::filesystem::path postgres_socket_dir() const { return run_dir / "postgres"; }
  std::filesystem::path supervisor_conf() const { return conf_dir / "supervisord.conf"; }
  std::filesystem::path supervisor_socket() const { return run_dir / "supervisor.sock"; }
  std::filesystem::path supervisor_pidfile() const { return run_dir / "supervisord.pid"; }
  std::filesystem::path postgres_password_file() const { return secrets_dir / "postgres.password"; }
  /// A node's supervisord program name and state directory name: the engine's own name in the
  /// single layout ("kafka"), "<engine>-<id>" in a cluster ("kafka-2").
  std::string node_name(const std::string& engine, const Node& node) const {
    return topology.clustered() ? engine + "-" + std::to_string(node.id) : engine;
  }
  std::filesystem::path node_dir(const std::string& engine, const Node& node) const {
    return state_dir / node_name(engine, node);
  }
  std::filesystem::path kafka_data(const Node& node) const {
    return node_dir("kafka", node) / "data";
  }
  std::filesystem::path cassandra_data(const Node& node) const {
    return node_dir("cassandra", node);
  }
  /// Cassandra's JMX listens on 127.0.0.1 whatever the node's address: one port per node.
  int cassandra_jmx_port(const Node& node) const { return ports.cassandra_jmx + node.id - 1; }
  /// Every broker, "host:port,host:port": a client's bootstrap list.
  std::string kafka_bootstrap() const;
  /// Where CQL clients connect: every node, "host:port,host:port".
  std::string cassandra_contact_point() const;
  /// The ZooKeeper ensemble, "host:port,host:port" (empty in the single layout).
  std::string zookeeper_connect() const;
  /// What the job's driver submits to: every master, "spark://h1:p,h2:p", or spark.master.
  std::string spark_master_url() const;
  /// The host of the single-node services (PostgreSQL, the registry, serve...).
  const std::string& single_host() const { return topology.single_host; }
  /// Secrets Kafka Connect reads through its FileConfigProvider (owned by the service account).
  std::filesystem::path connect_secrets_file() const {
    return state_dir / "connect" / "secrets.properties";
  }
  std::filesystem::path spark_dir() const { return state_dir / "spark"; }
  /// Streaming checkpoints: delete them (with the job stopped) to reprocess the topic.
  std::filesystem::path spark_checkpoints() const { return spark_dir() / "checkpoints"; }
  /// Written by the job every few seconds: per-query progress and totals.
  std::filesystem::path spark_progress_file() const { return spark_dir() / "progress.json"; }
  /// AIRFLOW_HOME: airflow.cfg, task logs, the generated UI password (directory 0700).
  std::filesystem::path airflow_home() const { return state_dir / "airflow"; }
  /// Where the api-server writes the generated UI password(s).
  std::filesystem::path airflow_passwords_file() const {
    return airflow_home() / "simple_auth_manager_passwords.json.generated";
  }
  std::string serve_url() const { return "http://127.0.0.1:" + std::to_string(ports.serve) + "/"; }
  /// The registry's Confluent-compatible API, e.g. for a Confluent client's schema.registry.url.
  std::string registry_url() const {
    return "http://127.0.0.1:" + std::to_string(ports.registry) + "/apis/ccompat/v7";
  }
  /// The registry's own v2 API, which Connect's Avro converter (Apicurio 2.6) speaks.
  std::string registry_v2_url() const {
    return "http://127.0.0.1:" + std::to_string(ports.registry) + "/apis/registry/v2";
  }
  /// Quarkus configuration of the registry (it holds the database password: 0600).
  std::filesystem::path registry_config_file() const {
    return state_dir / "registry" / "application.properties";
  }
  std::string airflow_url() const { return "http://127.0.0.1:" + std::to_string(ports.airflow); }
  /// The CDC topic of staging.users.
  std::string cdc_topic() const { return cdc_topic_prefix + ".staging.users"; }
};

}  // namespace streamflow::deploy
