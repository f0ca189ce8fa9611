#include "serve/health.h"

#include <fmt/format.h>

#include <chrono>

#include "deploy/topology.h"
#include "io/connect.h"
#include "serve/clock.h"

namespace streamflow::serve {

namespace {

/// Whether `service` is `engine` or one of its nodes in a cluster layout ("kafka-2").
bool node_of(const std::string& service, std::string_view engine) {
  return deploy::engine_of(service) == engine;
}

/// The service `name`, or in a cluster layout a healthy node of that engine (else its first).
const ServiceReading* find(const std::vector<ServiceReading>& services, std::string_view name) {
  const ServiceReading* found = nullptr;
  for (const auto& s : services) {
    if (!node_of(s.name, name)) continue;
    if (s.healthy) return &s;
    if (!found) found = &s;
  }
  return found;
}

std::optional<double> rate(const std::optional<std::int64_t>& now,
                           const std::optional<std::int64_t>& before, double seconds) {
  if (!now || !before || seconds <= 0) return std::nullopt;
  return std::max(0.0, static_cast<double>(*now - *before) / seconds);
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

/// "RUNNING task0=RUNNING task1=FAILED" -> whether the connector and every task run.
bool connector_running(const std::string& states) {
  if (states.rfind("RUNNING", 0) != 0) return false;
  std::size_t pos = 0;
  while ((pos = states.find('=', pos)) != std::string::npos) {
    if (states.compare(pos + 1, 7, "RUNNING") != 0) return false;
    ++pos;
  }
  return true;
}

}  // namespace

std::string_view to_string(StageState s) {
  switch (s) {
    case StageState::ok:
      return "ok";
    case StageState::behind:
      return "behind";
    case StageState::down:
      return "down";
  }
  return "down";
}

const Stage* HealthSnapshot::stage(std::string_view name) const {
  for (const auto& s : stages)
    if (s.name == name) return &s;
  return nullptr;
}

HealthSnapshot evaluate(const Readings& r, const std::optional<Readings>& b,
                        const HealthLimits& limits) {
  HealthSnapshot h;
  h.at_ms = r.at_ms;
  h.services = r.services;
  h.dead_letters = r.counts.dead_letters;
  h.rejects = r.counts.staging_rejects;
  h.failed_batches = r.counts.failed_batches;
  h.connector = r.connector;
  h.connector_failure = r.connector_failure;
  h.slot_active = r.slot_active;
  h.slot_retained_wal_bytes = r.slot_retained_wal_bytes;
  const double dt = b ? static_cast<double>(r.at_ms - b->at_ms) / 1000.0 : 0;
  // An engine of several nodes (a cluster layout) works while a majority of them is up: Kafka
  // acknowledges with two of three in sync, Cassandra answers LOCAL_QUORUM with two of three.
  // Connect needs one worker: the other takes the task over.
  auto service_down = [&](std::string_view name) -> std::optional<std::string> {
    const auto* s = find(r.services, name);
    if (!s) return std::string(name) + " is not part of the stack";
    int nodes = 0;
    int up = 0;
    std::string down;
    for (const auto& svc : r.services) {
      if (!node_of(svc.name, name)) continue;
      ++nodes;
      if (svc.healthy) {
        ++up;
      } else {
        down += (down.empty() ? "" : "; ") + svc.name + ": " + svc.detail;
      }
    }
    if (nodes == 1) {
      if (!s->healthy) return std::string(name) + " is down: " + s->detail;
      return std::nullopt;
    }
    const bool works = name == "connect" ? up >= 1 : up * 2 > nodes;
    if (!works) return fmt::format("{} is down: {} of {} nodes up ({})", name, up, nodes, down);
    return std::nullopt;
  };

  Stage ingest;
  ingest.name = "ingest";
  ingest.total = r.counts.staging_users;
  ingest.rate_per_s = rate(r.counts.staging_users, b ? b->counts.staging_users : std::nullopt, dt);
  if (r.counts.staging_rejects || r.counts.failed_batches)
    ingest.errors = r.counts.staging_rejects.value_or(0) + r.counts.failed_batches.value_or(0);
  if (auto why = service_down("postgres")) {
    ingest.detail = *why;
  } else if (!r.counts.staging_users) {
    ingest.detail = "PostgreSQL staging does not answer";
  } else {
    ingest.state = StageState::ok;
    ingest.detail = fmt::format("{} users in staging", *r.counts.staging_users);
  }

  Stage cdc;
  cdc.name = "cdc";
  cdc.total = r.counts.cdc_events;
  cdc.rate_per_s = rate(r.counts.cdc_events, b ? b->counts.cdc_events : std::nullopt, dt);
  cdc.lag = r.slot_retained_wal_bytes;
  cdc.lag_unit = "bytes of WAL retained";
  if (auto why = service_down("connect")) {
    cdc.detail = *why;
  } else if (!connector_running(r.connector)) {
    cdc.detail =
        r.connector.empty() ? "the connector is not registered" : "connector " + r.connector;
    // Why, and what to do, on the dashboard's card: a refused schema change, say.
    if (!r.connector_failure.empty()) cdc.detail += ": " + r.connector_failure;
    if (auto advice = io::failure_advice(r.connector_failure); !advice.empty())
      cdc.detail += " (" + advice + ")";
  } else if (r.slot_active && !*r.slot_active) {
    cdc.detail = "the replication slot is inactive";
  } else if (r.capture_stalled_s && *r.capture_stalled_s >= limits.capture_stalled_s) {
    cdc.state = StageState::behind;
    cdc.detail = fmt::format(
        "capture has moved nothing for {:.0f} s while staging.users changed (the watchdog "
        "restarts the task after cdc.stall_timeout_s)",
        *r.capture_stalled_s);
  } else if (r.slot_retained_wal_bytes &&
             *r.slot_retained_wal_bytes > limits.slot_retained_wal_bytes) {
    cdc.state = StageState::behind;
    cdc.detail = fmt::format("the slot retains {} MB of WAL", *r.slot_retained_wal_bytes >> 20);
  } else {
    cdc.state = StageState::ok;
    cdc.detail = "connector " + r.connector;
  }

  Stage spark;
  spark.name = "spark";
  spark.total = r.counts.spark_upserted;
  spark.rate_per_s = rate(r.counts.spark_upserted, b ? b->counts.spark_upserted : std::nullopt, dt);
  spark.errors = r.counts.dead_letters;
  spark.lag_unit = "change events not yet read";
  if (r.counts.cdc_events && r.counts.spark_consumed)
    spark.lag = std::max<std::int64_t>(0, *r.counts.cdc_events - *r.counts.spark_consumed);
  if (r.counts.spark_last_commit_ms && r.counts.spark_last_written_ms)
    h.freshness_s =
        static_cast<double>(*r.counts.spark_last_written_ms - *r.counts.spark_last_commit_ms) /
        1000.0;
  if (!r.spark_enabled) {
    spark.detail = "the streaming job is disabled (spark.enabled=false)";
  } else if (auto why = service_down("spark")) {
    spark.detail = *why;
  } else if (spark.lag && *spark.lag > limits.spark_lag_messages) {
    spark.state = StageState::behind;
    spark.detail = fmt::format("{} change events behind the topic", *spark.lag);
  } else if (h.freshness_s && *h.freshness_s > limits.freshness_s && spark.lag && *spark.lag > 0) {
    spark.state = StageState::behind;
    spark.detail = fmt::format("the newest change took {:.1f} s to land", *h.freshness_s);
  } else {
    spark.state = StageState::ok;
    spark.detail = spark.lag ? fmt::format("{} change events behind", *spark.lag) : "running";
  }

  Stage cassandra;
  cassandra.name = "cassandra";
  cassandra.total = r.counts.cassandra_users;
  cassandra.rate_per_s =
      rate(r.counts.cassandra_users, b ? b->counts.cassandra_users : std::nullopt, dt);
  if (auto why = service_down("cassandra")) {
    cassandra.detail = *why;
  } else if (!r.counts.cassandra_users) {
    cassandra.detail = "Cassandra does not answer queries";
  } else {
    cassandra.state = StageState::ok;
    cassandra.detail = fmt::format("{} users", *r.counts.cassandra_users);
  }
  h.stages = {ingest, cdc, spark, cassandra};
  return h;
}

nlohmann::json HealthSnapshot::to_json() const {
  nlohmann::json stages_json = nlohmann::json::array();
  for (const auto& s : stages) {
    stages_json.push_back({{"name", s.name},
                           {"state", to_string(s.state)},
                           {"total", opt(s.total)},
                           {"rate_per_s", opt(s.rate_per_s)},
                           {"lag", opt(s.lag)},
                           {"lag_unit", s.lag_unit},
                           {"errors", opt(s.errors)},
                           {"detail", s.detail}});
  }
  nlohmann::json services_json = nlohmann::json::array();
  for (const auto& s : services)
    services_json.push_back({{"name", s.name}, {"healthy", s.healthy}, {"detail", s.detail}});
  return {{"at", at_ms},
          {"stages", stages_json},
          {"services", services_json},
          {"freshness_s", opt(freshness_s)},
          {"dead_letters", opt(dead_letters)},
          {"rejects", opt(rejects)},
          {"failed_batches", opt(failed_batches)},
          {"connector", connector},
          {"connector_failure", connector_failure},
          {"replication_slot",
           {{"active", opt(slot_active)}, {"retained_wal_bytes", opt(slot_retained_wal_bytes)}}}};
}

// ---------------------------------------------------------------------------------------------

HealthMonitor::HealthMonitor(deploy::Layout layout, std::string pg_conninfo, ServiceProber prober,
                             int interval_ms)
    : layout_(std::move(layout)),
      pg_conninfo_(std::move(pg_conninfo)),
      prober_(std::move(prober)),
      interval_ms_(interval_ms) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void HealthMonitor::stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::pair<HealthSnapshot, std::uint64_t> HealthMonitor::latest() const {
  std::lock_guard lock(mu_);
  return {latest_, seq_};
}

std::uint64_t HealthMonitor::wait_newer(std::uint64_t seen, int timeout_ms) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return seq_ > seen || stop_.load(); });
  return seq_;
}

