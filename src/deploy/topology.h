#pragma once
/// Which nodes of which engine run on which address: the single-node layout (the default: one
/// of each, on 127.0.0.1) or a cluster described by a topology file (YAML, `--topology FILE` or
/// the `topology` setting; deploy/cluster-local.yaml is the cluster on one machine). Every host
/// of a deployment reads the same file and starts the nodes whose address is its own. Ports come
/// from the settings and repeat across addresses; each node has its own state directory.
/// Parsing and validation are pure; `load_topology` reads the file.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace streamflow::deploy {

/// One node of an engine: its number (1-based, stable: it names the node's program, its state
/// directory and, for Kafka, its node.id) and its address.
struct Node {
  int id = 1;
  std::string host = "127.0.0.1";
};

struct Topology {
  /// "single" for the default layout, else the file's `name` (or its file name).
  std::string name = "single";
  std::filesystem::path file;  ///< empty for the default layout
  /// PostgreSQL, the registry, Airflow, the mock API, serve and the Spark driver: one each.
  std::string single_host = "127.0.0.1";
  std::vector<Node> zookeeper;  ///< empty: no ZooKeeper (the single layout needs none)
  std::vector<Node> kafka = {Node{}};
  std::vector<Node> cassandra = {Node{}};
  std::vector<Node> connect = {Node{}};
  /// Empty: the job runs Spark in-process (`spark.master`, local[*] by default).
  std::vector<Node> spark_masters;
  std::vector<Node> spark_workers;
  int kafka_replication_factor = 1;
  int kafka_min_insync_replicas = 1;
  int cassandra_replication_factor = 1;
  int cassandra_seeds = 1;     ///< the first N Cassandra nodes are its seeds
  int spark_worker_cores = 1;  ///< cores each worker offers (and each executor takes)
  int spark_worker_memory_mb = 1024;
  int spark_executor_memory_mb = 768;
  /// Per-engine heaps (0: the setting, e.g. kafka.heap_mb).
  int zookeeper_heap_mb = 128;
  int kafka_heap_mb = 0;
  int cassandra_heap_mb = 0;
  int connect_heap_mb = 0;
  int spark_daemon_heap_mb = 256;

  /// Laid out by a file: programs and state directories are named <engine>-<id> (even for an
  /// engine of one node, so a file's layout never takes over the single layout's state), the
  /// job runs on the Spark cluster when the file has masters, every client gets every node.
  bool clustered() const { return !file.empty(); }
};

/// Parses and checks a topology file's text; `file` names it in errors. Unknown keys, a node
/// listed twice at one address, a replication factor above the node count, Spark masters
/// without ZooKeeper... are invalid_argument errors that say what to change.
base::Result<Topology> parse_topology(std::string_view yaml, const std::filesystem::path& file);
/// Reads and parses `file`.
base::Result<Topology> load_topology(const std::filesystem::path& file);

/// "host:port,host:port" of `nodes`, which share `port` (a client's list of an engine's nodes).
std::string host_ports(const std::vector<Node>& nodes, int port);

/// The engine a service belongs to: "kafka" for "kafka-2" (a node of a clustered engine), the
/// name itself otherwise ("spark-master" for "spark-master-1", "mock-api" for "mock-api").
std::string engine_of(const std::string& service);

/// Whether `host` is an address of this machine (all of 127.0.0.0/8, "localhost", or an
/// address of one of its interfaces): the nodes this host starts.
bool is_own_address(const std::string& host);

}  // namespace streamflow::deploy
