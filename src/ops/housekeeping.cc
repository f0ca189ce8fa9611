#include "ops/housekeeping.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "config/secrets.h"
#include "io/pg.h"
#include "ops/reconcile.h"

namespace streamflow::ops {

namespace fs = std::filesystem;

std::string HousekeepingReport::to_json() const {
  nlohmann::json j = {{"dry_run", dry_run},
                      {"purge_candidates", purge_candidates},
                      {"purged", purged},
                      {"unconfirmed", unconfirmed},
                      {"rejects_purged", rejects_purged},
                      {"vacuumed", vacuumed},
                      {"pruned_files", pruned_files},
                      {"pruned_bytes", pruned_bytes},
                      {"prune_errors", prune_errors}};
  return j.dump();
}

std::string HousekeepingReport::to_text(const HousekeepingOptions& o) const {
  return fmt::format(
      "housekeeping{}: purged {} of {} staging rows older than {} h ({} not yet confirmed in "
      "Cassandra); {} {} rejects older than {} days; vacuumed {} table(s); pruned {} file(s), "
      "{} bytes\n",
      o.dry_run ? " (dry run)" : "", purged, purge_candidates, o.staging_retention_h, unconfirmed,
      o.dry_run ? "would delete" : "deleted", rejects_purged, o.reject_retention_days,
      vacuumed.size(), pruned_files, pruned_bytes);
}

HousekeepingOptions housekeeping_options(const config::Settings& s) {
  HousekeepingOptions o;
  o.staging_retention_h = static_cast<int>(s.get_int("housekeeping.staging_retention_h"));
  o.log_retention_h = static_cast<int>(s.get_int("housekeeping.log_retention_h"));
  o.reject_retention_days = static_cast<int>(s.get_int("housekeeping.reject_retention_days"));
  return o;
}

std::vector<fs::path> files_older_than(const fs::path& root, fs::file_time_type cutoff) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (!it->is_regular_file(e2)) continue;
    const auto t = it->last_write_time(e2);
    if (!e2 && t < cutoff) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

/// The batch number a checkpoint metadata file is for: "17" and ".17.crc" give 17.
std::optional<std::int64_t> batch_of(const std::string& name) {
  std::string_view v = name;
  if (v.starts_with(".") && v.ends_with(".crc")) v = v.substr(1, v.size() - 5);
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return n;
}

}  // namespace

