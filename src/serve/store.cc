#include "serve/store.h"

#include <chrono>
#include <set>

#include "serve/clock.h"

namespace streamflow::serve {

using base::Errc;
using base::Result;

namespace {

constexpr const char* kUserColumns =
    "user_id, gender, title, first_name, last_name, full_name, street_number, street_name, "
    "city, state, country, country_code, postcode, latitude, longitude, tz_offset, "
    "tz_description, email, email_domain, username, dob, age, age_band, registered, phone, "
    "cell, picture_large, picture_medium, picture_thumbnail, nat, ingested_at, committed_at, "
    "processed_at";

/// A list shows summaries (the whole row is one GET /users/{id} away): a third of the
/// columns, which is most of the cost of a page, both in Cassandra and here.
constexpr const char* kUserSummaryColumns =
    "user_id, full_name, gender, age, age_band, city, country, country_code, email, "
    "registered";

bool means_gone(const base::Error& e) {
  return e.code == Errc::unavailable || e.code == Errc::timeout;
}

}  // namespace

nlohmann::json user_json(const std::vector<std::string>& columns,
                         const std::vector<cql::Value>& row) {
  static const std::set<std::string> kIntegers = {"street_number", "age"};
  static const std::set<std::string> kDoubles = {"latitude", "longitude"};
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) {
    const auto& name = columns[i];
    const auto& v = row[i];
    if (!v) {
      out[name] = nullptr;
    } else if (kIntegers.count(name)) {
      try {
        out[name] = std::stoll(*v);
      } catch (const std::exception&) {
        out[name] = *v;
      }
    } else if (kDoubles.count(name)) {
      try {
        out[name] = std::stod(*v);
      } catch (const std::exception&) {
        out[name] = *v;
      }
    } else {
      out[name] = *v;
    }
  }
  return out;
}

struct CqlStore::Conn {
  cql::Session session;
  cql::Prepared user;
  cql::Prepared by_country;
  cql::Prepared signups_country;
  cql::Prepared signups_gender;
  cql::Prepared signups_age_band;
  cql::Prepared per_country;
  cql::Prepared coordinates;
};

CqlStore::CqlStore(cql::ConnectOptions options, std::string keyspace)
    : options_(std::move(options)), keyspace_(std::move(keyspace)) {}

CqlStore::~CqlStore() = default;

Result<std::shared_ptr<CqlStore::Conn>> CqlStore::conn() {
  std::lock_guard lock(mu_);
  if (conn_) return conn_;
  if (last_error_ && now_ms() - last_attempt_ms_ < 1000) return *last_error_;
  last_attempt_ms_ = now_ms();
  auto fail = [&](base::Error e) -> Result<std::shared_ptr<Conn>> {
    last_error_ = e;
    return e;
  };
  auto session = cql::Session::connect(options_);
  if (!session) return fail(session.error());
  const std::string ks = keyspace_ + ".";
  auto prep = [&](const std::string& cql) { return session->prepare(cql); };
  auto user =
      prep(std::string("SELECT ") + kUserColumns + " FROM " + ks + "users WHERE user_id = ?");
  if (!user) return fail(user.error());
  auto by_country = prep(std::string("SELECT ") + kUserSummaryColumns + " FROM " + ks +
                         "users WHERE country_code = ?");
  if (!by_country) return fail(by_country.error());
  auto signups = [&](const std::string& table, const std::string& column) {
    return prep("SELECT minute, " + column + ", signups FROM " + ks + "signups_by_" + table +
                "_minute WHERE day = ? AND minute >= ? AND minute < ?");
  };
  auto s_country = signups("country", "country_code");
  if (!s_country) return fail(s_country.error());
  auto s_gender = signups("gender", "gender");
  if (!s_gender) return fail(s_gender.error());
  auto s_band = signups("age_band", "age_band");
  if (!s_band) return fail(s_band.error());
  auto per_country =
      prep("SELECT country_code, country, users FROM " + ks + "users_per_country WHERE scope = ?");
  if (!per_country) return fail(per_country.error());
  auto coords = prep("SELECT latitude, longitude, country_code FROM " + ks + "users LIMIT ?");
  if (!coords) return fail(coords.error());
  conn_ = std::make_shared<Conn>(
      Conn{std::move(*session), std::move(*user), std::move(*by_country), std::move(*s_country),
           std::move(*s_gender), std::move(*s_band), std::move(*per_country), std::move(*coords)});
  last_error_.reset();
  return conn_;
}

void CqlStore::drop(const std::shared_ptr<Conn>& c, const base::Error& e) {
  if (!means_gone(e)) return;
  std::lock_guard lock(mu_);
  if (conn_ == c) conn_.reset();
}

Result<std::optional<nlohmann::json>> CqlStore::user(const std::string& user_id) {
  auto c = conn();
  if (!c) return c.error();
  auto page = (*c)->session.execute_page((*c)->user, {user_id}, 1);
  if (!page) {
    drop(*c, page.error());
    return page.error();
  }
  if (page->rows.rows.empty()) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(user_json(page->rows.columns, page->rows.rows[0]));
}

