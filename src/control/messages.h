#pragma once
/// The control room's message browser: the newest messages of one partition, read from Kafka
/// as they are (decode.h makes them readable). Read-only: it joins no consumer group, commits
/// nothing and never makes a topic appear.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "control/decode.h"

namespace streamflow::control {

/// The last `limit` (1..500) messages of `topic`[`partition`], oldest first, with their keys,
/// values, timestamps and headers. Reads from max(low watermark, high watermark - limit) up to
/// the high watermark as it was when asked (messages produced meanwhile are left out), with a
/// throwaway consumer: partition assigned by hand (group "streamflow-control-browser" is
/// never joined nor committed to), no topic auto-creation. A transactional partition's commit
/// markers and a compacted one's gaps hold offsets with no message: while those offsets held
/// fewer than `limit` messages, it reads again from further back (`earlier_start`). Only
/// committed messages are read. When `timeout_ms` passes before the last message arrives,
/// returns what was read by then.
/// invalid_argument for a limit out of range or a negative partition; not_found when the topic
/// or the partition does not exist; unavailable when the brokers cannot be reached (or,
/// having read nothing, a fetch kept failing).
/// Where the browser reads from next when reading [`start`, `high`) gave `got` of the `limit`
/// messages asked: back by that window again and what is missing, so the window at least
/// doubles each time; never before `low`.
std::int64_t earlier_start(std::int64_t low, std::int64_t high, std::int64_t start, std::size_t got,
                           int limit);

base::Result<std::vector<RawMessage>> read_last_messages(const std::string& bootstrap,
                                                         const std::string& topic, int partition,
                                                         int limit, int timeout_ms = 5000);

}  // namespace streamflow::control
