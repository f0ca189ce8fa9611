#include "io/kafka.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <memory>

namespace streamflow::io {

using base::Errc;
using base::make_error;

namespace {

using Client = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

/// A librdkafka handle for `bootstrap`, its own logging off (errors come back as Results).
base::Result<Client> open_client(const std::string& bootstrap, rd_kafka_type_t type) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err)) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::invalid_argument, std::string("librdkafka config: ") + err);
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));  // owns conf on success
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::unavailable, std::string("librdkafka: ") + err);
  }
  return Client(rk, &rd_kafka_destroy);
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

  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms, err, sizeof(err));
  rd_kafka_CreateTopics(rk.get(), new_topics.data(), new_topics.size(), options, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, timeout_ms + 2000);
  rd_kafka_AdminOptions_destroy(options);
  free_topics();

  base::Result<std::vector<std::string>> out = std::vector<std::string>{};
  if (ev == nullptr) {
    out = make_error(Errc::timeout, "Kafka did not answer the topic creation in time",
                     "bootstrap=" + bootstrap);
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    out = make_error(Errc::unavailable,
                     fmt::format("creating topics failed: {}", rd_kafka_event_error_string(ev)));
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto code = rd_kafka_topic_result_error(results[i]);
      const std::string name = rd_kafka_topic_result_name(results[i]);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out->push_back(name);
      } else if (code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* why = rd_kafka_topic_result_error_string(results[i]);
        out = make_error(Errc::unavailable,
                         fmt::format("creating topic {} failed: {}", name,
                                     why != nullptr ? why : rd_kafka_err2str(code)));
        break;
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  return out;
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

}  // namespace streamflow::io