void read_services(Readings& r, const std::vector<ServiceReading>& services) {
  r.services = services;
  for (const auto& svc : services) {
    if (!node_of(svc.name, "connect") || !svc.healthy) continue;
    for (const auto& [k, v] : svc.facts) {
      if (k == "connector") r.connector = v == "not registered" ? "" : v;
      if (k == "failure") r.connector_failure = v;
      if (k == "slot") r.slot_active = v.size() >= 7 && v.compare(v.size() - 7, 7, " active") == 0;
      if (k == "slot_retained_wal_bytes") {
        try {
          r.slot_retained_wal_bytes = std::stoll(v);
        } catch (const std::exception&) {
        }
      }
    }
  }
}

Readings HealthMonitor::read_all(observe::PipelineReader& reader) {
  Readings r;
  r.spark_enabled = layout_.spark.enabled;
  read_services(r, prober_());
  r.counts = reader.read();
  if (capture_stall_) r.capture_stalled_s = capture_stall_();
  r.at_ms = now_ms();
  return r;
}

void HealthMonitor::run() {
  observe::PipelineReader reader(layout_, pg_conninfo_);
  std::optional<Readings> before;
  while (!stop_) {
    auto now = read_all(reader);
    auto snapshot = evaluate(now, before);
    before = std::move(now);
    {
      std::lock_guard lock(mu_);
      latest_ = std::move(snapshot);
      ++seq_;
    }
    cv_.notify_all();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [&] { return stop_.load(); });
  }
}

}  // namespace streamflow::serve
