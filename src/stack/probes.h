#pragma once
/// Health probes: each asks the real service a real question with a short timeout and never
/// throws. A probe that answers is what `up` waits for and what `status` reports.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "deploy/layout.h"

namespace streamflow::stack {

using deploy::Layout;

struct Probe {
  bool healthy = false;
  std::string detail;  ///< why not healthy, or a short fact when healthy
};

/// PostgreSQL accepts connections on its TCP port (libpq PQping).
Probe probe_postgres(const Layout& layout);
/// The Kafka node answers a metadata request (librdkafka) in which it is a registered broker.
Probe probe_kafka(const Layout& layout, const deploy::Node& node);
/// The Connect worker's REST API lists connectors and the Debezium PostgreSQL plugin is loaded.
Probe probe_connect(const Layout& layout, const deploy::Node& node);
/// The Cassandra node accepts connections on its CQL port (it opens it last, once it is ready).
Probe probe_cassandra(const Layout& layout, const deploy::Node& node);
/// The ZooKeeper node answers `srvr` as a leader, follower or standalone server.
Probe probe_zookeeper(const Layout& layout, const deploy::Node& node);
/// A Spark standalone master's UI (/json/) answers: ALIVE (with its workers) or STANDBY.
Probe probe_spark_master(const Layout& layout, const deploy::Node& node);
/// The Spark worker is registered ALIVE with the active master.
Probe probe_spark_worker(const Layout& layout, const deploy::Node& node);

/// The mock API answers GET /health.
Probe probe_mock_api(const Layout& layout);

/// The streaming job wrote its progress file in the last 20 s and all its queries are active.
Probe probe_spark(const Layout& layout);
/// Per-query facts from the job's progress file (batch, rates, totals) for `status`.
std::vector<std::pair<std::string, std::string>> spark_facts(const Layout& layout);
/// The pyspark version installed in spark.python's venv, or "".
std::string pyspark_version(const Layout& layout);
/// The pyspark package of spark.python's venv, a SPARK_HOME (its jars/ are Spark's), or "".
std::filesystem::path spark_home(const Layout& layout);

/// Airflow's api-server health endpoint (/api/v2/monitor/health). With an empty `component`,
/// healthy when it answers and the metadata database is healthy; else when that component
/// ("scheduler", "dag_processor", "triggerer") reports a fresh heartbeat.
Probe probe_airflow(const Layout& layout, const std::string& component);
/// `streamflow serve` answers GET /healthz.
Probe probe_serve(const Layout& layout);
/// The apache-airflow version installed in airflow.venv, or "".
std::string airflow_version(const Layout& layout);

/// SHOW server_version over the local socket, or "" if PostgreSQL does not answer.
std::string postgres_server_version(const Layout& layout);

/// libpq connection string for the superuser over the unix socket (trust, local only).
std::string postgres_admin_conninfo(const Layout& layout, const std::string& dbname = "postgres");

}  // namespace streamflow::stack