Result<UserPage> CqlStore::users_by_country(const std::string& country_code, int page_size,
                                            const std::string& paging_state) {
  auto c = conn();
  if (!c) return c.error();
  auto page = (*c)->session.execute_page((*c)->by_country, {country_code}, page_size, paging_state);
  if (!page) {
    drop(*c, page.error());
    return page.error();
  }
  UserPage out;
  out.users.reserve(page->rows.rows.size());
  for (const auto& row : page->rows.rows) out.users.push_back(user_json(page->rows.columns, row));
  out.next_paging_state = std::move(page->next_paging_state);
  return out;
}

Result<std::vector<SignupRow>> CqlStore::signups(Dimension by, const std::string& day,
                                                 std::int64_t from_ms, std::int64_t to_ms) {
  auto c = conn();
  if (!c) return c.error();
  const cql::Prepared& stmt = by == Dimension::country  ? (*c)->signups_country
                              : by == Dimension::gender ? (*c)->signups_gender
                                                        : (*c)->signups_age_band;
  std::vector<SignupRow> out;
  std::string state;
  do {  // one day is at most 1,440 minutes x the dimension's values: a few pages at most
    auto page = (*c)->session.execute_page(
        stmt, {day, std::to_string(from_ms), std::to_string(to_ms)}, 5000, state);
    if (!page) {
      drop(*c, page.error());
      return page.error();
    }
    for (const auto& row : page->rows.rows) {
      if (row.size() < 3 || !row[0] || !row[1] || !row[2]) continue;
      auto t = time_param({{"minute", *row[0]}}, "minute", 0);
      out.push_back({t ? *t : 0, *row[1], std::stoll(*row[2])});
    }
    state = std::move(page->next_paging_state);
  } while (!state.empty());
  return out;
}

Result<std::vector<CountryUsers>> CqlStore::users_per_country() {
  auto c = conn();
  if (!c) return c.error();
  auto page = (*c)->session.execute_page((*c)->per_country, {std::string("all")}, 5000);
  if (!page) {
    drop(*c, page.error());
    return page.error();
  }
  std::vector<CountryUsers> out;
  for (const auto& row : page->rows.rows) {
    if (row.size() < 3 || !row[0]) continue;
    out.push_back({*row[0], row[1].value_or(""), row[2] ? std::stoll(*row[2]) : 0});
  }
  return out;
}

Result<std::vector<Point>> CqlStore::coordinates(int limit) {
  auto c = conn();
  if (!c) return c.error();
  auto page = (*c)->session.execute_page((*c)->coordinates, {std::to_string(limit)}, limit);
  if (!page) {
    drop(*c, page.error());
    return page.error();
  }
  std::vector<Point> out;
  for (const auto& row : page->rows.rows) {
    if (row.size() < 3 || !row[0] || !row[1]) continue;
    try {
      out.push_back({std::stod(*row[0]), std::stod(*row[1]), row[2].value_or("")});
    } catch (const std::exception&) {
      continue;  // a coordinate that is not a number: left off the map
    }
  }
  return out;
}

CachingStore::CachingStore(Store& inner, std::int64_t ttl_ms,
                           std::function<std::int64_t()> clock_ms)
    : inner_(inner), ttl_ms_(ttl_ms), clock_ms_(std::move(clock_ms)) {}

template <class T>
Result<T> CachingStore::cached(std::map<std::string, Entry<T>>& entries, const std::string& key,
                               const std::function<Result<T>()>& read) {
  // Each page of a read has the CQL request timeout; this bounds the wait of the requests that
  // joined a read whatever happens to it.
  constexpr auto kWaitLimit = std::chrono::seconds(30);
  std::optional<std::promise<Result<T>>> promise;
  std::shared_future<Result<T>> theirs;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    const auto now = clock_ms_();
    auto it = entries.find(key);
    const bool reading =
        it != entries.end() &&
        it->second.answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
    if (it != entries.end() && (reading || now - it->second.at_ms < ttl_ms_)) {
      theirs = it->second.answer;
    } else {
      if (entries.size() > 1000) entries.clear();  // many distinct ranges: start over
      id = ++reads_;
      promise.emplace();
      entries[key] = Entry<T>{now, id, promise->get_future().share()};
    }
  }
  if (theirs.valid()) {
    if (theirs.wait_for(kWaitLimit) != std::future_status::ready)
      return base::make_error(Errc::timeout, "the read this request waits for takes too long");
    return theirs.get();
  }
  // A failed read is forgotten before its answer is given, so no later request finds it.
  auto forget = [&] {
    std::lock_guard lock(mu_);
    if (auto it = entries.find(key); it != entries.end() && it->second.id == id) entries.erase(it);
  };
  Result<T> fresh = [&]() -> Result<T> {
    try {
      return read();
    } catch (...) {
      forget();
      promise->set_exception(std::current_exception());
      throw;
    }
  }();
  if (!fresh) forget();
  promise->set_value(fresh);
  return fresh;
}

Result<std::vector<SignupRow>> CachingStore::signups(Dimension by, const std::string& day,
                                                     std::int64_t from_ms, std::int64_t to_ms) {
  const auto key = std::string(to_string(by)) + "|" + day + "|" + std::to_string(from_ms) + "|" +
                   std::to_string(to_ms);
  return cached<std::vector<SignupRow>>(signups_, key,
                                        [&] { return inner_.signups(by, day, from_ms, to_ms); });
}

Result<std::vector<CountryUsers>> CachingStore::users_per_country() {
  return cached<std::vector<CountryUsers>>(per_country_, "",
                                           [&] { return inner_.users_per_country(); });
}

}  // namespace streamflow::serve
