#include "io/pg.h"

#include "base/tsv.h"

namespace streamflow::io {

using base::Errc;

base::Result<Connection> Connection::open(const std::string& info) {
  PGconn* raw = PQconnectdb(info.c_str());
  Connection c(raw);
  // NOTICEs ("relation already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(raw);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return base::make_error(Errc::unavailable, "cannot connect to PostgreSQL: " + msg);
  }
  return c;
}

base::Error Connection::error(const std::string& what) const {
  std::string msg = PQerrorMessage(conn_.get());
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  // A lost connection is a service problem (retry); anything else is a statement problem.
  const Errc code = PQstatus(conn_.get()) == CONNECTION_OK ? Errc::io_error : Errc::unavailable;
  return base::make_error(code, what + ": " + msg);
}

base::Result<Rows> Connection::checked(PGresult* res) {
  const auto st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    remember_sqlstate(res);
    PQclear(res);
    return error("statement failed");
  }
  return Rows(res);
}

base::Result<Rows> Connection::exec(const std::string& sql) {
  // PQexec (not PQexecParams): it runs several statements in one string, as migrations need.
  return checked(PQexec(conn_.get(), sql.c_str()));
}

base::Result<Rows> Connection::exec(const std::string& sql,
                                    const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return checked(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
}

base::Result<void> Connection::copy_in(const std::string& copy_sql, std::string_view data) {
  PGresult* res = PQexec(conn_.get(), copy_sql.c_str());
  const bool ready = PQresultStatus(res) == PGRES_COPY_IN;
  PQclear(res);
  if (!ready) return error("COPY did not start");
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t off = 0; off < data.size(); off += kChunk) {
    const auto n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_.get(), data.data() + off, static_cast<int>(n)) != 1)
      return error("COPY data failed");
  }
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) return error("COPY end failed");
  base::Result<void> outcome;
  while (PGresult* r = PQgetResult(conn_.get())) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && outcome.ok()) {
      remember_sqlstate(r);
      outcome = error("COPY failed");
    }
    PQclear(r);
  }
  return outcome;
}

void Connection::remember_sqlstate(const PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
}

std::string Connection::quote_literal(const std::string& value) const {
  char* q = PQescapeLiteral(conn_.get(), value.c_str(), value.size());
  std::string out = q ? q : "";
  PQfreemem(q);
  return out;
}

std::string Connection::quote_identifier(const std::string& name) const {
  char* q = PQescapeIdentifier(conn_.get(), name.c_str(), name.size());
  std::string out = q ? q : "";
  PQfreemem(q);
  return out;
}

void copy_field(std::string& out, const std::optional<std::string_view>& value) {
  base::append_tsv_field(out, value);
}

std::string conninfo(const std::vector<std::pair<std::string, std::string>>& keywords) {
  std::string out;
  for (const auto& [k, v] : keywords) {
    if (!out.empty()) out += ' ';
    out += k + "='";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

}  // namespace streamflow::io
