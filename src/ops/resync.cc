#include "ops/resync.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "config/secrets.h"
#include "cql/cql.h"
#include "deploy/layout.h"
#include "io/connect.h"
#include "io/pg.h"
#include "observe/pipeline.h"
#include "ops/reconcile.h"

namespace streamflow::ops {

using base::Errc;
using Clock = std::chrono::steady_clock;

std::string ResyncReport::to_json() const {
  nlohmann::json j = {{"ok", ok()},
                      {"resynced", resynced},
                      {"skipped_to_lsn", skipped_to_lsn},
                      {"resent_inserts", resent_inserts},
                      {"resent_updates", resent_updates},
                      {"resent_deletes", resent_deletes},
                      {"connector", connector},
                      {"failure", failure}};
  return j.dump();
}

base::Result<std::string> offsets_at(const std::string& current_offsets_json,
                                     const std::string& topic_prefix, std::int64_t lsn) {
  auto doc = nlohmann::json::parse(current_offsets_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("offsets") ||
      !doc["offsets"].is_array()) {
    return base::make_error(Errc::invalid_argument, "not a connector offsets document: " +
                                                        current_offsets_json.substr(0, 200));
  }
  std::vector<nlohmann::json> partitions;
  for (const auto& o : doc["offsets"]) {
    if (o.is_object() && o.contains("partition")) partitions.push_back(o["partition"]);
  }
  if (partitions.empty()) partitions.push_back({{"server", topic_prefix}});
  nlohmann::json out = {{"offsets", nlohmann::json::array()}};
  for (auto& p : partitions) {
    // Debezium's PostgreSQL offset: the last event's LSN, the last commit's, and that the last
    // message processed was a commit (so it resumes after it, at the next transaction).
    out["offsets"].push_back(
        {{"partition", p},
         {"offset",
          {{"lsn", lsn}, {"lsn_proc", lsn}, {"lsn_commit", lsn}, {"messageType", "COMMIT"}}}});
  }
  return out.dump();
}

namespace {

void say(const ResyncOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

/// Waits until `done` holds or `timeout` passes; false on timeout.
bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(500)) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

bool task_running(const io::ConnectorState& s) {
  return s.connector == "RUNNING" && !s.tasks.empty() &&
         std::all_of(s.tasks.begin(), s.tasks.end(),
                     [](const std::string& t) { return t == "RUNNING"; });
}

bool any_failed(const io::ConnectorState& s) {
  return s.connector == "FAILED" || std::any_of(s.tasks.begin(), s.tasks.end(),
                                                [](const std::string& t) { return t == "FAILED"; });
}

struct Resent {
  std::string lsn;
  std::int64_t lsn_value = 0;
  std::int64_t inserts = 0;
  std::int64_t updates = 0;
  std::int64_t deletes = 0;  ///< in Cassandra, no longer in staging, not purged
};

/// (user_id, country, nat) of users in Cassandra.
using GoneUser = std::tuple<std::string, std::optional<std::string>, std::optional<std::string>>;
using WhereTheyWere =
    std::function<base::Result<std::vector<GoneUser>>(const std::vector<std::string>&)>;

/// Step 2, in one transaction.
base::Result<Resent> skip_and_resend(io::Connection& conn, const std::string& slot,
                                     const std::string& delivered_copy,
                                     const WhereTheyWere& where_they_were) {
  if (auto r = conn.exec("BEGIN"); !r) return r.error();
  auto rollback = [&](base::Error e) -> base::Result<Resent> {
    (void)conn.exec("ROLLBACK");
    return e;
  };
  // Writers of staging.users wait until the commit; every change committed before the lock
  // is before the slot's new position, every later one after it.
  if (auto r = conn.exec("LOCK TABLE staging.users IN EXCLUSIVE MODE"); !r)
    return rollback(r.error());
  auto moved = conn.exec(
      "SELECT end_lsn::text, (end_lsn - '0/0'::pg_lsn)::bigint "
      "FROM pg_replication_slot_advance($1, pg_current_wal_lsn())",
      {slot});
  if (!moved) return rollback(moved.error());
  Resent out;
  out.lsn = moved->text(0, 0);
  out.lsn_value = moved->integer(0, 1);
  if (auto r = conn.exec(
          "CREATE TEMP TABLE delivered (user_id uuid PRIMARY KEY, committed_at timestamptz) "
          "ON COMMIT DROP");
      !r) {
    return rollback(r.error());
  }
  if (auto r = conn.copy_in("COPY delivered FROM STDIN", delivered_copy); !r)
    return rollback(r.error());
  // Rows whose last change Cassandra holds an older version of (commit times are in ms).
  auto updated = conn.exec(
      "WITH t AS (UPDATE staging.users u SET updated_at = u.updated_at FROM delivered d "
      "WHERE u.user_id = d.user_id AND d.committed_at < date_trunc('milliseconds', u.updated_at) "
      "RETURNING 1) SELECT count(*) FROM t");
  if (!updated) return rollback(updated.error());
  out.updates = updated->integer(0, 0);
  // Rows Cassandra never got: stamped and deleted (the streaming job skips stamped events, as
  // it does housekeeping's purge), then inserted as they were, so that they arrive as the
  // signups they are.
  if (auto r =
          conn.exec("CREATE TEMP TABLE resend ON COMMIT DROP AS SELECT u.* FROM staging.users u "
                    "WHERE u.purged_at IS NULL AND NOT EXISTS "
                    "(SELECT 1 FROM delivered d WHERE d.user_id = u.user_id)");
      !r) {
    return rollback(r.error());
  }
  for (const char* sql :
       {"UPDATE staging.users u SET purged_at = now() FROM resend r WHERE u.user_id = r.user_id",
        "DELETE FROM staging.users u USING resend r WHERE u.user_id = r.user_id"}) {
    if (auto r = conn.exec(sql); !r) return rollback(r.error());
  }
  auto inserted = conn.exec(
      "WITH i AS (INSERT INTO staging.users SELECT * FROM resend RETURNING 1) "
      "SELECT count(*) FROM i");
  if (!inserted) return rollback(inserted.error());
  out.inserts = inserted->integer(0, 0);
  // Users Cassandra holds and staging no longer has (nor purged): deleted while the task was
  // failed. Each is inserted stamped (skipped), unstamped (an update that moves it nowhere),
  // then deleted, with the country and nationality Cassandra has for it: the delete removes
  // it from `users` and from its country's count.
  auto gone = conn.exec(
      "SELECT d.user_id::text FROM delivered d WHERE NOT EXISTS "
      "(SELECT 1 FROM staging.users u WHERE u.user_id = d.user_id) AND NOT EXISTS "
      "(SELECT 1 FROM staging.purged_users p WHERE p.user_id = d.user_id) ORDER BY 1");
  if (!gone) return rollback(gone.error());
  std::vector<std::string> ids;
  for (int i = 0; i < gone->size(); ++i) ids.push_back(gone->text(i, 0));
  if (!ids.empty()) {
    auto keys = where_they_were(ids);
    if (!keys) return rollback(keys.error());
    std::string copy;
    for (const auto& [id, country, nat] : *keys) {
      io::copy_field(copy, id);
      copy += '\t';
      io::copy_field(copy, country);
      copy += '\t';
      io::copy_field(copy, nat);
      copy += '\n';
    }
    if (auto r =
            conn.exec("CREATE TEMP TABLE gone (user_id uuid PRIMARY KEY, country text, nat text) "
                      "ON COMMIT DROP");
        !r) {
      return rollback(r.error());
    }
    if (auto r = conn.copy_in("COPY gone FROM STDIN", copy); !r) return rollback(r.error());
    for (const char* sql :
         {"INSERT INTO staging.users (user_id, country, nat, batch_id, purged_at) "
          "SELECT user_id, country, nat, '00000000-0000-0000-0000-000000000000', now() FROM gone",
          "UPDATE staging.users u SET purged_at = NULL FROM gone g WHERE u.user_id = g.user_id",
          "DELETE FROM staging.users u USING gone g WHERE u.user_id = g.user_id"}) {
      if (auto r = conn.exec(sql); !r) return rollback(r.error());
    }
    out.deletes = static_cast<std::int64_t>(keys->size());
  }
  if (auto r = conn.exec("COMMIT"); !r) return r.error();
  return out;
}

base::Result<std::vector<GoneUser>> cassandra_keys(const config::Settings& settings,
                                                   const std::vector<std::string>& ids) {
  auto session = cassandra_session(settings);
  if (!session) return session.error();
  std::vector<GoneUser> out;
  constexpr std::size_t kPerStatement = 100;
  for (std::size_t i = 0; i < ids.size(); i += kPerStatement) {
    const auto end = std::min(ids.size(), i + kPerStatement);
    // Ids come from a uuid column: safe as CQL uuid literals.
    std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                   ids.begin() + static_cast<std::ptrdiff_t>(end));
    auto rows = session->query(
        fmt::format("SELECT user_id, country, nat FROM {}.users WHERE user_id IN ({})",
                    settings.get("cassandra.keyspace"), fmt::join(chunk, ", ")));
    if (!rows) return rows.error();
    for (auto& row : rows->rows) {
      if (row.size() == 3 && row[0]) out.emplace_back(*row[0], row[1], row[2]);
    }
  }
  return out;
}

}  // namespace