std::vector<fs::path> stale_checkpoint_files(const fs::path& query_dir, std::int64_t keep) {
  std::vector<fs::path> out;
  for (const char* sub : {"offsets", "commits"}) {
    std::error_code ec;
    std::vector<std::pair<std::int64_t, fs::path>> files;
    std::int64_t newest = -1;
    for (const auto& e : fs::directory_iterator(query_dir / sub, ec)) {
      auto n = batch_of(e.path().filename().string());
      if (!n) continue;
      newest = std::max(newest, *n);
      files.emplace_back(*n, e.path());
    }
    for (auto& [n, path] : files) {
      if (n < newest - keep) out.push_back(std::move(path));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

base::Result<void> purge(const config::Settings& settings, io::Connection& conn,
                         const HousekeepingOptions& o, HousekeepingReport& report) {
  // Cassandra's view first: which users it holds, and the commit time of their last change.
  auto copy = cassandra_versions(settings);
  if (!copy) return copy.error();
  const std::string retention = std::to_string(o.staging_retention_h) + " hours";
  if (auto r = conn.exec("BEGIN"); !r) return r.error();
  auto rollback = [&](base::Error e) -> base::Result<void> {
    (void)conn.exec("ROLLBACK");
    return e;
  };
  if (auto r = conn.exec(
          "CREATE TEMP TABLE confirmed (user_id uuid PRIMARY KEY, committed_at timestamptz) "
          "ON COMMIT DROP");
      !r) {
    return rollback(r.error());
  }
  if (auto r = conn.copy_in("COPY confirmed FROM STDIN", *copy); !r) return rollback(r.error());
  auto counts = conn.exec(
      "SELECT count(*), count(*) FILTER (WHERE c.committed_at >= "
      "date_trunc('milliseconds', u.updated_at)) FROM staging.users u LEFT JOIN confirmed c "
      "USING (user_id) WHERE u.updated_at < now() - $1::interval",
      {retention});
  if (!counts) return rollback(counts.error());
  report.purge_candidates = counts->integer(0, 0);
  const auto confirmed = counts->integer(0, 1);
  report.unconfirmed = report.purge_candidates - confirmed;
  if (o.dry_run || confirmed == 0) {
    (void)conn.exec("ROLLBACK");
    return {};
  }
  // The stamp first (both change events then carry it, and the Spark job skips them), the
  // ledger, then the delete. Rows changed since the count are left for the next run.
  auto stamped = conn.exec(
      "WITH s AS (UPDATE staging.users u SET purged_at = now() FROM confirmed c "
      "WHERE u.user_id = c.user_id AND u.updated_at < now() - $1::interval "
      "AND c.committed_at >= date_trunc('milliseconds', u.updated_at) RETURNING u.user_id) "
      "INSERT INTO staging.purged_users (user_id, purged_at) SELECT user_id, now() FROM s "
      "ON CONFLICT (user_id) DO UPDATE SET purged_at = EXCLUDED.purged_at",
      {retention});
  if (!stamped) return rollback(stamped.error());
  auto deleted = conn.exec(
      "WITH d AS (DELETE FROM staging.users WHERE purged_at IS NOT NULL RETURNING 1) "
      "SELECT count(*) FROM d");
  if (!deleted) return rollback(deleted.error());
  if (auto r = conn.exec("COMMIT"); !r) return r.error();
  report.purged = deleted->integer(0, 0);
  return {};
}

base::Result<void> purge_rejects(io::Connection& conn, const HousekeepingOptions& o,
                                 HousekeepingReport& report) {
  const std::string retention = std::to_string(o.reject_retention_days) + " days";
  auto counted = conn.exec(
      o.dry_run ? "SELECT count(*) FROM staging.user_rejects WHERE rejected_at < now() - "
                  "$1::interval"
                : "WITH d AS (DELETE FROM staging.user_rejects WHERE rejected_at < now() - "
                  "$1::interval RETURNING 1) SELECT count(*) FROM d",
      {retention});
  if (!counted) return counted.error();
  report.rejects_purged = counted->integer(0, 0);
  // Reconcile's run records age out with the rejects (the alerts read only the newest).
  if (!o.dry_run) {
    if (auto r = conn.exec("DELETE FROM staging.reconcile_runs WHERE run_at < now() - $1::interval",
                           {retention});
        !r)
      return r.error();
  }
  return {};
}

void prune_files(const std::vector<fs::path>& files, HousekeepingReport& report, bool dry_run) {
  for (const auto& f : files) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (!dry_run && !fs::remove(f, ec) && ec) {
      if (report.prune_errors.size() < 20)
        report.prune_errors.push_back(f.string() + ": " + ec.message());
      continue;
    }
    ++report.pruned_files;
    report.pruned_bytes += ec ? 0 : static_cast<std::int64_t>(size);
  }
}

}  // namespace

base::Result<HousekeepingReport> housekeeping(const config::Settings& settings,
                                              const HousekeepingOptions& o) {
  HousekeepingReport report;
  report.dry_run = o.dry_run;
  if (o.purge || o.rejects || o.vacuum) {
    auto conninfo = config::pipeline_conninfo(settings, "streamflow-housekeeping");
    if (!conninfo) return conninfo.error();
    auto conn = io::Connection::open(*conninfo);
    if (!conn) return conn.error();
    if (o.purge) {
      if (auto r = purge(settings, *conn, o, report); !r) return r.error();
    }
    if (o.rejects) {
      if (auto r = purge_rejects(*conn, o, report); !r) return r.error();
    }
    if (o.vacuum && !o.dry_run) {
      for (const char* table : {"staging.users", "staging.user_rejects", "staging.ingest_batches",
                                "staging.purged_users"}) {
        if (auto r = conn->exec(std::string("VACUUM (ANALYZE) ") + table); !r) return r.error();
        report.vacuumed.emplace_back(table);
      }
    }
  }
  if (o.prune) {
    const auto state = settings.get_path("state_dir");
    const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(o.log_retention_h);
    prune_files(files_older_than(state / "airflow" / "logs", cutoff), report, o.dry_run);
    std::error_code ec;
    for (const auto& q : fs::directory_iterator(state / "spark" / "checkpoints", ec)) {
      std::vector<fs::path> old;
      for (auto& f : stale_checkpoint_files(q.path())) {
        std::error_code e2;
        if (fs::last_write_time(f, e2) < cutoff && !e2) old.push_back(std::move(f));
      }
      prune_files(old, report, o.dry_run);
    }
  }
  return report;
}

}  // namespace streamflow::ops
