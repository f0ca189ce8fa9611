#pragma once
/// Pure renderers of every generated configuration file and command line. No I/O, so each is
/// unit-tested against the keys the real services require (each renderer says which).

#include <csignal>
#include <string>
#include <vector>

#include "deploy/layout.h"

namespace streamflow::stack {

using deploy::Layout;

/// What supervisord needs to run one service.
struct ProgramSpec {
  std::string name;
  std::vector<std::string> argv;
  std::string directory;
  std::string user;  ///< empty: run as supervisord's own user
  std::string stop_signal = "TERM";
  bool stop_as_group = true;
  /// supervisord starts it again whenever it exits (not when stopped by `down`), every node
  /// of every service: a process that exits within `start_secs` of its start is retried after
  /// 1, 2, 3... s, and after `start_retries` such tries in a row it is given up (FATAL; `status`
  /// says so, `up` tries again).
  bool restart_on_exit = true;
  int start_secs = 10;
  int start_retries = 5;
  int stop_wait_s = 60;
  std::string log_file;
  std::vector<std::pair<std::string, std::string>> env;
};

/// Escapes '%' for supervisord's ConfigParser interpolation (plain values: paths, env).
std::string supervisor_escape(const std::string& value);

/// Quotes one argument for supervisord's shell-like `command=` parser and escapes '%'
/// for its ConfigParser interpolation.
std::string supervisor_quote(const std::string& arg);

std::string render_supervisord_conf(const Layout& layout, const std::vector<ProgramSpec>& programs);

/// Where a node's generated config lives: <conf_dir>/<node name><extension>.
std::filesystem::path node_config(const Layout& layout, const std::string& engine,
                                  const deploy::Node& node, const std::string& extension);

/// One Kafka node: broker and controller; in a cluster every node is a voter of a static quorum.
std::string render_kafka_properties(const Layout& layout, const deploy::Node& node);
std::string render_connect_properties(const Layout& layout, const deploy::Node& node);
std::string render_log4j2_xml();
/// The Debezium PostgreSQL connector's config (JSON object for PUT /connectors/<name>/config).
/// The password is a ${file:...} reference resolved by Connect's FileConfigProvider, so it
/// never sits in Connect's config topic.
std::string render_debezium_config(const Layout& layout);
/// "key=value" lines of a Java properties file, with the escaping it needs.
std::string render_properties(const std::vector<std::pair<std::string, std::string>>& entries);
std::string render_cassandra_yaml(const Layout& layout, const deploy::Node& node);
/// Logback to stdout at INFO, for Cassandra and ZooKeeper (`who` names it in a comment).
std::string render_logback_xml(const std::string& who);

/// The service command lines.
std::vector<std::string> postgres_argv(const Layout& layout);
std::vector<std::string> kafka_argv(const Layout& layout, const deploy::Node& node);
std::vector<std::string> connect_argv(const Layout& layout, const deploy::Node& node);
/// `jamm_jar` is Cassandra's memory-measurement agent (empty: run without it).
std::vector<std::string> cassandra_argv(const Layout& layout, const deploy::Node& node,
                                        const std::string& jamm_jar);

/// One ZooKeeper node of the ensemble (zoo.cfg) and its `myid`.
std::string render_zookeeper_cfg(const Layout& layout, const deploy::Node& node);
std::vector<std::string> zookeeper_argv(const Layout& layout, const deploy::Node& node);
/// Spark standalone daemons (cluster layout): a master (ZooKeeper recovery when there are two
/// or more) and a worker offering the topology's cores and memory to every master.
/// `spark_home` is the pyspark package of spark.python's venv (its jars/).
std::vector<std::string> spark_master_argv(const Layout& layout, const deploy::Node& node,
                                           const std::filesystem::path& spark_home);
std::vector<std::string> spark_worker_argv(const Layout& layout, const deploy::Node& node,
                                           const std::filesystem::path& spark_home);

}  // namespace streamflow::stack
