#include "control/room.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "base/fs.h"
#include "base/log.h"
#include "base/net.h"
#include "control/cassandra_view.h"
#include "control/connect_view.h"
#include "control/consumer_groups.h"
#include "control/decode.h"
#include "control/messages.h"
#include "control/postgres_view.h"
#include "control/schema_diff.h"
#include "control/spark_view.h"
#include "cql/cql.h"
#include "io/connect.h"
#include "io/pg.h"
#include "io/registry.h"

namespace streamflow::control {

using base::Errc;
using base::make_error;

namespace {

constexpr std::size_t kLooksKept = 180;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct HttpAnswer {
  int status = 0;
  std::string body;
};

/// One GET; unavailable when nothing answers.
base::Result<HttpAnswer> http_get(const std::string& host, int port, const std::string& path,
                                  int timeout_s = 3) {
  httplib::Client client(host, port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(timeout_s, 0);
  auto res = client.Get(path);
  if (!res)
    return make_error(Errc::unavailable,
                      fmt::format("no answer from {}:{}{}: {}", host, port, path,
                                  httplib::to_string(res.error())),
                      fmt::format("host={} port={}", host, port));
  return HttpAnswer{res->status, res->body};
}

}  // namespace

ControlRoom::ControlRoom(deploy::Layout layout, ControlOptions options, FactsSource facts)
    : layout_(std::move(layout)),
      options_(std::move(options)),
      facts_(std::move(facts)),
      audit_(options_.audit_file),
      watchdog_(options_.watchdog_options) {
  // Each node of the clustered engines by its main port (the names `status` gives them).
  const auto add = [this](const std::string& engine, const std::vector<deploy::Node>& nodes,
                          int port) {
    for (const auto& n : nodes)
      node_ports_.emplace_back(layout_.node_name(engine, n), n.host, port);
  };
  add("kafka", layout_.topology.kafka, layout_.ports.kafka);
  add("cassandra", layout_.topology.cassandra, layout_.ports.cassandra);
  add("connect", layout_.topology.connect, layout_.ports.connect);
  add("zookeeper", layout_.topology.zookeeper, layout_.ports.zookeeper);
  add("spark-master", layout_.topology.spark_masters, layout_.ports.spark_master);
  add("spark-worker", layout_.topology.spark_workers, layout_.ports.spark_worker);
}

ControlRoom::~ControlRoom() { stop(); }

void ControlRoom::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
  // The alerts on their own beat: a service's probe is in the facts within a second, and a
  // slow look at Kafka (when something broke) must not hold its alert back.
  alerts_thread_ = std::thread([this] {
    while (!stop_) {
      Look latest;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(1000), [this] { return stop_.load(); });
        if (stop_) return;
        if (!looks_.empty()) latest = looks_.back();
      }
      latest.at_ms = now_ms();
      check_ports();
      evaluate(latest);
    }
  });
}

