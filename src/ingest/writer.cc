#include "ingest/writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "ingest/rows.h"

namespace streamflow::ingest {

using base::Errc;

base::Result<BatchWriter> BatchWriter::open(const std::string& conninfo) {
  auto conn = io::Connection::open(conninfo);
  if (!conn) return conn.error();
  // Session-local landing tables, emptied at every commit.
  auto made = conn->exec(
      "SET synchronous_commit = on;"
      "CREATE TEMP TABLE IF NOT EXISTS load_users (LIKE staging.users INCLUDING DEFAULTS) ON "
      "COMMIT DELETE ROWS;"
      "CREATE TEMP TABLE IF NOT EXISTS load_rejects (batch_id uuid, source text, record_index "
      "integer, "
      "user_id uuid, reason text, payload jsonb) ON COMMIT DELETE ROWS;");
  if (!made) {
    return base::make_error(
        made.error().code,
        made.error().message + " (is the staging schema migrated? `streamflow up` applies it)");
  }
  return BatchWriter(std::move(*conn));
}

base::Result<WriteCounts> BatchWriter::write(const BatchInfo& info, const model::Batch& batch) {
  for (int attempt = 0;; ++attempt) {
    auto r = write_once(info, batch);
    if (r || attempt >= 3) return r;
    const auto& msg = r.error().message;
    const bool transient = msg.find("deadlock detected") != std::string::npos ||
                           msg.find("could not serialize") != std::string::npos;
    if (!transient) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * (attempt + 1)));
  }
}

