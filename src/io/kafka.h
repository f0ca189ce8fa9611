#pragma once
/// Kafka through librdkafka: the topics the pipeline needs, created up front so that consumers
/// (the Spark job) never start on a topic that does not exist yet; end offsets; and a bulk
/// producer for the benchmark's baseline.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace streamflow::io {

struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication_factor = 1;
  std::vector<std::pair<std::string, std::string>> config;  ///< e.g. {"retention.ms", "..."}
};

/// Creates the topics that do not exist yet; existing ones are left as they are. Returns the
/// names it created.
base::Result<std::vector<std::string>> ensure_topics(const std::string& bootstrap,
                                                     const std::vector<TopicSpec>& topics,
                                                     int timeout_ms = 15000);

/// Deletes the topics; ones that do not exist are no error. Kafka removes their data in the
/// background, so a topic can still show in metadata for a moment after this returns.
base::Result<void> delete_topics(const std::string& bootstrap,
                                 const std::vector<std::string>& names, int timeout_ms = 15000);

/// Sum over the topic's partitions of the high watermark (the offset the next message gets):
/// how many messages the topic has ever received. not_found when the topic does not exist.
base::Result<std::int64_t> topic_end_offsets(const std::string& bootstrap, const std::string& topic,
                                             int timeout_ms = 3000);

struct ProduceResult {
  std::int64_t messages = 0;
  double seconds = 0;  ///< from the first send to the last acknowledgement
};

/// Sends every value to `topic` (acks=all, idempotent, as Kafka Connect's producers) and waits
/// until all are acknowledged: the broker's produce rate, a benchmark baseline. The first value
/// goes once more, untimed, before the run: connection and producer set-up are not timed.
base::Result<ProduceResult> produce_all(const std::string& bootstrap, const std::string& topic,
                                        const std::vector<std::string>& values,
                                        int timeout_ms = 120000);

}  // namespace streamflow::io
