#include "control/messages.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace streamflow::control {

using base::Errc;
using base::make_error;

namespace {

constexpr int kMaxLimit = 500;

/// librdkafka wants a group for a consumer handle even when partitions are assigned by hand;
/// this one is never joined (no subscribe) and never committed to (auto commit off).
constexpr const char* kGroup = "streamflow-control-browser";

/// Closes the consumer (no group to leave, nothing to commit) and frees the handle.
struct ConsumerFree {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
using Consumer = std::unique_ptr<rd_kafka_t, ConsumerFree>;

/// A read-only consumer for `bootstrap`, its own logging off (errors come back as Results):
/// no auto commit, no offset store, no topic auto-creation, and an event at the end of the
/// partition so that reading stops there instead of waiting out the timeout.
base::Result<Consumer> open_consumer(const std::string& bootstrap) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", bootstrap},
      {"log_level", "0"},
      {"client.id", kGroup},
      {"group.id", kGroup},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"allow.auto.create.topics", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
  };
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(Errc::invalid_argument, std::string("librdkafka config: ") + err);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));  // owns conf if ok
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::unavailable, std::string("librdkafka: ") + err);
  }
  // Errors of the handle (all brokers down...) come out of rd_kafka_consumer_poll too.
  rd_kafka_poll_set_consumer(rk);
  return Consumer(rk);
}

bool is_unknown(rd_kafka_resp_err_t rc) {
  return rc == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || rc == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
         rc == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
}

/// A consumed message's bytes, copied out of librdkafka's buffers.
RawMessage to_raw(const rd_kafka_message_t* msg) {
  RawMessage r;
  r.offset = msg->offset;
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t ts = rd_kafka_message_timestamp(msg, &type);
  r.timestamp_ms = type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
  if (msg->key != nullptr) r.key.emplace(static_cast<const char*>(msg->key), msg->key_len);
  if (msg->payload != nullptr) r.value.emplace(static_cast<const char*>(msg->payload), msg->len);
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      std::optional<std::string> bytes;
      if (value != nullptr) bytes.emplace(static_cast<const char*>(value), size);
      r.headers.emplace_back(name != nullptr ? name : "", std::move(bytes));
    }
  }
  return r;
}

}  // namespace

std::int64_t earlier_start(std::int64_t low, std::int64_t high, std::int64_t start, std::size_t got,
                           int limit) {
  const auto missing = std::max<std::int64_t>(limit - static_cast<std::int64_t>(got), 1);
  return std::max(low, start - (high - start) - missing);
}

