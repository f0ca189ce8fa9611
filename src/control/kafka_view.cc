#include "control/kafka_view.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

#include "base/net.h"
#include "control/client.h"
#include "control/kafka_quorum.h"

namespace streamflow::control {

using base::Errc;
using base::make_error;

int TopicState::replication_factor() const {
  std::size_t rf = 0;
  for (const auto& p : partitions) rf = std::max(rf, p.replicas.size());
  return static_cast<int>(rf);
}

int TopicState::under_replicated() const {
  return static_cast<int>(std::count_if(partitions.begin(), partitions.end(),
                                        [](const auto& p) { return p.under_replicated(); }));
}

int TopicState::offline() const {
  return static_cast<int>(std::count_if(partitions.begin(), partitions.end(),
                                        [](const auto& p) { return p.offline(); }));
}

std::int64_t TopicState::end_offset_total() const {
  std::int64_t total = 0;
  for (const auto& p : partitions) {
    if (p.end_offset < 0) return -1;
    total += p.end_offset;
  }
  return total;
}

std::optional<std::int64_t> TopicState::size_bytes() const {
  std::int64_t total = 0;
  for (const auto& p : partitions) {
    if (!p.size_bytes) return std::nullopt;
    total += *p.size_bytes;
  }
  return total;
}

const TopicState* ClusterState::topic(const std::string& name) const {
  for (const auto& t : topics)
    if (t.name == name) return &t;
  return nullptr;
}

std::int64_t ClusterState::under_replicated() const {
  std::int64_t n = 0;
  for (const auto& t : topics) n += t.under_replicated();
  return n;
}

std::int64_t ClusterState::offline() const {
  std::int64_t n = 0;
  for (const auto& t : topics) n += t.offline();
  return n;
}

bool is_internal_topic(const std::string& name) {
  return name.rfind("__", 0) == 0 || name.rfind("streamflow-connect-", 0) == 0;
}

void add_missing_brokers(ClusterState& state, const std::vector<ExpectedBroker>& expected) {
  for (auto& b : state.brokers)
    for (const auto& e : expected)
      if (e.id == b.id && e.known_down) b.up = false;
  for (const auto& e : expected) {
    const bool listed = std::any_of(state.brokers.begin(), state.brokers.end(),
                                    [&](const BrokerState& b) { return b.id == e.id; });
    if (!listed) state.brokers.push_back({e.id, e.host, e.port, false, false});
  }
  std::sort(state.brokers.begin(), state.brokers.end(),
            [](const BrokerState& a, const BrokerState& b) { return a.id < b.id; });
}

void rates_between(ClusterState& now, const ClusterState& before) {
  const double seconds = static_cast<double>(now.at_ms - before.at_ms) / 1000.0;
  if (seconds <= 0) return;
  for (auto& t : now.topics) {
    const auto* old = before.topic(t.name);
    if (old == nullptr) continue;
    const auto a = old->end_offset_total();
    const auto b = t.end_offset_total();
    // A topic deleted and made again, or a partition without a watermark: no rate, not a
    // negative one.
    if (a < 0 || b < 0 || b < a) continue;
    t.messages_per_s = static_cast<double>(b - a) / seconds;
  }
}

std::optional<std::int64_t> partition_dir_size(const std::string& log_dir, const std::string& topic,
                                               int partition) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(log_dir) / fmt::format("{}-{}", topic, partition);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  std::int64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code size_ec;
    const auto n = entry.is_regular_file(size_ec) ? entry.file_size(size_ec) : 0;
    if (!size_ec) total += static_cast<std::int64_t>(n);
  }
  return total;
}

base::Result<Client> open_client(const std::string& bootstrap) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, const char*> settings[] = {{"bootstrap.servers", bootstrap.c_str()},
                                                          {"log_level", "0"},
                                                          {"allow.auto.create.topics", "false"},
                                                          {"enable.auto.commit", "false"}};
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(Errc::invalid_argument, std::string("librdkafka config: ") + err);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::unavailable, std::string("librdkafka: ") + err);
  }
  return Client(rk, &rd_kafka_destroy);
}