void ControlRoom::stop() {
  {
    std::lock_guard lock(mu_);  // else the wake-up can fall between a wait's check and its sleep
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (alerts_thread_.joinable()) alerts_thread_.join();
}

std::vector<ExpectedBroker> ControlRoom::expected_brokers() const {
  std::set<std::string> closed;
  {
    std::lock_guard lock(mu_);
    closed = ports_closed_;
  }
  std::vector<ExpectedBroker> out;
  for (const auto& n : layout_.topology.kafka)
    out.push_back(
        {n.id, n.host, layout_.ports.kafka, closed.count(layout_.node_name("kafka", n)) > 0});
  return out;
}

PartitionSize ControlRoom::partition_size() const {
  // Kafka's node.id is the node's number in the topology: its log directory is ours to read
  // when it runs on this host.
  auto nodes = layout_.topology.kafka;
  auto layout = layout_;
  return [nodes, layout](int leader, const std::string& topic,
                         int partition) -> std::optional<std::int64_t> {
    for (const auto& n : nodes)
      if (n.id == leader)
        return partition_dir_size(layout.kafka_data(n).string(), topic, partition);
    return std::nullopt;
  };
}

void ControlRoom::mark_probed_down(ClusterState& state) const {
  // Kafka keeps a killed broker registered until its session times out (9 s by default); its
  // closed port and its node's probe say so sooner.
  const auto services = services_now();
  for (auto& b : state.brokers)
    for (const auto& n : layout_.topology.kafka) {
      if (n.id != b.id) continue;
      const auto name = layout_.node_name("kafka", n);
      for (const auto& [service, healthy] : services)
        if (service == name && !healthy) b.up = false;
    }
}

// ---- the looks --------------------------------------------------------------------------------

ControlRoom::Look ControlRoom::look() const {
  Look l;
  l.at_ms = now_ms();
  auto cluster = read_cluster(layout_.kafka_bootstrap(), expected_brokers(), {}, 2000);
  if (cluster) {
    mark_probed_down(*cluster);
    l.cluster = std::move(*cluster);
    if (auto lags = consumer_lags(*l.cluster); lags) {
      for (const auto& g : *lags)
        if (g.contains("total_lag") && g["total_lag"].is_number_integer())
          l.lag.emplace_back(g["group"].get<std::string>(), g["total_lag"].get<std::int64_t>());
    }
    if (const auto* dlq = l.cluster->topic(options_.dlq_topic); dlq && dlq->end_offset_total() >= 0)
      l.dead_letters = dlq->end_offset_total();
  }
  return l;
}

std::vector<std::pair<std::string, bool>> ControlRoom::services_now() const {
  auto services = facts_ ? facts_().services : std::vector<std::pair<std::string, bool>>{};
  std::set<std::string> closed;
  {
    std::lock_guard lock(mu_);
    closed = ports_closed_;
  }
  // Only the services the stack runs (those the monitor probes): a node left out on purpose
  // has a closed port too.
  for (auto& [name, healthy] : services)
    if (closed.count(name)) healthy = false;
  return services;
}

void ControlRoom::check_ports() {
  // A node whose own port refuses connections is down now: the health monitor's probes, which
  // ask more, can take seconds to say so (a dead broker's probe waits out its timeout).
  std::set<std::string> closed;
  for (const auto& [name, host, port] : node_ports_)
    if (!base::tcp_port_open(host, port, std::chrono::milliseconds(300))) closed.insert(name);
  std::lock_guard lock(mu_);
  ports_closed_ = std::move(closed);
}

void ControlRoom::evaluate(const Look& now) {
  const auto facts = facts_ ? facts_() : PipelineFacts{};
  AlertInputs in;
  in.at_ms = now.at_ms;
  in.services = services_now();
  in.consumer_lag = now.lag;
  if (now.cluster) {
    in.under_replicated_partitions = now.cluster->under_replicated();
    in.offline_partitions = now.cluster->offline();
  }
  in.slot_retained_wal_bytes = facts.slot_retained_wal_bytes;
  in.freshness_s = facts.freshness_s;
  {
    std::lock_guard lock(mu_);
    // Growth of the dead-letter topic within the window: now minus the oldest look in it.
    const auto dead_letters = now.dead_letters;  // the looks' own count, never mixed with another
    if (dead_letters) {
      for (const auto& l : looks_) {
        if (l.at_ms < now.at_ms - options_.thresholds.window_s * 1000 || !l.dead_letters) continue;
        in.dead_letters_growth = *dead_letters - *l.dead_letters;
        break;
      }
    }
    in.reconcile_ok = reconcile_ok_;
    in.reconcile_at_s = reconcile_at_s_;
    if (stalled_since_ms_)
      in.cdc_stalled_s = static_cast<double>(now.at_ms - *stalled_since_ms_) / 1000.0;
  }
  book_.update(evaluate_alerts(in, options_.thresholds), now.at_ms);
  std::lock_guard lock(mu_);
  evaluated_at_ms_ = now.at_ms;
}

void ControlRoom::run() {
  std::int64_t next_reconcile_read = 0;
  while (!stop_) {
    auto l = look();
    // The last reconcile's outcome, every 30 s: it changes hourly.
    if (l.at_ms >= next_reconcile_read) {
      next_reconcile_read = l.at_ms + 30000;
      if (auto conn = io::Connection::open(options_.pg_conninfo); conn) {
        auto rows = conn->exec(
            "SELECT ok, extract(epoch FROM run_at)::bigint FROM staging.reconcile_runs "
            "ORDER BY run_at DESC LIMIT 1");
        std::lock_guard lock(mu_);
        if (rows && rows->size() == 1) {
          reconcile_ok_ = rows->text(0, 0) == "t";
          reconcile_at_s_ = rows->integer(0, 1);
        } else if (rows) {
          reconcile_ok_.reset();
          reconcile_at_s_.reset();
        }
      }
    }
    {
      std::lock_guard lock(mu_);
      if (l.cluster && !looks_.empty() && looks_.back().cluster)
        rates_between(*l.cluster, *looks_.back().cluster);
    }
    if (layout_.cdc_enabled) watch_capture(l);
    evaluate(l);
    {
      std::lock_guard lock(mu_);
      looks_.push_back(std::move(l));
      while (looks_.size() > kLooksKept) looks_.pop_front();
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.sample_ms),
                 [this] { return stop_.load(); });
  }
}