base::Result<std::pair<std::int64_t, std::int64_t>> BatchWriter::upsert() {
  // ORDER BY: concurrent batches sharing users lock rows in the same order (no deadlock).
  // The WHERE leaves unchanged rows untouched: no new row version, so no CDC event.
  std::string set_list, existing, incoming;
  const std::string cols = kUserDataColumns;
  std::size_t start = 0;
  while (start < cols.size()) {
    auto comma = cols.find(',', start);
    auto name = cols.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    name.erase(0, name.find_first_not_of(' '));
    set_list += name + " = EXCLUDED." + name + ", ";
    existing += (existing.empty() ? "" : ", ") + ("u." + name);
    incoming += (incoming.empty() ? "" : ", ") + ("EXCLUDED." + name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  auto up = conn_.exec(fmt::format(
      "WITH up AS (INSERT INTO staging.users AS u ({cols}) SELECT {cols} FROM load_users ORDER BY "
      "user_id "
      "ON CONFLICT (user_id) DO UPDATE SET {set} batch_id = EXCLUDED.batch_id, updated_at = now() "
      "WHERE ({existing}) IS DISTINCT FROM ({incoming}) RETURNING (xmax = 0) AS inserted) "
      "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
      fmt::arg("cols", kUserColumns), fmt::arg("set", set_list), fmt::arg("existing", existing),
      fmt::arg("incoming", incoming)));
  if (!up) return up.error();
  return std::pair<std::int64_t, std::int64_t>{up->integer(0, 0), up->integer(0, 1)};
}

base::Result<WriteCounts> BatchWriter::write_once(const BatchInfo& info,
                                                  const model::Batch& batch) {
  WriteCounts counts;
  users_buf_.clear();
  rejects_buf_.clear();
  users_buf_.reserve(batch.users.size() * 640 + 64);
  copy_binary_header(users_buf_);
  for (const auto& u : batch.users) append_user_row_binary(users_buf_, u, info.batch_id);
  copy_binary_trailer(users_buf_);
  for (const auto& r : batch.rejects)
    append_reject_row(rejects_buf_, r, info.batch_id, info.source);

  auto fail = [&](const base::Error& e) -> base::Result<WriteCounts> {
    (void)conn_.exec("ROLLBACK");
    return e;
  };
  if (auto r = conn_.exec("BEGIN"); !r) return r.error();
  if (!batch.users.empty()) {
    // Fast path for the common case, users never seen before: COPY straight into the table.
    // A unique violation means some already exist: undo that and take the upsert path.
    //
    // The volatile WHERE (always true) makes PostgreSQL insert row by row, one WAL record each.
    // Without it, COPY writes a page of rows (about 13) as one WAL record: they share one LSN,
    // and Debezium, restarted among them after PostgreSQL was killed, resumes after the whole
    // group and loses the rest of it. (Any volatile WHERE turns COPY's multi-insert off;
    // tests/integration/test_ingest.py checks every row gets its own LSN.)
    if (auto r = conn_.exec("SAVEPOINT fast_path"); !r) return fail(r.error());
    auto direct = conn_.copy_in(
        fmt::format("COPY staging.users ({}) FROM STDIN (FORMAT binary) WHERE random() >= 0",
                    kUserColumns),
        users_buf_);
    if (direct) {
      counts.inserted = static_cast<std::int64_t>(batch.users.size());
      if (auto r = conn_.exec("RELEASE SAVEPOINT fast_path"); !r) return fail(r.error());
    } else if (conn_.last_sqlstate() == "23505") {
      if (auto r = conn_.exec("ROLLBACK TO SAVEPOINT fast_path"); !r) return fail(r.error());
      if (auto r = conn_.copy_in(
              fmt::format("COPY load_users ({}) FROM STDIN (FORMAT binary)", kUserColumns),
              users_buf_);
          !r) {
        return fail(r.error());
      }
      auto up = upsert();
      if (!up) return fail(up.error());
      counts.inserted = up->first;
      counts.updated = up->second;
    } else {
      return fail(direct.error());
    }
    counts.unchanged =
        static_cast<std::int64_t>(batch.users.size()) - counts.inserted - counts.updated;
  }
  if (!batch.rejects.empty()) {
    if (auto r = conn_.copy_in("COPY load_rejects (batch_id, source, record_index, user_id, "
                               "reason, payload) FROM STDIN",
                               rejects_buf_);
        !r) {
      return fail(r.error());
    }
    if (auto r = conn_.exec(
            "INSERT INTO staging.user_rejects (batch_id, source, record_index, user_id, reason, "
            "payload) "
            "SELECT batch_id, source, record_index, user_id, reason, payload FROM load_rejects "
            "ON CONFLICT (batch_id, record_index) DO NOTHING");
        !r) {
      return fail(r.error());
    }
  }
  counts.rejected = static_cast<std::int64_t>(batch.rejects.size());
  auto opt_int = [](const std::optional<std::int64_t>& v) {
    return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
  };
  auto rec = conn_.exec(
      "INSERT INTO staging.ingest_batches (batch_id, source, seed, page, requested, received, "
      "inserted, updated, "
      "unchanged, rejected, retries, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
      "'landed') "
      "ON CONFLICT (batch_id) DO UPDATE SET received = EXCLUDED.received, inserted = "
      "EXCLUDED.inserted, "
      "updated = EXCLUDED.updated, unchanged = EXCLUDED.unchanged, rejected = EXCLUDED.rejected, "
      "retries = EXCLUDED.retries, runs = staging.ingest_batches.runs + 1, status = 'landed', "
      "error = NULL, "
      "last_run_at = now()",
      {info.batch_id, info.source, info.seed, opt_int(info.page), std::to_string(info.requested),
       std::to_string(batch.records), std::to_string(counts.inserted),
       std::to_string(counts.updated), std::to_string(counts.unchanged),
       std::to_string(counts.rejected), std::to_string(info.retries)});
  if (!rec) return fail(rec.error());
  if (auto r = conn_.exec("COMMIT"); !r) return fail(r.error());
  return counts;
}

base::Result<void> BatchWriter::record_failure(const BatchInfo& info, const std::string& error) {
  auto r = conn_.exec(
      "INSERT INTO staging.ingest_batches (batch_id, source, seed, page, requested, retries, "
      "status, error) "
      "VALUES ($1, $2, $3, $4, $5, $6, 'failed', $7) ON CONFLICT (batch_id) DO UPDATE SET "
      "runs = staging.ingest_batches.runs + 1, retries = EXCLUDED.retries, last_run_at = now(), "
      "error = EXCLUDED.error, status = CASE WHEN staging.ingest_batches.status = 'landed' THEN "
      "'landed' "
      "ELSE 'failed' END",
      {info.batch_id, info.source, info.seed,
       info.page ? std::optional<std::string>(std::to_string(*info.page)) : std::nullopt,
       std::to_string(info.requested), std::to_string(info.retries), error.substr(0, 2000)});
  if (!r) return r.error();
  return {};
}

base::Result<double> BatchWriter::reserve_request(const std::string& host, double interval_s) {
  // One statement, so concurrent ingests serialise on the host's row: each gets the next slot.
  auto r = conn_.exec(
      "INSERT INTO staging.api_request_clock AS c (host, next_request_at) "
      "VALUES ($1, clock_timestamp() + make_interval(secs => $2::float8)) "
      "ON CONFLICT (host) DO UPDATE SET next_request_at = "
      "greatest(c.next_request_at, clock_timestamp()) + make_interval(secs => $2::float8) "
      "RETURNING extract(epoch FROM c.next_request_at - clock_timestamp())::float8 - $2::float8",
      {host, fmt::format("{:.6f}", interval_s)});
  if (!r) return r.error();
  return std::max(0.0, std::stod(r->text(0, 0)));
}

}  // namespace streamflow::ingest
