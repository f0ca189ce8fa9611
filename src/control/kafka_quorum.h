#pragma once
/// The active controller of a KRaft cluster, from Kafka's DescribeQuorum API (key 55, v0), which
/// a broker answers for the metadata log's partition. librdkafka 2.0 has no call for it, and the
/// controller id of a KRaft broker's metadata answer is any live broker (clients cannot reach
/// the controllers), so the control room asks the quorum itself: the same answer as
/// `kafka-metadata-quorum describe --status` (LeaderId). Encoding and parsing are pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace streamflow::control {

struct QuorumState {
  int leader_id = -1;
  std::int64_t leader_epoch = -1;
  std::int64_t high_watermark = -1;
  std::vector<int> voters;
  std::vector<int> observers;
};

/// A size-prefixed DescribeQuorum v0 request for __cluster_metadata partition 0.
std::string encode_describe_quorum(std::int32_t correlation_id, std::string_view client_id);

/// The state in a DescribeQuorum v0 response (without its 4-byte size prefix); data_error when
/// it is not one, unavailable when Kafka answered with an error code.
base::Result<QuorumState> parse_describe_quorum(std::string_view response,
                                                std::int32_t correlation_id);

/// Asks the broker at host:port; unavailable when it does not answer in `timeout_ms`.
base::Result<QuorumState> describe_quorum(const std::string& host, int port, int timeout_ms);

}  // namespace streamflow::control