void ControlRoom::watch_capture(const Look& now) {
  CaptureLook c;
  c.at_ms = now.at_ms;
  for (const auto& n : layout_.topology.connect) {
    io::ConnectClient client(n.host, layout_.ports.connect, 5);
    auto state = client.state(layout_.cdc_connector);
    if (state) {
      c.connector = state->connector;
      c.tasks = state->tasks;
      break;
    }
    if (state.error().code == Errc::not_found) break;  // a worker answered: not registered
  }
  if (now.cluster)
    if (const auto* topic = now.cluster->topic(layout_.cdc_topic());
        topic && topic->end_offset_total() >= 0)
      c.topic_end = topic->end_offset_total();
  // The slot's confirmed position and the captured table's change count, on a connection kept
  // open (a look every control.sample_ms).
  if (!capture_pg_ || !capture_pg_->ok()) {
    auto conn = io::Connection::open(options_.pg_conninfo);
    capture_pg_ = conn ? std::make_unique<io::Connection>(std::move(*conn)) : nullptr;
  }
  if (capture_pg_) {
    auto rows = capture_pg_->exec(
        "SELECT (SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint "
        "FROM pg_replication_slots WHERE slot_name = $1), "
        "(SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
        "WHERE schemaname = 'staging' AND relname = 'users')",
        {layout_.cdc_slot});
    if (rows && rows->size() == 1) {
      if (!rows->is_null(0, 0)) c.slot_confirmed_lsn = rows->integer(0, 0);
      if (!rows->is_null(0, 1)) c.table_changes = rows->integer(0, 1);
    } else if (!rows) {
      capture_pg_.reset();
    }
  }
  const auto action = watchdog_.observe(c);
  {
    std::lock_guard lock(mu_);
    stalled_since_ms_ = watchdog_.stalled_since_ms();
    watchdog_restarts_ = watchdog_.restarts();
  }
  if (!action || !options_.watchdog) return;  // without it, the stall only alerts
  const bool one_task = action->kind == WatchdogAction::Kind::restart_task;
  auto log = base::logger("serve");
  log->warn("watchdog: {}: restarting {}", action->reason,
            one_task ? fmt::format("task {} of {}", action->task, layout_.cdc_connector)
                     : "the failed parts of " + layout_.cdc_connector);
  const auto result = act(one_task ? "restart_task" : "restart_failed", layout_.cdc_connector,
                          action->task, "watchdog", action->reason);
  if (result.status != 200) log->error("watchdog: the restart failed: {}", result.body.dump());
}

