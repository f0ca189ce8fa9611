#include "control/consumer_groups.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

#include "base/log.h"
#include "control/client.h"

namespace streamflow::control {

using base::Errc;
using base::make_error;

std::int64_t compute_lag(std::int64_t committed, std::int64_t end) {
  if (committed < 0 || end < 0) return -1;
  return std::max<std::int64_t>(0, end - committed);
}

void settle(GroupLag& group, const EndOffset& end_offset) {
  group.total_lag = 0;
  for (auto& p : group.partitions) {
    if (p.committed < 0) p.committed = -1;  // librdkafka says "none" as -1001
    p.end = end_offset ? end_offset(p.topic, p.partition) : -1;
    if (p.end < 0) p.end = -1;
    p.lag = compute_lag(p.committed, p.end);
    if (p.lag > 0) group.total_lag += p.lag;
  }
  std::sort(group.partitions.begin(), group.partitions.end(),
            [](const PartitionLag& a, const PartitionLag& b) {
              return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
            });
}

namespace {

/// A partition key of Spark's offset JSON ("0", "12") as a number; nothing else is one.
std::optional<int> partition_number(const std::string& key) {
  int n = 0;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), n);
  if (ec != std::errc() || end != key.data() + key.size() || n < 0) return std::nullopt;
  return n;
}

nlohmann::json offset_or_null(std::int64_t v) {
  return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<GroupLag> spark_consumers(const nlohmann::json& progress, const EndOffset& end_offset) {
  std::vector<GroupLag> out;
  if (!progress.is_object()) return out;
  const auto queries = progress.find("queries");
  if (queries == progress.end() || !queries->is_object()) return out;
  // nlohmann's objects are ordered maps: the queries come in name order.
  for (const auto& [name, q] : queries->items()) {
    GroupLag g;
    g.group = "spark:" + name;
    g.source = "spark";
    const bool active = q.is_object() && q.contains("active") && q["active"].is_boolean() &&
                        q["active"].get<bool>();
    g.state = active ? "active" : "inactive";
    g.members = active ? 1 : 0;
    std::map<std::pair<std::string, int>, std::int64_t> next;  // a partition twice: first wins
    if (q.is_object() && q.contains("end_offsets") && q["end_offsets"].is_array()) {
      for (const auto& source : q["end_offsets"]) {
        // Spark's SourceProgress.endOffset is JSON text that its progress JSON embeds parsed;
        // accept the text too, as a reader of SourceProgress.endOffset would hand it over.
        const nlohmann::json offsets =
            source.is_string() ? nlohmann::json::parse(source.get<std::string>(), nullptr, false)
                               : source;
        if (!offsets.is_object()) continue;  // null: no batch yet; discarded: not JSON
        for (const auto& [topic, partitions] : offsets.items()) {
          if (!partitions.is_object()) continue;
          for (const auto& [key, offset] : partitions.items()) {
            const auto p = partition_number(key);
            if (!p || !offset.is_number_integer()) continue;
            next.emplace(std::make_pair(topic, *p), offset.get<std::int64_t>());
          }
        }
      }
    }
    for (const auto& [tp, offset] : next)
      g.partitions.push_back({tp.first, tp.second, offset, -1, -1});
    settle(g, end_offset);
    out.push_back(std::move(g));
  }
  return out;
}

nlohmann::json to_json(const std::vector<GroupLag>& groups) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& g : groups) {
    nlohmann::json partitions = nlohmann::json::array();
    for (const auto& p : g.partitions) {
      partitions.push_back({{"topic", p.topic},
                            {"partition", p.partition},
                            {"committed", offset_or_null(p.committed)},
                            {"end", offset_or_null(p.end)},
                            {"lag", offset_or_null(p.lag)}});
    }
    list.push_back({{"group", g.group},
                    {"state", g.state},
                    {"members", g.members},
                    {"source", g.source},
                    {"total_lag", g.total_lag},
                    {"partitions", std::move(partitions)}});
  }
  return {{"groups", std::move(list)}};
}

namespace {

using Event = std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)>;

/// Sends one admin request (`issue` puts it on the queue with the options) and waits for its
/// answer: timeout when none comes, unavailable when the request as a whole failed.
template <class Issue>
base::Result<Event> admin_request(rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms,
                                  const std::string& what, const std::string& bootstrap,
                                  Issue issue) {
  char err[512];
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, op);
  rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, err, sizeof(err));
  issue(options, queue);
  Event ev(rd_kafka_queue_poll(queue, timeout_ms + 2000), &rd_kafka_event_destroy);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  if (!ev) {
    return make_error(Errc::timeout, fmt::format("Kafka did not answer {} in time", what),
                      "bootstrap=" + bootstrap);
  }
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(Errc::unavailable,
                      fmt::format("{} failed: {}", what, rd_kafka_event_error_string(ev.get())),
                      "bootstrap=" + bootstrap);
  }
  return ev;
}

/// The group's partitions: every committed one with its offset, plus every assigned one
/// without a commit yet (-1).
void add_partitions(GroupLag& g, const rd_kafka_topic_partition_list_t* list, bool committed) {
  if (list == nullptr) return;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    auto it = std::find_if(g.partitions.begin(), g.partitions.end(), [&](const PartitionLag& p) {
      return p.topic == tp.topic && p.partition == tp.partition;
    });
    if (it == g.partitions.end()) {
      g.partitions.push_back({tp.topic, tp.partition, -1, -1, -1});
      it = std::prev(g.partitions.end());
    }
    if (committed && tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.offset >= 0)
      it->committed = tp.offset;
  }
}

}  // namespace

