#include "ops/reconcile.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "base/log.h"
#include "config/secrets.h"
#include "cql/cql.h"
#include "deploy/layout.h"
#include "io/kafka.h"
#include "io/pg.h"

namespace streamflow::ops {

Report compare(const Snapshot& s, int freshness_s, std::size_t max_listed) {
  Report r;
  r.freshness_s = freshness_s;
  r.staging_users = static_cast<std::int64_t>(s.staging.size());
  r.cassandra_users = static_cast<std::int64_t>(s.cassandra_ids.size());
  const std::unordered_set<std::string> in_cassandra(s.cassandra_ids.begin(),
                                                     s.cassandra_ids.end());
  std::unordered_set<std::string> in_staging;
  in_staging.reserve(s.staging.size());
  std::vector<const StagingRow*> absent;
  for (const auto& row : s.staging) {
    in_staging.insert(row.user_id);
    if (!in_cassandra.count(row.user_id)) absent.push_back(&row);
  }
  std::sort(absent.begin(), absent.end(), [](const StagingRow* a, const StagingRow* b) {
    return a->updated_at_ms < b->updated_at_ms;
  });
  const std::int64_t bound_ms = static_cast<std::int64_t>(freshness_s) * 1000;
  for (const StagingRow* row : absent) {
    const std::int64_t age_ms = s.now_ms - row->updated_at_ms;
    r.lag_s = std::max(r.lag_s, static_cast<double>(age_ms) / 1000.0);
    if (age_ms > bound_ms) {
      ++r.missing;
      if (r.missing_ids.size() < max_listed) r.missing_ids.push_back(row->user_id);
    } else {
      ++r.in_flight;
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& id : s.cassandra_ids) {
    if (in_staging.count(id)) continue;
    if (s.purged_ids.count(id)) {
      ++r.purged_users;
    } else {
      unexpected.push_back(id);
    }
  }
  r.unexpected = static_cast<std::int64_t>(unexpected.size());
  std::sort(unexpected.begin(), unexpected.end());
  if (unexpected.size() > max_listed) unexpected.resize(max_listed);
  r.unexpected_ids = std::move(unexpected);
  return r;
}

std::string Report::to_json() const {
  nlohmann::json j = {{"ok", ok()},
                      {"staging_users", staging_users},
                      {"cassandra_users", cassandra_users},
                      {"purged_users", purged_users},
                      {"in_flight", in_flight},
                      {"missing", missing},
                      {"missing_ids", missing_ids},
                      {"unexpected", unexpected},
                      {"unexpected_ids", unexpected_ids},
                      {"lag_s", lag_s},
                      {"freshness_s", freshness_s},
                      {"rejects", rejects},
                      {"failed_batches", failed_batches},
                      {"dead_letters", dead_letters ? nlohmann::json(*dead_letters) : nullptr}};
  return j.dump();
}

std::string Report::to_text() const {
  std::string out = fmt::format(
      "reconcile: staging {} users, Cassandra {} ({} purged from staging), {} in flight, "
      "lag {:.1f} s; rejects {}, failed batches {}, dead letters {}\n",
      staging_users, cassandra_users, purged_users, in_flight, lag_s, rejects, failed_batches,
      dead_letters ? std::to_string(*dead_letters) : std::string("unknown (Kafka down)"));
  if (missing > 0) {
    out +=
        fmt::format("MISSING: {} staging user(s) not in Cassandra after {} s, oldest first: {}{}\n",
                    missing, freshness_s, fmt::join(missing_ids, ", "),
                    missing > static_cast<std::int64_t>(missing_ids.size()) ? ", ..." : "");
    out += "  check `streamflow status` (connector, slot, Spark job) and the dead-letter topic\n";
  }
  if (unexpected > 0) {
    out +=
        fmt::format("UNEXPECTED: {} Cassandra user(s) not in staging: {}{}\n", unexpected,
                    fmt::join(unexpected_ids, ", "),
                    unexpected > static_cast<std::int64_t>(unexpected_ids.size()) ? ", ..." : "");
  }
  if (ok()) out += "OK: every staging user is in Cassandra or within the freshness bound\n";
  return out;
}

base::Result<cql::Session> cassandra_session(const config::Settings& settings) {
  auto layout = deploy::Layout::load(settings);
  if (!layout) return layout.error();
  cql::ConnectOptions options;
  options.contact_point = layout->cassandra_contact_point();
  return cql::Session::connect(options);
}

namespace {

base::Result<std::vector<std::string>> cassandra_ids(const config::Settings& settings) {
  auto session = cassandra_session(settings);
  if (!session) return session.error();
  auto rows =
      session->query("SELECT user_id FROM " + settings.get("cassandra.keyspace") + ".users");
  if (!rows) return rows.error();
  std::vector<std::string> ids;
  ids.reserve(rows->rows.size());
  for (auto& row : rows->rows) {
    if (!row.empty() && row[0]) ids.push_back(std::move(*row[0]));
  }
  return ids;
}

}  // namespace

base::Result<std::string> cassandra_versions(const config::Settings& settings) {
  auto session = cassandra_session(settings);
  if (!session) return session.error();
  auto rows = session->query("SELECT user_id, committed_at FROM " +
                             settings.get("cassandra.keyspace") + ".users");
  if (!rows) return rows.error();
  std::string copy;
  for (const auto& row : rows->rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    io::copy_field(copy, *row[0]);
    copy += '\t';
    io::copy_field(copy, *row[1]);
    copy += '\n';
  }
  return copy;
}

base::Result<Report> reconcile(const config::Settings& settings, int freshness_s) {
  auto ids = cassandra_ids(settings);
  if (!ids) return ids.error();
  auto conninfo = config::pipeline_conninfo(settings, "streamflow-reconcile");
  if (!conninfo) return conninfo.error();
  auto conn = io::Connection::open(*conninfo);
  if (!conn) return conn.error();
  // One snapshot for every staging read, and the clock it was taken at.
  if (auto r = conn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !r) return r.error();
  Snapshot snap;
  snap.cassandra_ids = std::move(*ids);
  auto now = conn->exec("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
  if (!now) return now.error();
  snap.now_ms = now->integer(0, 0);
  auto users = conn->exec(
      "SELECT user_id::text, (extract(epoch FROM updated_at) * 1000)::bigint FROM staging.users");
  if (!users) return users.error();
  snap.staging.reserve(static_cast<std::size_t>(users->size()));
  for (int i = 0; i < users->size(); ++i)
    snap.staging.push_back({users->text(i, 0), users->integer(i, 1)});
  auto purged = conn->exec("SELECT user_id::text FROM staging.purged_users");
  if (!purged) return purged.error();
  for (int i = 0; i < purged->size(); ++i) snap.purged_ids.insert(purged->text(i, 0));
  auto counts = conn->exec(
      "SELECT (SELECT count(*) FROM staging.user_rejects), "
      "(SELECT count(*) FROM staging.ingest_batches WHERE status = 'failed')");
  if (!counts) return counts.error();
  (void)conn->exec("COMMIT");

  Report report = compare(snap, freshness_s);
  report.rejects = counts->integer(0, 0);
  report.failed_batches = counts->integer(0, 1);
  auto layout = deploy::Layout::load(settings);
  if (!layout) return layout.error();
  auto dlq = io::topic_end_offsets(layout->kafka_bootstrap(), settings.get("spark.dlq_topic"));
  if (dlq) {
    report.dead_letters = *dlq;
  } else if (dlq.error().code == base::Errc::not_found) {
    report.dead_letters = 0;
  }
  // Kept for the control room's alerts (a failed or stale reconcile); a run whose record cannot
  // be written still reports, so the write's failure is only logged.
  auto recorded = conn->exec(
      "INSERT INTO staging.reconcile_runs (ok, missing, unexpected, lag_s, report) "
      "VALUES ($1::boolean, $2::bigint, $3::bigint, $4::float8, $5::jsonb)",
      {report.ok() ? "true" : "false", std::to_string(report.missing),
       std::to_string(report.unexpected), std::to_string(report.lag_s), report.to_json()});
  if (!recorded)
    base::logger("reconcile")->warn("reconcile run not recorded: {}", recorded.error().describe());
  return report;
}

}  // namespace streamflow::ops