// ---- Kafka --------------------------------------------------------------------------------------

base::Result<nlohmann::json> ControlRoom::brokers() const {
  auto cluster = read_cluster(layout_.kafka_bootstrap(), expected_brokers(), {});
  if (!cluster) return cluster.error();
  mark_probed_down(*cluster);
  auto j = brokers_json(*cluster);
  // Which of our nodes each broker is (kafka-2), for `streamflow logs`.
  for (auto& b : j["brokers"])
    for (const auto& n : layout_.topology.kafka)
      if (b["id"] == n.id) b["node"] = layout_.node_name("kafka", n);
  return j;
}

base::Result<nlohmann::json> ControlRoom::topics() const {
  auto cluster = read_cluster(layout_.kafka_bootstrap(), expected_brokers(), partition_size());
  if (!cluster) return cluster.error();
  {
    std::lock_guard lock(mu_);
    for (auto it = looks_.rbegin(); it != looks_.rend(); ++it) {
      if (!it->cluster || it->at_ms >= cluster->at_ms - 500) continue;
      rates_between(*cluster, *it->cluster);
      break;
    }
  }
  return topics_json(*cluster);
}

std::string ControlRoom::registry_schema(int id) const {
  {
    std::lock_guard lock(schema_mu_);
    if (auto it = schema_cache_.find(id); it != schema_cache_.end()) return it->second;
  }
  auto answer = http_get(layout_.single_host(), layout_.ports.registry,
                         "/apis/ccompat/v7/schemas/ids/" + std::to_string(id));
  if (!answer || answer->status != 200) return {};
  const auto doc = nlohmann::json::parse(answer->body, nullptr, false);
  if (!doc.is_object() || !doc.contains("schema") || !doc["schema"].is_string()) return {};
  auto schema = doc["schema"].get<std::string>();
  std::lock_guard lock(schema_mu_);
  schema_cache_[id] = schema;
  return schema;
}

base::Result<nlohmann::json> ControlRoom::messages(const std::string& topic, int partition,
                                                   int limit) const {
  if (limit < 1 || limit > options_.message_limit)
    return make_error(Errc::invalid_argument,
                      fmt::format("limit must be 1 to {}", options_.message_limit), "limit");
  // Kafka's and Connect's own topics hold offsets, configs and Connect's session key: not for
  // the browser.
  if (is_internal_topic(topic))
    return make_error(Errc::invalid_argument,
                      topic + " is an internal topic (Kafka's or Kafka Connect's): not browsed",
                      "topic");
  auto raw = read_last_messages(layout_.kafka_bootstrap(), topic, partition, limit);
  if (!raw) return raw.error();
  const SchemaLookup lookup = [this](int id) -> base::Result<std::string> {
    auto schema = registry_schema(id);
    if (schema.empty())
      return make_error(Errc::not_found,
                        fmt::format("schema id {} is not in the registry (or it is down)", id));
    return schema;
  };
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : *raw) list.push_back(decode_message(m, lookup));
  return nlohmann::json{{"topic", topic}, {"partition", partition}, {"messages", list}};
}

base::Result<std::vector<nlohmann::json>> ControlRoom::consumer_lags(
    const ClusterState& cluster) const {
  std::vector<GroupLag> groups;
  if (auto kafka = consumer_groups(layout_.kafka_bootstrap(), 3000); kafka) groups = *kafka;
  // The Spark job keeps its position in its checkpoints, not in Kafka: its progress says it.
  if (auto text = base::read_file(layout_.spark_progress_file()); text) {
    const auto progress = nlohmann::json::parse(*text, nullptr, false);
    if (progress.is_object()) {
      auto spark = spark_consumers(progress, [&cluster](const std::string& topic, int partition) {
        if (const auto* t = cluster.topic(topic))
          for (const auto& p : t->partitions)
            if (p.partition == partition) return p.end_offset;
        return std::int64_t{-1};
      });
      groups.insert(groups.begin(), spark.begin(), spark.end());
    }
  }
  auto j = to_json(groups);
  std::vector<nlohmann::json> out;
  for (auto& g : j["groups"]) out.push_back(std::move(g));
  return out;
}