base::Result<ResyncReport> resync(const config::Settings& settings, const ResyncOptions& o) {
  auto loaded = deploy::Layout::load(settings);
  if (!loaded) return loaded.error();
  const auto layout = std::move(*loaded);
  const auto name = layout.cdc_connector;
  io::ConnectClient connect(layout.topology.connect.front().host, layout.ports.connect, 10);
  auto state = connect.state(name);
  if (!state) return state.error();
  ResyncReport report;
  if (task_running(*state) && !o.force) {
    report.connector = state->summary();
    say(o, "connector " + state->summary() + ": nothing to resync (--force does it anyway)");
    return report;
  }
  if (!layout.spark.enabled) {
    return base::make_error(
        Errc::failed_precondition,
        "resync sends again what Cassandra lacks, and only the streaming job writes Cassandra: "
        "enable it (spark.enabled=true) and run `streamflow up` first");
  }

  // 1. The connector stopped, and everything it sent read by the streaming job.
  say(o, "stopping connector " + name + " (" + state->summary() + ")");
  if (auto r = connect.stop(name); !r) return r.error();
  if (!wait_until(
          [&] {
            auto s = connect.state(name);
            return s && s->connector == "STOPPED";
          },
          o.connector_timeout)) {
    return base::make_error(Errc::unavailable, "connector " + name + " did not stop");
  }
  // Until the slot has moved, a failure resumes the connector as it was (its task then
  // fails as before, and nothing has changed).
  auto left_stopped = [&](base::Error e) -> base::Result<ResyncReport> {
    (void)connect.resume(name);
    e.message += " (nothing changed; connector " + name + " resumed as it was)";
    return e;
  };
  auto conninfo = config::pipeline_conninfo(settings, "streamflow-resync");
  if (!conninfo) return left_stopped(conninfo.error());
  auto conn = io::Connection::open(*conninfo);
  if (!conn) return left_stopped(conn.error());
  if (!wait_until(
          [&] {
            auto r = conn->exec("SELECT NOT active FROM pg_replication_slots WHERE slot_name = $1",
                                {layout.cdc_slot});
            return r && r->size() == 1 && r->text(0, 0) == "t";
          },
          o.connector_timeout)) {
    return left_stopped(base::make_error(
        Errc::unavailable, "replication slot " + layout.cdc_slot + " is still in use"));
  }

  // Cassandra then holds everything that was sent: what it lacks never was.
  observe::PipelineReader reader(layout, *conninfo);
  say(o, "waiting for the streaming job to read the whole CDC topic");
  observe::PipelineCounts counts;
  const bool caught_up = wait_until(
      [&] {
        counts = reader.read();
        return counts.cdc_events && counts.spark_consumed &&
               *counts.spark_consumed >= *counts.cdc_events;
      },
      o.catch_up_timeout, std::chrono::seconds(1));
  if (!caught_up) {
    return left_stopped(base::make_error(
        Errc::unavailable,
        fmt::format("the streaming job has read {} of the CDC topic's {} events after {} s; "
                    "check `streamflow status spark` and run resync again",
                    observe::count(counts.spark_consumed), observe::count(counts.cdc_events),
                    o.catch_up_timeout.count())));
  }
  // 2. and 3.
  auto delivered = cassandra_versions(settings);
  if (!delivered) return left_stopped(delivered.error());
  auto resent = skip_and_resend(
      *conn, layout.cdc_slot, *delivered,
      [&](const std::vector<std::string>& ids) { return cassandra_keys(settings, ids); });
  if (!resent) {
    // The slot may have moved (that is not undone by a rollback): a run again sends what
    // Cassandra lacks, and only then moves the connector's offset.
    auto e = resent.error();
    e.message += " (connector " + name + " left stopped: run `streamflow resync` again)";
    return e;
  }
  report.resynced = true;
  report.skipped_to_lsn = resent->lsn;
  report.resent_inserts = resent->inserts;
  report.resent_updates = resent->updates;
  report.resent_deletes = resent->deletes;
  say(o,
      fmt::format("slot {} moved to {}; sent again: {} insert(s), {} update(s), {} delete(s)",
                  layout.cdc_slot, resent->lsn, resent->inserts, resent->updates, resent->deletes));

  // 4. The connector resumes where the slot now is.
  auto current = connect.get("/connectors/" + name + "/offsets");
  if (!current) return current.error();
  auto body = offsets_at(current->body, layout.cdc_topic_prefix, resent->lsn_value);
  if (!body) return body.error();
  auto patched = connect.patch_offsets(name, *body);
  if (!patched) return patched.error();
  if (patched->status != 200) {
    return base::make_error(Errc::unavailable,
                            fmt::format("moving the offsets of {}: HTTP {} {}", name,
                                        patched->status, patched->body.substr(0, 300)));
  }
  if (auto r = connect.resume(name); !r) return r.error();
  say(o, "connector " + name + " resumed; watching its task");
  // Running, and still running a little later: a change still refused fails it at once.
  io::ConnectorState last;
  const bool settled = wait_until(
      [&] {
        auto s = connect.state(name);
        if (!s) return false;
        last = *s;
        return any_failed(last);
      },
      std::chrono::seconds(15));
  if (!settled) {
    wait_until(
        [&] {
          auto s = connect.state(name);
          if (s) last = *s;
          return s && (task_running(*s) || any_failed(*s));
        },
        o.connector_timeout);
  }
  report.connector = last.summary();
  if (any_failed(last)) {
    report.failure = last.failure.empty() ? "the task failed again" : last.failure;
  } else if (!task_running(last)) {
    report.failure = "the connector's task is not running: " + last.summary();
  }
  return report;
}

}  // namespace streamflow::ops
