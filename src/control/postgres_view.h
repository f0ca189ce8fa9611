#pragma once
/// The control room's view of PostgreSQL: each replication slot with the WAL it holds back
/// (a slot whose consumer stopped keeps every WAL segment from its restart point on, until the
/// disk fills), and client connections by database, user, application and state against
/// max_connections. `build_postgres_overview` (pure) shapes rows handed in as text, so it is
/// tested without a server; `postgres_overview` runs the queries.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "io/pg.h"

namespace streamflow::control {

/// One row of an answer as libpq gives it: text per column, nullopt for SQL NULL.
using TextRow = std::vector<std::optional<std::string>>;

/// Nine columns, in this order: slot_name, plugin, slot_type, database, active, active_pid,
/// retained, unconfirmed, wal_status. The two differences are numeric bytes; each is NULL
/// where its LSN is (a physical slot has no confirmed_flush_lsn; an invalidated slot no
/// restart_lsn). Needs a primary: pg_current_wal_lsn() fails during recovery.
inline constexpr const char* kSlotsQuery =
    "SELECT slot_name, plugin, slot_type, database, active, active_pid, "
    "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) AS retained, "
    "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) AS unconfirmed, wal_status "
    "FROM pg_replication_slots ORDER BY slot_name";
inline constexpr int kSlotsColumns = 9;

/// Five columns: datname, usename, application_name, state, count. Client backends only:
/// WAL senders (Debezium's replication connection among them), autovacuum and the like do not
/// take a client's place in max_connections' sense. Without pg_read_all_stats, other roles'
/// sessions show a NULL state.
inline constexpr const char* kConnectionsQuery =
    "SELECT datname, usename, application_name, state, count(*) FROM pg_stat_activity "
    "WHERE backend_type = 'client backend' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
inline constexpr int kConnectionsColumns = 5;

/// {"slots":[{"name","plugin","type","database","active","active_pid","retained_wal_bytes",
/// "unconfirmed_bytes","wal_status"}],"connections":[{"database","user","application","state",
/// "count"}],"connections_total","max_connections"}, rows in the order given. NULL becomes
/// null; a number that does not parse becomes null too (never a made-up 0); `active` is
/// PostgreSQL's "t"/"f". `connections_total` sums the counts; `max_connections` is the text of
/// SHOW max_connections as a number, null when absent.
nlohmann::json build_postgres_overview(const std::vector<TextRow>& slots,
                                       const std::vector<TextRow>& connections,
                                       const std::optional<std::string>& max_connections);

/// Runs kSlotsQuery, kConnectionsQuery and SHOW max_connections on `conn` and shapes them.
/// A failed statement is the error (the connection's own: unavailable when it was lost).
base::Result<nlohmann::json> postgres_overview(io::Connection& conn);

}  // namespace streamflow::control