base::Result<nlohmann::json> ControlRoom::consumers() const {
  auto cluster = read_cluster(layout_.kafka_bootstrap(), expected_brokers(), {});
  if (!cluster) return cluster.error();
  auto groups = consumer_lags(*cluster);
  if (!groups) return groups.error();
  nlohmann::json history = nlohmann::json::array();
  {
    std::lock_guard lock(mu_);
    for (const auto& l : looks_) {
      nlohmann::json lag = nlohmann::json::object();
      for (const auto& [name, total] : l.lag) lag[name] = total;
      history.push_back({{"at", l.at_ms}, {"lag", lag}});
    }
  }
  return nlohmann::json{{"groups", *groups}, {"history", history}};
}

// ---- Connect ------------------------------------------------------------------------------------

base::Result<nlohmann::json> ControlRoom::connect() const {
  std::vector<WorkerProbe> workers;
  std::optional<HttpAnswer> listing;
  base::Error last{Errc::unavailable, "no Kafka Connect worker is configured", ""};
  for (const auto& n : layout_.topology.connect) {
    const auto id = fmt::format("{}:{}", n.host, layout_.ports.connect);
    auto answer =
        listing ? base::Result<HttpAnswer>(HttpAnswer{})
                : http_get(n.host, layout_.ports.connect, "/connectors?expand=status&expand=info");
    if (listing) {
      // One worker answered for the group; the others are asked only whether they are up.
      auto up = http_get(n.host, layout_.ports.connect, "/");
      workers.push_back({id, up && up->status == 200});
      continue;
    }
    if (answer && answer->status == 200) {
      listing = *answer;
      workers.push_back({id, true});
    } else {
      if (!answer) last = answer.error();
      workers.push_back({id, false});
    }
  }
  if (!listing) {
    nlohmann::json j = {{"connectors", nlohmann::json::array()},
                        {"workers", workers_json(workers, nlohmann::json::object())},
                        {"error", last.describe()}};
    return j;
  }
  auto parsed = parse_connectors(listing->body);
  if (!parsed) return parsed.error();
  (*parsed)["workers"] = workers_json(workers, *parsed);
  return *parsed;
}

ActionResult ControlRoom::act(const std::string& action, const std::string& connector, int task,
                              const std::string& client, const std::string& why) {
  AuditEntry e;
  e.at_ms = now_ms();
  e.action = action;
  e.target = action == "restart_task" ? fmt::format("{}/{}", connector, task) : connector;
  e.client = client;
  e.detail = why;
  ActionResult result;
  if (!is_plain_connector_name(connector)) {
    result = {400, {{"error", "not a connector name"}, {"parameter", "connector"}}};
  } else {
    std::optional<base::Result<io::ConnectAnswer>> answer;
    for (const auto& n : layout_.topology.connect) {
      io::ConnectClient c(n.host, layout_.ports.connect, 10);
      if (action == "restart_task")
        answer = c.restart_task(connector, task);
      else if (action == "restart_failed")
        answer = c.restart_failed(connector);
      else if (action == "pause")
        answer = c.pause(connector);
      else
        answer = c.resume(connector);
      if (*answer) break;  // a worker answered (any status): the group has it
    }
    if (!answer || !*answer) {
      result = {503,
                {{"error", "no Kafka Connect worker answered: " +
                               (answer ? answer->error().describe() : std::string("none"))}}};
    } else if ((*answer)->status / 100 == 2) {
      result = {200,
                {{"done", action}, {"target", e.target}, {"connect_status", (*answer)->status}}};
    } else {
      // Connect's own words (404 unknown connector or task, 409 rebalancing).
      const auto body = nlohmann::json::parse((*answer)->body, nullptr, false);
      std::string message =
          body.is_object() && body.contains("message") && body["message"].is_string()
              ? body["message"].get<std::string>()
              : (*answer)->body.substr(0, 300);
      // Unknown connector or task, a rebalance, a refused request; anything else is Connect's
      // own failure (502).
      const int got = (*answer)->status;
      result = {
          got == 404       ? 404
          : got == 409     ? 409
          : got / 100 == 4 ? 400
                           : 502,
          {{"error", "Kafka Connect refused: " + message}, {"connect_status", (*answer)->status}}};
    }
  }
  e.status = result.status;
  e.outcome = result.status == 200 ? "done" : "failed";
  if (result.body.contains("error"))
    e.detail += (e.detail.empty() ? "" : ": ") + result.body["error"].get<std::string>();
  if (auto r = audit_.record(e); !r) {
    base::logger("serve")->error("audit log: {}", r.error().describe());
    return {500,
            {{"error", "the action was taken but could not be recorded in the audit log: " +
                           r.error().describe()}}};
  }
  return result;
}

