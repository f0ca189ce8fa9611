#include "io/kafka.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace streamflow::io {

using base::Errc;
using base::make_error;

namespace {

using Client = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

/// A librdkafka handle for `bootstrap`, its own logging off (errors come back as Results).
base::Result<Client> open_client(
    const std::string& bootstrap, rd_kafka_type_t type,
    const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> settings = {{"bootstrap.servers", bootstrap},
                                                               {"log_level", "0"}};
  settings.insert(settings.end(), extra.begin(), extra.end());
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(Errc::invalid_argument, std::string("librdkafka config: ") + err);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));  // owns conf on success
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::unavailable, std::string("librdkafka: ") + err);
  }
  return Client(rk, &rd_kafka_destroy);
}

/// One admin request about topics ("creation"/"creating", "deletion"/"deleting"): `issue`
/// sends it with the options onto the queue, `topic_results` reads the per-topic results from
/// its answer. Returns the topics it succeeded for; a topic whose error is `benign` (it already
/// exists, it is already gone) counts neither as done nor as a failure.
template <class Issue, class TopicResults>
base::Result<std::vector<std::string>> topics_request(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                                      const char* noun, const char* verb,
                                                      const std::string& bootstrap, int timeout_ms,
                                                      rd_kafka_resp_err_t benign, Issue issue,
                                                      TopicResults topic_results) {
  char err[512];
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, op);
  rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms, err, sizeof(err));
  issue(options, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, timeout_ms + 2000);
  rd_kafka_AdminOptions_destroy(options);

  base::Result<std::vector<std::string>> out = std::vector<std::string>{};
  if (ev == nullptr) {
    out = make_error(Errc::timeout, fmt::format("Kafka did not answer the topic {} in time", noun),
                     "bootstrap=" + bootstrap);
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    out = make_error(Errc::unavailable,
                     fmt::format("{} topics failed: {}", verb, rd_kafka_event_error_string(ev)));
  } else {
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results = topic_results(ev, &n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto code = rd_kafka_topic_result_error(results[i]);
      const std::string name = rd_kafka_topic_result_name(results[i]);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out->push_back(name);
      } else if (code != benign) {
        const char* why = rd_kafka_topic_result_error_string(results[i]);
        out = make_error(Errc::unavailable,
                         fmt::format("{} topic {} failed: {}", verb, name,
                                     why != nullptr ? why : rd_kafka_err2str(code)));
        break;
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  return out;
}

}  // namespace

base::Result<std::vector<std::string>> ensure_topics(const std::string& bootstrap,
                                                     const std::vector<TopicSpec>& topics,
                                                     int timeout_ms) {
  auto client = open_client(bootstrap, RD_KAFKA_PRODUCER);
  if (!client) return client.error();
  auto& rk = *client;
  char err[512];

  std::vector<rd_kafka_NewTopic_t*> new_topics;
  auto free_topics = [&] {
    for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
  };
  for (const auto& spec : topics) {
    rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                                   spec.replication_factor, err, sizeof(err));
    if (t == nullptr) {
      free_topics();
      return make_error(Errc::invalid_argument, fmt::format("topic {}: {}", spec.name, err));
    }
    for (const auto& [k, v] : spec.config) {
      if (rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_NewTopic_destroy(t);
        free_topics();
        return make_error(Errc::invalid_argument,
                          fmt::format("topic {}: bad config {}", spec.name, k));
      }
    }
    new_topics.push_back(t);
  }

  auto out = topics_request(
      rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, "creation", "creating", bootstrap, timeout_ms,
      RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_CreateTopics(rk.get(), new_topics.data(), new_topics.size(), options, queue);
      },
      [](rd_kafka_event_t* ev, std::size_t* n) {
        return rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), n);
      });
  free_topics();
  return out;
}

base::Result<void> delete_topics(const std::string& bootstrap,
                                 const std::vector<std::string>& names, int timeout_ms) {
  if (names.empty()) return {};
  auto client = open_client(bootstrap, RD_KAFKA_PRODUCER);
  if (!client) return client.error();
  auto& rk = *client;
  std::vector<rd_kafka_DeleteTopic_t*> topics;
  for (const auto& n : names) topics.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
  auto out = topics_request(
      rk.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, "deletion", "deleting", bootstrap, timeout_ms,
      RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DeleteTopics(rk.get(), topics.data(), topics.size(), options, queue);
      },
      [](rd_kafka_event_t* ev, std::size_t* n) {
        return rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), n);
      });
  rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
  if (!out) return out.error();
  return {};
}

base::Result<std::int64_t> topic_end_offsets(const std::string& bootstrap, const std::string& topic,
                                             int timeout_ms) {
  auto client = open_client(bootstrap, RD_KAFKA_CONSUMER);
  if (!client) return client.error();
  auto& rk = *client;
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> t(
      rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr), &rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* md = nullptr;
  auto rc = rd_kafka_metadata(rk.get(), 0, t.get(), &md, timeout_ms);
  if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Errc::unavailable, fmt::format("metadata of {} from {}: {}", topic, bootstrap,
                                                     rd_kafka_err2str(rc)));
  }
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)> guard(
      md, &rd_kafka_metadata_destroy);
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Errc::not_found, "topic " + topic + " does not exist");
  }
  std::int64_t total = 0;
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    std::int64_t low = 0, high = 0;
    rc = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), md->topics[0].partitions[p].id,
                                          &low, &high, timeout_ms);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(Errc::unavailable,
                        fmt::format("end offset of {}[{}]: {}", topic,
                                    md->topics[0].partitions[p].id, rd_kafka_err2str(rc)));
    }
    total += high;
  }
  return total;
}

base::Result<ProduceResult> produce_all(const std::string& bootstrap, const std::string& topic,
                                        const std::vector<std::string>& values, int timeout_ms) {
  // As Kafka Connect's producers are set up: every replica acknowledges, no duplicates.
  auto client = open_client(bootstrap, RD_KAFKA_PRODUCER,
                            {{"acks", "all"}, {"enable.idempotence", "true"}, {"linger.ms", "5"}});
  if (!client) return client.error();
  auto& rk = *client;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // Queues one message; while librdkafka's local queue is full, lets deliveries drain it.
  auto send = [&](const std::string& v) -> base::Result<void> {
    while (true) {
      const auto rc = rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                        RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
      if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() > deadline) {
        return make_error(Errc::unavailable,
                          fmt::format("producing to {}: {}", topic, rd_kafka_err2str(rc)));
      }
      rd_kafka_poll(rk.get(), 10);
    }
  };
  // One message delivered before the clock starts: the connection, the topic's metadata and the
  // idempotent producer's id are set up once, and a small run measures producing, not that.
  if (!values.empty()) {
    if (auto r = send(values[0]); !r) return r.error();
    if (rd_kafka_flush(rk.get(), timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(Errc::timeout, fmt::format("no message to {} was delivered within {} ms",
                                                   topic, timeout_ms));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  for (const auto& v : values) {
    if (auto r = send(v); !r) return r.error();
    rd_kafka_poll(rk.get(), 0);
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (const auto rc =
          rd_kafka_flush(rk.get(), static_cast<int>(std::max<long long>(left.count(), 1)));
      rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Errc::timeout, fmt::format("{} messages to {} were not delivered in time",
                                                 rd_kafka_outq_len(rk.get()), topic));
  }
  ProduceResult out;
  out.messages = static_cast<std::int64_t>(values.size());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace streamflow::io
