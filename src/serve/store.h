#pragma once
/// What the REST API reads from Cassandra, behind an interface so that the handlers are
/// unit-tested with a fake. CqlStore is the real one: prepared statements through the CQL
/// bridge, one page per request, reconnecting when Cassandra comes back.

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cql/cql.h"
#include "serve/params.h"

namespace streamflow::serve {

struct UserPage {
  std::vector<nlohmann::json> users;
  std::string next_paging_state;  ///< raw; empty after the last page
};

struct SignupRow {
  std::int64_t minute_ms = 0;
  std::string key;  ///< the dimension's value (country code, gender, age band)
  std::int64_t signups = 0;
};

struct CountryUsers {
  std::string country_code;
  std::string country;
  std::int64_t users = 0;
};

struct Point {
  double latitude = 0;
  double longitude = 0;
  std::string country_code;
};

/// Reads for the API. Implementations are thread-safe: the server calls them from its workers.
class Store {
 public:
  virtual ~Store() = default;
  /// nullopt when there is no such user.
  virtual base::Result<std::optional<nlohmann::json>> user(const std::string& user_id) = 0;
  /// Summaries (id, name, gender, age and band, city, country, email, registered).
  virtual base::Result<UserPage> users_by_country(const std::string& country_code, int page_size,
                                                  const std::string& paging_state) = 0;
  /// Signups per minute in [from_ms, to_ms) of one UTC day (`day`, "YYYY-MM-DD").
  virtual base::Result<std::vector<SignupRow>> signups(Dimension by, const std::string& day,
                                                       std::int64_t from_ms,
                                                       std::int64_t to_ms) = 0;
  virtual base::Result<std::vector<CountryUsers>> users_per_country() = 0;
  /// Up to `limit` users' coordinates (the first partitions of the token ring: a spread sample).
  virtual base::Result<std::vector<Point>> coordinates(int limit) = 0;
};

/// Store over Cassandra. Connects on first use; after a connection failure the next call
/// (at most one a second) connects again, so a Cassandra restart heals without a server restart.
class CqlStore final : public Store {
 public:
  CqlStore(cql::ConnectOptions options, std::string keyspace);
  ~CqlStore() override;

  base::Result<std::optional<nlohmann::json>> user(const std::string& user_id) override;
  base::Result<UserPage> users_by_country(const std::string& country_code, int page_size,
                                          const std::string& paging_state) override;
  base::Result<std::vector<SignupRow>> signups(Dimension by, const std::string& day,
                                               std::int64_t from_ms, std::int64_t to_ms) override;
  base::Result<std::vector<CountryUsers>> users_per_country() override;
  base::Result<std::vector<Point>> coordinates(int limit) override;

 private:
  struct Conn;
  base::Result<std::shared_ptr<Conn>> conn();
  /// Forgets `c` after an error that means Cassandra went away.
  void drop(const std::shared_ptr<Conn>& c, const base::Error& e);

  cql::ConnectOptions options_;
  std::string keyspace_;
  std::mutex mu_;
  std::shared_ptr<Conn> conn_;
  std::int64_t last_attempt_ms_ = 0;
  std::optional<base::Error> last_error_;
};

/// Keeps the answers of the aggregate reads (users per country, signups per minute) for
/// `ttl_ms`: they change once per micro-batch, and a dashboard per viewer asks every few
/// seconds, so under load most of them need no trip to Cassandra. One read per answer at a
/// time: requests that find it being read wait for that read rather than start their own (when
/// an answer expires under hundreds of requests a second, they would all go to Cassandra at
/// once). Errors are never kept. Reads of users pass through. Thread-safe.
class CachingStore final : public Store {
 public:
  CachingStore(Store& inner, std::int64_t ttl_ms, std::function<std::int64_t()> clock_ms);

  base::Result<std::optional<nlohmann::json>> user(const std::string& user_id) override {
    return inner_.user(user_id);
  }
  base::Result<UserPage> users_by_country(const std::string& country_code, int page_size,
                                          const std::string& paging_state) override {
    return inner_.users_by_country(country_code, page_size, paging_state);
  }
  base::Result<std::vector<SignupRow>> signups(Dimension by, const std::string& day,
                                               std::int64_t from_ms, std::int64_t to_ms) override;
  base::Result<std::vector<CountryUsers>> users_per_country() override;
  base::Result<std::vector<Point>> coordinates(int limit) override {
    return inner_.coordinates(limit);
  }

 private:
  template <class T>
  struct Entry {
    std::int64_t at_ms = 0;  ///< when its read started
    std::uint64_t id = 0;    ///< which read (an error removes only its own entry)
    std::shared_future<base::Result<T>> answer;
  };
  template <class T>
  base::Result<T> cached(std::map<std::string, Entry<T>>& entries, const std::string& key,
                         const std::function<base::Result<T>()>& read);

  Store& inner_;
  std::int64_t ttl_ms_;
  std::function<std::int64_t()> clock_ms_;
  std::mutex mu_;
  std::uint64_t reads_ = 0;
  std::map<std::string, Entry<std::vector<SignupRow>>> signups_;
  std::map<std::string, Entry<std::vector<CountryUsers>>> per_country_;
};

/// A users row (text values as the bridge gives them) as a JSON object with typed numbers.
nlohmann::json user_json(const std::vector<std::string>& columns,
                         const std::vector<cql::Value>& row);

}  // namespace streamflow::serve