void ControlRoom::refuse(const std::string& action, const std::string& target,
                         const std::string& client, int status, const std::string& why) {
  AuditEntry e{now_ms(), action, target, "refused", status, client, why};
  if (auto r = audit_.record(e); !r)
    base::logger("serve")->error("audit log: {}", r.error().describe());
}

nlohmann::json ControlRoom::audit(std::size_t limit) const {
  return {{"file", audit_.file().string()}, {"entries", audit_.recent(limit)}};
}

// ---- schemas ------------------------------------------------------------------------------------

base::Result<nlohmann::json> ControlRoom::schemas() const {
  if (!layout_.registry.enabled)
    return nlohmann::json{{"enabled", false},
                          {"subjects", nlohmann::json::array()},
                          {"note", "the schema registry is off (registry.enabled=false)"}};
  io::RegistryClient registry(layout_.single_host(), layout_.ports.registry);
  auto subjects = registry.subjects();
  if (!subjects) return subjects.error();
  auto global = registry.compatibility();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : *subjects) {
    auto versions = registry.versions(s);
    auto level = registry.subject_compatibility(s);
    list.push_back({{"subject", s},
                    {"versions", versions ? nlohmann::json(*versions) : nlohmann::json::array()},
                    {"compatibility", level ? nlohmann::json(*level) : nlohmann::json(nullptr)}});
  }
  return nlohmann::json{
      {"enabled", true},
      {"url", layout_.registry_url()},
      {"compatibility", global ? nlohmann::json(*global) : nlohmann::json(nullptr)},
      {"subjects", list}};
}

base::Result<nlohmann::json> ControlRoom::schema_version(const std::string& subject,
                                                         int version) const {
  io::RegistryClient registry(layout_.single_host(), layout_.ports.registry);
  auto v = registry.version(subject, version);
  if (!v) return v.error();
  auto schema = nlohmann::json::parse(v->schema, nullptr, false);
  return nlohmann::json{{"subject", v->subject},
                        {"version", v->version},
                        {"id", v->id},
                        {"schema", schema.is_discarded() ? nlohmann::json(v->schema) : schema}};
}

base::Result<nlohmann::json> ControlRoom::schema_diff(const std::string& subject, int from,
                                                      int to) const {
  io::RegistryClient registry(layout_.single_host(), layout_.ports.registry);
  auto a = registry.version(subject, from);
  if (!a) return a.error();
  auto b = registry.version(subject, to);
  if (!b) return b.error();
  auto diff = control::schema_diff(a->schema, b->schema);
  diff["subject"] = subject;
  diff["from"] = from;
  diff["to"] = to;
  return diff;
}

// ---- Spark, Cassandra, PostgreSQL -------------------------------------------------------------

