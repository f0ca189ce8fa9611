#pragma once
/// CQL access to Cassandra from C++: the Rust `scylla` driver behind a narrow cxx bridge
/// (rust/src/bridge.rs). Values travel as text both ways: query results are rendered as text
/// (uuid hyphenated, timestamp ISO-8601 UTC with milliseconds, date YYYY-MM-DD, numbers and
/// booleans as written by CQL, null as nullopt), and parameters are text converted to the
/// types of the statement's bind markers. Every failure comes back as a base::Result; nothing
/// thrown by the bridge escapes this module.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace streamflow::cql {

/// One value as text; nullopt is CQL null.
using Value = std::optional<std::string>;
/// The values of one execution, in bind-marker order.
using Params = std::vector<Value>;

/// The answer of a query: column names and every row (all pages), values as text.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

/// One page of a query's answer; `next_paging_state` (opaque bytes) asks for the next page, and
/// is empty after the last.
struct Page {
  Rows rows;
  std::string next_paging_state;
};

struct ConnectOptions {
  std::string contact_point = "127.0.0.1:9042";  ///< "host:port", or several: "h1:p,h2:p"
  int connect_timeout_ms = 5000;                 ///< per connection attempt
  int request_timeout_ms = 12000;                ///< per request, schema agreement at least 10 s
};

/// A statement prepared on the cluster. Owns the driver's handle; movable; immutable, so it
/// can be shared between threads that use the same Session.
class Prepared {
 public:
  Prepared(Prepared&&) noexcept;
  Prepared& operator=(Prepared&&) noexcept;
  ~Prepared();

  /// Names of the bind markers (the columns they bind to), in order.
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  friend class Session;
  struct Impl;
  explicit Prepared(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> columns_;
};

/// A connected CQL session: owns the driver session (a connection pool per node, closed when
/// the Session is destroyed). Movable, not copyable. Thread-safe: several threads may run
/// statements on one Session at once; each call blocks its thread until the answer is in.
class Session {
 public:
  /// unavailable when Cassandra cannot be reached, timeout when it does not answer in time.
  static base::Result<Session> connect(const ConnectOptions& options = {});

  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  /// Runs one unprepared statement (DDL, or a write without parameters) and discards any
  /// rows. After a schema change it returns once every reachable node agrees on the schema.
  base::Result<void> execute(const std::string& cql);
  /// Makes `keyspace` the default for unqualified table names (like `USE`).
  base::Result<void> use_keyspace(const std::string& keyspace);
  /// Runs a statement and returns all its rows, fetching every page. With `params` the
  /// statement is prepared and each value converted to its bind marker's type.
  base::Result<Rows> query(const std::string& cql, const Params& params = {});
  base::Result<Prepared> prepare(const std::string& cql);
  /// Runs `prepared` once and returns at most `page_size` rows from `paging_state` on (empty:
  /// the first page). Use it for every read a server answers: prepared once, no per-call
  /// parsing on the cluster, and bounded memory whatever the table holds.
  base::Result<Page> execute_page(const Prepared& prepared, const Params& params, int page_size,
                                  std::string_view paging_state = {});
  /// Executes `prepared` once per row with up to `concurrency` requests in flight and returns
  /// how many rows were written. Every value is converted before the first write, so a bad
  /// value fails the call with nothing written; a failed write stops it (others may have
  /// landed: writes are upserts, so running the batch again is safe).
  base::Result<std::uint64_t> execute_batch(const Prepared& prepared,
                                            const std::vector<Params>& rows, int concurrency);

  const std::string& contact_point() const { return contact_point_; }

 private:
  struct Impl;
  Session(std::unique_ptr<Impl> impl, std::string contact_point);
  std::unique_ptr<Impl> impl_;
  std::string contact_point_;
};

/// Turns the message of a bridge error ("[timeout] driver words") into an Error whose code
/// follows the tag (invalid_argument, timeout, unavailable, otherwise internal), with
/// `doing` in front of the words. Exposed for tests.
base::Error bridge_error(std::string_view what, const std::string& doing,
                         const std::string& context);

}  // namespace streamflow::cql
