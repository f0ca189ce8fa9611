#pragma once
/// A thin libpq adapter: one connection, statements, COPY FROM STDIN, and the COPY text
/// escaping rules. Not thread-safe: one Connection per thread.

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace streamflow::io {

/// The rows of one statement's answer, as text.
class Rows {
 public:
  explicit Rows(PGresult* res) : res_(res, &PQclear) {}
  int size() const { return PQntuples(res_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(res_.get(), row, col); }
  long long integer(int row, int col) const { return std::stoll(text(row, col)); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> res_;
};

class Connection {
 public:
  /// Connects (libpq conninfo string). unavailable when the server cannot be reached.
  static base::Result<Connection> open(const std::string& conninfo);

  base::Result<Rows> exec(const std::string& sql);
  /// $1, $2... parameters, all passed as text (nullopt is SQL NULL).
  base::Result<Rows> exec(const std::string& sql,
                          const std::vector<std::optional<std::string>>& params);
  /// COPY ... FROM STDIN with `data` in COPY text format (see copy_field()).
  base::Result<void> copy_in(const std::string& copy_sql, std::string_view data);
  bool ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
  /// SQLSTATE of the last failed statement or COPY ("23505": unique violation), or "".
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  std::string quote_identifier(const std::string& name) const;
  std::string quote_literal(const std::string& value) const;

 private:
  explicit Connection(PGconn* conn) : conn_(conn, &PQfinish) {}
  base::Error error(const std::string& what) const;
  void remember_sqlstate(const PGresult* res);
  /// Wraps a statement's result, or turns a failed one into an Error (and frees it).
  base::Result<Rows> checked(PGresult* res);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
  std::string last_sqlstate_;
};

/// Appends one COPY text-format field (backslash, tab, newline, CR escaped; nullopt -> \N).
void copy_field(std::string& out, const std::optional<std::string_view>& value);

/// libpq conninfo with every value quoted as libpq requires.
std::string conninfo(const std::vector<std::pair<std::string, std::string>>& keywords);

}  // namespace streamflow::io