base::Result<nlohmann::json> ControlRoom::spark() const {
  nlohmann::json j = {{"masters", nlohmann::json::array()},
                      {"application", nullptr},
                      {"executors", nlohmann::json::array()},
                      {"queries", nlohmann::json::array()}};
  for (const auto& m : layout_.topology.spark_masters) {
    auto answer = http_get(m.host, layout_.ports.spark_master_ui, "/json/");
    nlohmann::json master = {{"host", m.host}, {"node", layout_.node_name("spark-master", m)}};
    if (answer && answer->status == 200) {
      master.update(parse_master_json(answer->body));
    } else {
      master["status"] = "DOWN";
    }
    j["masters"].push_back(master);
  }
  if (layout_.ports.spark_ui != 0) {
    // The driver answers its UI between batches: give it longer than the other engines.
    auto apps = http_get("127.0.0.1", layout_.ports.spark_ui, "/api/v1/applications", 8);
    if (apps && apps->status == 200) {
      const auto list = parse_applications(apps->body);
      if (!list.empty()) {
        j["application"] = list.front();
        const auto id = list.front().value("id", "");
        auto ex = http_get("127.0.0.1", layout_.ports.spark_ui,
                           "/api/v1/applications/" + id + "/executors", 8);
        if (ex && ex->status == 200) j["executors"] = parse_executors(ex->body);
      }
    } else {
      j["application_error"] =
          apps ? fmt::format("Spark UI answered {}", apps->status) : apps.error().describe();
    }
  }
  if (auto text = base::read_file(layout_.spark_progress_file()); text)
    j["queries"] = parse_queries(nlohmann::json::parse(*text, nullptr, false));
  return j;
}

base::Result<nlohmann::json> ControlRoom::cassandra() const {
  std::vector<NodeProbe> probes;
  const auto facts = facts_ ? facts_() : PipelineFacts{};
  for (const auto& n : layout_.topology.cassandra) {
    const auto name = layout_.node_name("cassandra", n);
    bool reachable = false;
    for (const auto& [service, healthy] : facts.services)
      if (service == name) reachable = healthy;
    probes.push_back({n.host, reachable});
  }
  cql::ConnectOptions options;
  options.contact_point = layout_.cassandra_contact_point();
  auto session = cql::Session::connect(options);
  if (!session) return session.error();
  return cassandra_nodes(*session, probes);
}

base::Result<nlohmann::json> ControlRoom::postgres() const {
  auto conn = io::Connection::open(options_.pg_conninfo);
  if (!conn) return conn.error();
  return postgres_overview(*conn);
}

// ---- alerts and metrics -----------------------------------------------------------------------

nlohmann::json ControlRoom::alerts() const {
  std::int64_t at = 0;
  {
    std::lock_guard lock(mu_);
    at = evaluated_at_ms_;
  }
  return alerts_json(book_.current(), options_.thresholds, at);
}

std::optional<double> ControlRoom::capture_stalled_s() const {
  if (!layout_.cdc_enabled) return std::nullopt;
  std::lock_guard lock(mu_);
  return stalled_since_ms_ ? static_cast<double>(now_ms() - *stalled_since_ms_) / 1000.0 : 0.0;
}

ControlMetrics ControlRoom::metrics() const {
  ControlMetrics m;
  m.alerts = book_.current();
  m.cdc_stalled_s = capture_stalled_s();
  std::lock_guard lock(mu_);
  m.reconcile_ok = reconcile_ok_;
  m.reconcile_at_s = reconcile_at_s_;
  if (layout_.cdc_enabled && options_.watchdog) m.watchdog_restarts = watchdog_restarts_;
  if (looks_.empty()) return m;
  const auto& l = looks_.back();
  m.consumer_lag = l.lag;
  if (l.cluster) {
    for (const auto& t : l.cluster->topics)
      if (t.messages_per_s && !t.internal) m.topic_rates.emplace_back(t.name, *t.messages_per_s);
    m.under_replicated_partitions = l.cluster->under_replicated();
    m.offline_partitions = l.cluster->offline();
    for (const auto& b : l.cluster->brokers) m.brokers.emplace_back(b.id, b.up);
  }
  return m;
}

}  // namespace streamflow::control