base::Result<std::vector<RawMessage>> read_last_messages(const std::string& bootstrap,
                                                         const std::string& topic, int partition,
                                                         int limit, int timeout_ms) {
  if (limit < 1 || limit > kMaxLimit) {
    return make_error(Errc::invalid_argument,
                      fmt::format("limit must be 1 to {}, not {}", kMaxLimit, limit));
  }
  if (partition < 0) {
    return make_error(Errc::invalid_argument, fmt::format("no partition {}", partition));
  }
  if (timeout_ms <= 0) {
    return make_error(Errc::invalid_argument, "timeout_ms must be positive");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto left_ms = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(left.count(), 0));
  };
  const std::string where =
      fmt::format("bootstrap={} topic={} partition={}", bootstrap, topic, partition);

  auto consumer = open_consumer(bootstrap);
  if (!consumer) return consumer.error();
  rd_kafka_t* rk = consumer->get();

  // Does the partition exist? Asked of this topic only: with auto-creation off, the brokers
  // answer "unknown" instead of making it.
  {
    std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> handle(
        rd_kafka_topic_new(rk, topic.c_str(), nullptr), &rd_kafka_topic_destroy);
    if (!handle) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("topic name {}: {}", topic, rd_kafka_err2str(rd_kafka_last_error())));
    }
    const rd_kafka_metadata_t* md = nullptr;
    const auto rc = rd_kafka_metadata(rk, 0, handle.get(), &md, std::max(left_ms(), 1));
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(Errc::unavailable,
                        fmt::format("Kafka did not answer: {}", rd_kafka_err2str(rc)), where);
    }
    std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)> guard(
        md, &rd_kafka_metadata_destroy);
    if (md->topic_cnt != 1 || is_unknown(md->topics[0].err)) {
      return make_error(Errc::not_found, "topic " + topic + " does not exist", where);
    }
    if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(Errc::unavailable,
                        fmt::format("topic {}: {}", topic, rd_kafka_err2str(md->topics[0].err)),
                        where);
    }
    const auto& t = md->topics[0];
    if (std::none_of(t.partitions, t.partitions + t.partition_cnt,
                     [&](const rd_kafka_metadata_partition_t& p) { return p.id == partition; })) {
      return make_error(Errc::not_found,
                        fmt::format("topic {} has no partition {} (it has {})", topic, partition,
                                    t.partition_cnt),
                        where);
    }
  }

  std::int64_t low = 0, high = 0;
  if (const auto rc = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high,
                                                       std::max(left_ms(), 1));
      rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(is_unknown(rc) ? Errc::not_found : Errc::unavailable,
                      fmt::format("offsets of {}[{}]: {}", topic, partition, rd_kafka_err2str(rc)),
                      where);
  }
  std::vector<RawMessage> out;
  if (high <= low) return out;  // empty, or everything deleted by retention

  // Reads [start, high) into `out`: true when it reached the end, false when the time ran out.
  std::optional<std::string> fetch_error;  // the last one; they are retried by librdkafka
  const auto read_from = [&](std::int64_t start) -> base::Result<bool> {
    out.clear();
    std::unique_ptr<rd_kafka_topic_partition_list_t,
                    decltype(&rd_kafka_topic_partition_list_destroy)>
        assignment(rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = start;
    if (const auto rc = rd_kafka_assign(rk, assignment.get()); rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(Errc::internal,
                        fmt::format("assigning {}[{}]: {}", topic, partition, rd_kafka_err2str(rc)),
                        where);
    }
    out.reserve(static_cast<std::size_t>(high - start));
    bool complete = false;  // reached the end, not the deadline
    while (true) {
      const int left = left_ms();
      if (left <= 0) break;
      std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> msg(
          rd_kafka_consumer_poll(rk, left), &rd_kafka_message_destroy);
      if (!msg) continue;
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        complete = true;
        break;
      }
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (is_unknown(msg->err)) {
          return make_error(Errc::not_found,
                            fmt::format("{}[{}] is gone: {}", topic, partition,
                                        rd_kafka_message_errstr(msg.get())),
                            where);
        }
        fetch_error = rd_kafka_message_errstr(msg.get());
        continue;
      }
      if (msg->partition != partition || msg->offset < start) continue;
      if (msg->offset >= high) {  // produced after we asked
        complete = true;
        break;
      }
      out.push_back(to_raw(msg.get()));
      if (msg->offset >= high - 1) {
        complete = true;
        break;
      }
    }
    rd_kafka_assign(rk, nullptr);  // stop fetching before the next read or the close
    return complete;
  };

  // Commit markers of a transactional partition (the CDC topic's: Kafka Connect writes in
  // transactions) and a compacted partition's gaps hold offsets with no message: when the last
  // `limit` offsets hold fewer messages, read again from further back.
  std::int64_t start = std::max(low, high - limit);
  while (true) {
    auto complete = read_from(start);
    if (!complete) return complete.error();
    if (!*complete || out.size() >= static_cast<std::size_t>(limit) || start == low) break;
    start = earlier_start(low, high, start, out.size(), limit);
  }
  if (out.size() > static_cast<std::size_t>(limit)) out.erase(out.begin(), out.end() - limit);
  if (out.empty() && fetch_error) {
    return make_error(Errc::unavailable,
                      fmt::format("reading {}[{}]: {}", topic, partition, *fetch_error), where);
  }
  return out;
}

}  // namespace streamflow::control