base::Result<ClusterState> read_cluster(const std::string& bootstrap,
                                        const std::vector<ExpectedBroker>& expected,
                                        const PartitionSize& size, int timeout_ms) {
  auto client = open_client(bootstrap);
  if (!client) return client.error();
  rd_kafka_t* rk = client->get();
  const rd_kafka_metadata_t* md = nullptr;
  const auto rc = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms);
  if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Errc::unavailable,
                      fmt::format("Kafka metadata from {}: {}", bootstrap, rd_kafka_err2str(rc)),
                      "bootstrap=" + bootstrap);
  }
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&rd_kafka_metadata_destroy)> guard(
      md, &rd_kafka_metadata_destroy);

  ClusterState state;
  state.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  // The active controller is the KRaft quorum's leader, which any broker reports. Only when no
  // broker answers DescribeQuorum, the metadata's controller id (a KRaft broker names any live
  // broker there, so it is marked as such).
  std::set<int> down;
  for (const auto& e : expected)
    if (e.known_down) down.insert(e.id);
  // A broker just killed is still listed (and still leads its partitions) until its session
  // times out; its port refuses at once. Asking it would wait out the timeout per partition.
  for (int i = 0; i < md->broker_cnt; ++i)
    if (!base::tcp_port_open(md->brokers[i].host, md->brokers[i].port,
                             std::chrono::milliseconds(300)))
      down.insert(md->brokers[i].id);
  for (int i = 0; i < md->broker_cnt && state.controller_id < 0; ++i) {
    if (down.count(md->brokers[i].id)) continue;
    if (auto q = describe_quorum(md->brokers[i].host, md->brokers[i].port, timeout_ms); q) {
      state.controller_id = q->leader_id;
      state.controller_from_quorum = true;
    }
  }
  if (state.controller_id < 0) state.controller_id = rd_kafka_controllerid(rk, timeout_ms);
  for (int i = 0; i < md->broker_cnt; ++i) {
    const auto& b = md->brokers[i];
    state.brokers.push_back({b.id, b.host, b.port, !down.count(b.id), b.id == state.controller_id});
  }
  add_missing_brokers(state, expected);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt == 0) continue;
    TopicState topic;
    topic.name = t.topic;
    topic.internal = is_internal_topic(topic.name);
    for (int p = 0; p < t.partition_cnt; ++p) {
      const auto& mp = t.partitions[p];
      PartitionState ps;
      ps.partition = mp.id;
      ps.leader = mp.leader;
      ps.replicas.assign(mp.replicas, mp.replicas + mp.replica_cnt);
      ps.isr.assign(mp.isrs, mp.isrs + mp.isr_cnt);
      if (!ps.offline() && !down.count(ps.leader)) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        if (rd_kafka_query_watermark_offsets(rk, t.topic, mp.id, &low, &high, timeout_ms) ==
            RD_KAFKA_RESP_ERR_NO_ERROR)
          ps.end_offset = high;
        if (size) ps.size_bytes = size(ps.leader, topic.name, ps.partition);
      }
      topic.partitions.push_back(std::move(ps));
    }
    std::sort(topic.partitions.begin(), topic.partitions.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    state.topics.push_back(std::move(topic));
  }
  std::sort(state.topics.begin(), state.topics.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return state;
}

namespace {

template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json brokers_json(const ClusterState& state) {
  nlohmann::json brokers = nlohmann::json::array();
  for (const auto& b : state.brokers)
    brokers.push_back({{"id", b.id},
                       {"host", b.host},
                       {"port", b.port},
                       {"up", b.up},
                       {"controller", b.controller}});
  return {{"at", state.at_ms},
          {"controller_id",
           state.controller_id < 0 ? nlohmann::json(nullptr) : nlohmann::json(state.controller_id)},
          {"controller_source", state.controller_from_quorum ? "quorum" : "metadata"},
          {"brokers", brokers}};
}

nlohmann::json topics_json(const ClusterState& state, bool partitions) {
  nlohmann::json topics = nlohmann::json::array();
  for (const auto& t : state.topics) {
    const auto end = t.end_offset_total();
    nlohmann::json j = {{"name", t.name},
                        {"internal", t.internal},
                        {"partitions", t.partitions.size()},
                        {"replication_factor", t.replication_factor()},
                        {"under_replicated", t.under_replicated()},
                        {"offline", t.offline()},
                        {"end_offset", end < 0 ? nlohmann::json(nullptr) : nlohmann::json(end)},
                        {"size_bytes", or_null(t.size_bytes())},
                        {"messages_per_s", or_null(t.messages_per_s)}};
    if (partitions) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : t.partitions)
        list.push_back(
            {{"partition", p.partition},
             {"leader", p.leader < 0 ? nlohmann::json(nullptr) : nlohmann::json(p.leader)},
             {"replicas", p.replicas},
             {"isr", p.isr},
             {"under_replicated", p.under_replicated()},
             {"end_offset",
              p.end_offset < 0 ? nlohmann::json(nullptr) : nlohmann::json(p.end_offset)},
             {"size_bytes", or_null(p.size_bytes)}});
      j["partition_list"] = list;
    }
    topics.push_back(std::move(j));
  }
  return {{"at", state.at_ms}, {"topics", topics}};
}

}  // namespace streamflow::control
