#pragma once
/// Kafka as the control room shows it: brokers (id, address, controller, up or down), topics
/// with their partitions (leader, replicas, in-sync replicas, under-replicated and offline
/// counts, end offsets, size) and messages per second in. `read_cluster` asks a broker through
/// librdkafka (a metadata request, then the watermarks of every partition); the rest is pure.
/// Brokers that are down are the topology's nodes missing from the metadata: Kafka lists only
/// the brokers that are registered.

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace streamflow::control {

struct PartitionState {
  int partition = 0;
  int leader = -1;  ///< -1: no leader (offline)
  std::vector<int> replicas;
  std::vector<int> isr;
  std::int64_t end_offset = -1;            ///< the high watermark; -1 when unknown
  std::optional<std::int64_t> size_bytes;  ///< the leader's log on disk, when readable
  bool under_replicated() const { return isr.size() < replicas.size(); }
  bool offline() const { return leader < 0; }
};

struct TopicState {
  std::string name;
  bool internal = false;  ///< Kafka's own (__consumer_offsets) or Connect's (config/offset/status)
  std::vector<PartitionState> partitions;
  std::optional<double> messages_per_s;  ///< from two samples' end offsets

  int replication_factor() const;
  int under_replicated() const;
  int offline() const;
  std::int64_t end_offset_total() const;           ///< -1 when a partition's is unknown
  std::optional<std::int64_t> size_bytes() const;  ///< nullopt when a partition's is unknown
};

struct BrokerState {
  int id = 0;
  std::string host;
  int port = 0;
  bool up = false;
  bool controller = false;
};

/// One look at the cluster.
struct ClusterState {
  std::int64_t at_ms = 0;
  int controller_id = -1;
  /// The controller is the KRaft quorum's leader (DescribeQuorum), else the metadata's id.
  bool controller_from_quorum = false;
  std::vector<BrokerState> brokers;
  std::vector<TopicState> topics;  ///< by name
  const TopicState* topic(const std::string& name) const;
  /// Over every topic: the partitions under-replicated, and those without a leader.
  std::int64_t under_replicated() const;
  std::int64_t offline() const;
};

/// A broker the deployment expects (from the topology): its node id and address, and whether
/// it is known to be down (its port refuses connections) although Kafka may still list it.
struct ExpectedBroker {
  int id = 0;
  std::string host;
  int port = 0;
  bool known_down = false;
};

/// The leader's log size of a partition on disk, or nullopt (the broker's log directory is
/// not on this host).
using PartitionSize =
    std::function<std::optional<std::int64_t>(int leader, const std::string& topic, int partition)>;

/// Asks `bootstrap` for the metadata of every topic and each partition's high watermark.
/// Brokers the deployment expects but the metadata lacks are listed as down. A partition whose
/// leader is known down is not asked (each such query would wait out the timeout): its end
/// offset is unknown. unavailable when no broker answers.
base::Result<ClusterState> read_cluster(const std::string& bootstrap,
                                        const std::vector<ExpectedBroker>& expected,
                                        const PartitionSize& size, int timeout_ms = 3000);

/// Adds the expected brokers the metadata did not list (down), sorted by id. Pure.
void add_missing_brokers(ClusterState& state, const std::vector<ExpectedBroker>& expected);

/// Messages per second into each topic between two looks (nullopt for a topic new in `now`).
/// Pure.
void rates_between(ClusterState& now, const ClusterState& before);

/// Whether Kafka or Kafka Connect owns the topic (not the pipeline's).
bool is_internal_topic(const std::string& name);

/// A log directory's partition folder size in bytes (every file in `<dir>/<topic>-<partition>`),
/// or nullopt when it does not exist.
std::optional<std::int64_t> partition_dir_size(const std::string& log_dir, const std::string& topic,
                                               int partition);

nlohmann::json brokers_json(const ClusterState& state);
/// The topics; with `partitions`, each topic's partitions too.
nlohmann::json topics_json(const ClusterState& state, bool partitions = true);

}  // namespace streamflow::control