base::Result<std::vector<GroupLag>> consumer_groups(const std::string& bootstrap, int timeout_ms) {
  auto log = base::logger("control");
  auto client = open_client(bootstrap);
  if (!client) return client.error();
  rd_kafka_t* rk = client->get();

  // 1. The groups and their states, from every broker.
  auto listed = admin_request(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_ms,
                              "the consumer group listing", bootstrap,
                              [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                                rd_kafka_ListConsumerGroups(rk, options, queue);
                              });
  if (!listed) return listed.error();
  std::map<std::string, GroupLag> groups;
  {
    const auto* result = rd_kafka_event_ListConsumerGroups_result(listed->get());
    std::size_t n = 0, n_errors = 0;
    const auto** valid = rd_kafka_ListConsumerGroups_result_valid(result, &n);
    const auto** errors = rd_kafka_ListConsumerGroups_result_errors(result, &n_errors);
    if (n_errors > 0) {
      // A broker that did not answer: its groups are missing; with none listed, say why.
      const std::string why = rd_kafka_error_string(errors[0]);
      if (n == 0) {
        return make_error(Errc::unavailable, "listing consumer groups failed: " + why,
                          "bootstrap=" + bootstrap);
      }
      log->warn("consumer group listing incomplete errors={} first=\"{}\"", n_errors, why);
    }
    for (std::size_t i = 0; i < n; ++i) {
      GroupLag g;
      g.group = rd_kafka_ConsumerGroupListing_group_id(valid[i]);
      g.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(valid[i]));
      groups.emplace(g.group, std::move(g));
    }
  }
  if (groups.empty()) return std::vector<GroupLag>{};

  // 2. Members and their assignments, all groups in one request.
  std::vector<const char*> names;
  for (const auto& [name, _] : groups) names.push_back(name.c_str());
  auto described = admin_request(
      rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_ms, "the consumer group description",
      bootstrap, [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DescribeConsumerGroups(rk, names.data(), names.size(), options, queue);
      });
  if (!described) {
    log->warn("consumer groups not described: {}", described.error().describe());
  } else {
    std::size_t n = 0;
    const auto** descs = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(described->get()), &n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto it = groups.find(rd_kafka_ConsumerGroupDescription_group_id(descs[i]));
      if (it == groups.end()) continue;
      if (const auto* e = rd_kafka_ConsumerGroupDescription_error(descs[i])) {
        log->warn("group={} not described: {}", it->first, rd_kafka_error_string(e));
        continue;
      }
      auto& g = it->second;
      g.state =
          rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(descs[i]));
      const auto members = rd_kafka_ConsumerGroupDescription_member_count(descs[i]);
      g.members = static_cast<int>(members);
      for (std::size_t m = 0; m < members; ++m) {
        const auto* member = rd_kafka_ConsumerGroupDescription_member(descs[i], m);
        const auto* assignment = rd_kafka_MemberDescription_assignment(member);
        if (assignment != nullptr)
          add_partitions(g, rd_kafka_MemberAssignment_partitions(assignment), false);
      }
    }
  }

  // 3. Committed offsets, one group per request (all librdkafka 2.0 allows).
  for (auto& [name, g] : groups) {
    // NULL partitions: every partition the group has committed.
    rd_kafka_ListConsumerGroupOffsets_t* request =
        rd_kafka_ListConsumerGroupOffsets_new(name.c_str(), nullptr);
    auto offsets =
        admin_request(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms,
                      "the committed offsets of " + name, bootstrap,
                      [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                        rd_kafka_ListConsumerGroupOffsets(rk, &request, 1, options, queue);
                      });
    rd_kafka_ListConsumerGroupOffsets_destroy(request);
    if (!offsets) {
      log->warn("group={} offsets not read: {}", name, offsets.error().describe());
      continue;
    }
    std::size_t n = 0;
    const auto** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(offsets->get()), &n);
    for (std::size_t i = 0; i < n; ++i) {
      if (const auto* e = rd_kafka_group_result_error(results[i])) {
        log->warn("group={} offsets not read: {}", name, rd_kafka_error_string(e));
        continue;
      }
      add_partitions(g, rd_kafka_group_result_partitions(results[i]), true);
    }
  }

  // 4. Each partition's end, asked once whichever groups read it.
  std::map<std::pair<std::string, int>, std::int64_t> ends;
  const EndOffset end_offset = [&](const std::string& topic, int partition) -> std::int64_t {
    const auto key = std::make_pair(topic, partition);
    if (const auto it = ends.find(key); it != ends.end()) return it->second;
    std::int64_t low = 0, high = -1;
    const auto rc =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log->warn("end offset of {}[{}] not read: {}", topic, partition, rd_kafka_err2str(rc));
      high = -1;
    }
    ends.emplace(key, high);
    return high;
  };
  std::vector<GroupLag> out;
  for (auto& [name, g] : groups) {
    settle(g, end_offset);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace streamflow::control
