#pragma once
/// The control room's view of who reads Kafka and how far behind they are: every consumer
/// group the cluster knows (its state, members, committed offset per partition against the
/// partition's end), and the Spark job, which commits nothing to Kafka and keeps its offsets
/// in its checkpoint, from its progress file. Lag arithmetic, the Spark reading and the JSON
/// are pure and tested; `consumer_groups` asks the brokers through librdkafka's admin API.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"

namespace streamflow::control {

/// One partition a group reads. Offsets are Kafka's "next offset": `committed` is the offset
/// of the next message the group will read, `end` the high watermark (the offset the next
/// message written gets), so `end - committed` messages wait.
struct PartitionLag {
  std::string topic;
  int partition = 0;
  std::int64_t committed = -1;  ///< -1: no commit for this partition
  std::int64_t end = -1;        ///< -1: the end could not be read
  std::int64_t lag = -1;        ///< -1: unknown (see compute_lag)
};

struct GroupLag {
  std::string group;
  std::string state;  ///< Kafka's group state ("Stable", "Empty", ...); Spark: active|inactive
  int members = 0;
  std::string source = "kafka";  ///< "kafka" (a consumer group) or "spark" (the job's query)
  std::vector<PartitionLag> partitions;
  std::int64_t total_lag = 0;  ///< sum of the partitions' known lags
};

/// The messages between a group's position and the partition's end; never negative (a
/// committed offset past the end, after a topic was recreated or truncated, is no lag).
/// -1 (unknown) when there is no commit: where the group would start depends on its
/// auto.offset.reset, which the broker does not know, so no number would be honest; and -1
/// when the end is unknown.
std::int64_t compute_lag(std::int64_t committed, std::int64_t end);

/// The end offset of a partition, or a negative number when it cannot be read.
using EndOffset = std::function<std::int64_t(const std::string& topic, int partition)>;

/// Fills each partition's `end` (from `end_offset`) and `lag`, orders partitions by topic and
/// partition, and sums `total_lag` over the partitions whose lag is known.
void settle(GroupLag& group, const EndOffset& end_offset);

/// One GroupLag per query of the Spark job's progress file (`.streamflow/spark/progress.json`,
/// written by pipeline/spark/streamflow_stream/job.py `report()`): group "spark:<query>",
/// source "spark", state active|inactive, members 1 while active (the driver plans every
/// batch) else 0. The query's position is `end_offsets`: one entry per source, each Spark's
/// Kafka offset JSON {"<topic>": {"<partition>": <next offset>}} (PySpark's lastProgress has
/// it as an object; a JSON string of it is read too). A query with no batch yet (null entry)
/// has no partitions. Queries in name order.
std::vector<GroupLag> spark_consumers(const nlohmann::json& progress, const EndOffset& end_offset);

/// {"groups":[{"group","state","members","source","total_lag","partitions":[{"topic",
/// "partition","committed","end","lag"}]}]}; -1 (none, unknown) is null.
nlohmann::json to_json(const std::vector<GroupLag>& groups);

/// Every consumer group of the cluster at `bootstrap`, in name order: listed, described
/// (state, members, assigned partitions) and its committed offsets read (one request per
/// group); partitions are those committed or assigned. Each admin request waits up to
/// `timeout_ms`. unavailable/timeout when the group listing cannot be had; a group that
/// cannot be described or whose offsets cannot be read is still listed, with what is known.
base::Result<std::vector<GroupLag>> consumer_groups(const std::string& bootstrap, int timeout_ms);

}  // namespace streamflow::control
