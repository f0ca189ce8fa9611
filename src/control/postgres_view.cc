#include "control/postgres_view.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace streamflow::control {

namespace {

const std::optional<std::string>& at(const TextRow& row, std::size_t i) {
  static const std::optional<std::string> kNull;
  return i < row.size() ? row[i] : kNull;
}

nlohmann::json text(const TextRow& row, std::size_t i) {
  const auto& v = at(row, i);
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

/// An integer column, or a numeric one with no fraction ("1234", "1234.0000": pg_wal_lsn_diff
/// returns numeric). Anything else is unknown, not zero.
std::optional<std::int64_t> integer(const std::optional<std::string>& v) {
  if (!v || v->empty()) return std::nullopt;
  const char* begin = v->c_str();
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(begin, &end, 10);
  if (end == begin || errno == ERANGE) return std::nullopt;
  if (*end == '.') {
    for (++end; *end == '0'; ++end) {
    }
  }
  if (*end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(n);
}

nlohmann::json number(const TextRow& row, std::size_t i) {
  const auto n = integer(at(row, i));
  return n ? nlohmann::json(*n) : nlohmann::json(nullptr);
}

nlohmann::json boolean(const TextRow& row, std::size_t i) {
  const auto& v = at(row, i);
  if (v == "t") return true;
  if (v == "f") return false;
  return nullptr;
}

/// Every row of an answer as text; `columns` is what the query selects (io::Rows does not
/// say how many it has).
std::vector<TextRow> text_rows(const io::Rows& rows, int columns) {
  std::vector<TextRow> out;
  out.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) {
    TextRow row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c)
      row.push_back(rows.is_null(r, c) ? std::nullopt : std::optional(rows.text(r, c)));
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

nlohmann::json build_postgres_overview(const std::vector<TextRow>& slots,
                                       const std::vector<TextRow>& connections,
                                       const std::optional<std::string>& max_connections) {
  nlohmann::json slot_list = nlohmann::json::array();
  for (const auto& r : slots) {
    slot_list.push_back({
        {"name", text(r, 0)},
        {"plugin", text(r, 1)},
        {"type", text(r, 2)},
        {"database", text(r, 3)},
        {"active", boolean(r, 4)},
        {"active_pid", number(r, 5)},
        {"retained_wal_bytes", number(r, 6)},
        {"unconfirmed_bytes", number(r, 7)},
        {"wal_status", text(r, 8)},
    });
  }
  nlohmann::json connection_list = nlohmann::json::array();
  std::int64_t total = 0;
  for (const auto& r : connections) {
    const auto count = integer(at(r, 4));
    if (count) total += *count;
    connection_list.push_back({
        {"database", text(r, 0)},
        {"user", text(r, 1)},
        {"application", text(r, 2)},
        {"state", text(r, 3)},
        {"count", count ? nlohmann::json(*count) : nlohmann::json(nullptr)},
    });
  }
  const auto max = integer(max_connections);
  return {
      {"slots", std::move(slot_list)},
      {"connections", std::move(connection_list)},
      {"connections_total", total},
      {"max_connections", max ? nlohmann::json(*max) : nlohmann::json(nullptr)},
  };
}

base::Result<nlohmann::json> postgres_overview(io::Connection& conn) {
  // Which of the three statements failed, in front of libpq's words.
  auto failed = [](base::Error e, const char* what) {
    e.message = std::string(what) + ": " + e.message;
    return e;
  };
  auto slots = conn.exec(kSlotsQuery);
  if (!slots) return failed(slots.error(), "reading replication slots");
  auto connections = conn.exec(kConnectionsQuery);
  if (!connections) return failed(connections.error(), "reading pg_stat_activity");
  auto max = conn.exec("SHOW max_connections");
  if (!max) return failed(max.error(), "reading max_connections");
  std::optional<std::string> max_text;
  if (max->size() > 0 && !max->is_null(0, 0)) max_text = max->text(0, 0);
  return build_postgres_overview(text_rows(*slots, kSlotsColumns),
                                 text_rows(*connections, kConnectionsColumns), max_text);
}

}  // namespace streamflow::control
