#pragma once
/// The control room's message browser: the newest messages of one partition, read from Kafka
/// as they are (decode.h makes them readable). Read-only: it joins no consumer group, commits
/// nothing and never makes a topic appear.

#include <string>
#include <vector>

#include "base/result.h"
#include "control/decode.h"

namespace streamflow::control {

/// The last `limit` (1..500) messages of `topic`[`partition`], oldest first, with their keys,
/// values, timestamps and headers. Reads from max(low watermark, high watermark - limit) up to
/// the high watermark as it was when asked (messages produced meanwhile are left out), with a
/// throwaway consumer: partition assigned by hand (group "streamflow-control-browser" is
/// never joined nor committed to), no topic auto-creation. A compacted or transactional
/// partition can give fewer than `limit` (its offsets have gaps). When `timeout_ms` passes
/// before the last message arrives, returns what was read by then.
/// invalid_argument for a limit out of range or a negative partition; not_found when the topic
/// or the partition does not exist; unavailable when the brokers cannot be reached (or,
/// having read nothing, a fetch kept failing).
base::Result<std::vector<RawMessage>> read_last_messages(const std::string& bootstrap,
                                                         const std::string& topic, int partition,
                                                         int limit, int timeout_ms = 5000);

}  // namespace streamflow::control
