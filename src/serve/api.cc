#include "serve/api.h"

#include <algorithm>
#include <map>

namespace streamflow::serve {

using base::Errc;
using nlohmann::json;

Response json_response(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Response error_response(const base::Error& e) {
  switch (e.code) {
    case Errc::invalid_argument:
      return json_response(400, {{"error", e.message}, {"parameter", e.context}});
    case Errc::not_found:
      return json_response(404, {{"error", e.message}});
    case Errc::unavailable:
    case Errc::timeout:
      return json_response(503, {{"error", "Cassandra is unavailable: " + e.message}});
    default:
      return json_response(500, {{"error", e.message}});
  }
}

Api::Api(Store& store, std::function<HealthSnapshot()> health,
         std::function<std::int64_t()> clock_ms, ApiLimits limits)
    : store_(store), health_(std::move(health)), clock_ms_(std::move(clock_ms)), limits_(limits) {}

Response Api::user(const std::string& id) const {
  auto uid = parse_uuid("id", id);
  if (!uid) return error_response(uid.error());
  auto u = store_.user(*uid);
  if (!u) return error_response(u.error());
  if (!*u) return json_response(404, {{"error", "no user " + *uid}});
  return json_response(200, **u);
}

Response Api::users(const Query& q) const {
  auto it = q.find("country");
  if (it == q.end()) {
    return error_response(
        base::make_error(Errc::invalid_argument, "required (e.g. country=NO)", "country"));
  }
  auto cc = parse_country("country", it->second);
  if (!cc) return error_response(cc.error());
  auto size = int_param(q, "page_size", 50, 1, limits_.max_page_size);
  if (!size) return error_response(size.error());
  std::string state;
  if (auto t = q.find("page_token"); t != q.end() && !t->second.empty()) {
    auto raw = hex_decode("page_token", t->second);
    if (!raw) return error_response(raw.error());
    state = std::move(*raw);
  }
  auto page = store_.users_by_country(*cc, static_cast<int>(*size), state);
  if (!page) {
    // A token the cluster does not recognise is the caller's mistake, not an outage.
    if (!state.empty() && page.error().code == Errc::invalid_argument)
      return error_response(
          base::make_error(Errc::invalid_argument, "not a page token", "page_token"));
    return error_response(page.error());
  }
  json users = json::array();
  for (auto& u : page->users) users.push_back(std::move(u));
  return json_response(200, {{"country", *cc},
                             {"users", users},
                             {"next_page_token", page->next_paging_state.empty()
                                                     ? json(nullptr)
                                                     : json(hex_encode(page->next_paging_state))}});
}

Response Api::totals() const {
  auto countries = store_.users_per_country();
  if (!countries) return error_response(countries.error());
  std::int64_t users = 0, with_users = 0;
  for (const auto& c : *countries) {
    users += c.users;
    if (c.users > 0) ++with_users;
  }
  const auto h = health_();
  const auto* ingest = h.stage("ingest");
  json out = {{"users", users},
              {"countries", with_users},
              {"staging_users", ingest && ingest->total ? json(*ingest->total) : json(nullptr)},
              {"rejects", h.rejects ? json(*h.rejects) : json(nullptr)},
              {"dead_letters", h.dead_letters ? json(*h.dead_letters) : json(nullptr)},
              {"freshness_s", h.freshness_s ? json(*h.freshness_s) : json(nullptr)}};
  // Signups in the last hour, from the smallest breakdown.
  const std::int64_t now = (clock_ms_() / 60000 + 1) * 60000;  // whole minutes (see signups)
  const std::int64_t from = now - 61 * 60000;
  std::int64_t signups = 0;
  const auto first = utc_day(from), last = utc_day(now);
  for (const auto& day : first == last ? std::vector{last} : std::vector{first, last}) {
    auto rows = store_.signups(Dimension::gender, day, from, now);
    if (!rows) return error_response(rows.error());
    for (const auto& r : *rows) signups += r.signups;
  }
  out["signups_last_hour"] = signups;
  return json_response(200, out);
}

Response Api::signups(const Query& q) const {
  auto by = dimension_param(q, "by", Dimension::country);
  if (!by) return error_response(by.error());
  // Default: the last hour, in whole minutes up to and including the current one.
  const std::int64_t next_minute = (clock_ms_() / 60000 + 1) * 60000;
  auto to = time_param(q, "to", next_minute);
  if (!to) return error_response(to.error());
  auto from = time_param(q, "from", *to - 61 * 60000);
  if (!from) return error_response(from.error());
  if (*from >= *to)
    return error_response(base::make_error(Errc::invalid_argument, "must be before 'to'", "from"));
  if (*to - *from > limits_.max_range_ms) {
    return error_response(
        base::make_error(Errc::invalid_argument, "the range may span at most 7 days", "from"));
  }
  std::vector<SignupRow> rows;
  constexpr std::int64_t kDay = 24LL * 3600 * 1000;
  for (std::int64_t d = *from - (*from % kDay); d < *to; d += kDay) {
    auto part = store_.signups(*by, utc_day(d), std::max(*from, d), std::min(*to, d + kDay));
    if (!part) return error_response(part.error());
    rows.insert(rows.end(), part->begin(), part->end());
  }
  std::sort(rows.begin(), rows.end(), [](const SignupRow& a, const SignupRow& b) {
    return a.minute_ms != b.minute_ms ? a.minute_ms < b.minute_ms : a.key < b.key;
  });
  json points = json::array();
  std::map<std::string, std::int64_t> totals;
  for (const auto& r : rows) {
    points.push_back({{"minute", iso_millis(r.minute_ms)}, {"key", r.key}, {"signups", r.signups}});
    totals[r.key] += r.signups;
  }
  return json_response(200, {{"by", to_string(*by)},
                             {"from", iso_millis(*from)},
                             {"to", iso_millis(*to)},
                             {"points", points},
                             {"totals", totals}});
}

Response Api::top_countries(const Query& q) const {
  auto limit = int_param(q, "limit", 10, 1, 300);
  if (!limit) return error_response(limit.error());
  auto countries = store_.users_per_country();
  if (!countries) return error_response(countries.error());
  auto list = std::move(*countries);
  std::sort(list.begin(), list.end(), [](const CountryUsers& a, const CountryUsers& b) {
    return a.users != b.users ? a.users > b.users : a.country_code < b.country_code;
  });
  json out = json::array();
  for (const auto& c : list) {
    if (static_cast<std::int64_t>(out.size()) >= *limit || c.users <= 0) break;
    out.push_back({{"country_code", c.country_code}, {"country", c.country}, {"users", c.users}});
  }
  return json_response(200, {{"countries", out}});
}

Response Api::coordinates(const Query& q) const {
  auto limit = int_param(q, "limit", 1000, 1, 5000);
  if (!limit) return error_response(limit.error());
  auto points = store_.coordinates(static_cast<int>(*limit));
  if (!points) return error_response(points.error());
  json out = json::array();
  for (const auto& p : *points)
    out.push_back({{"lat", p.latitude}, {"lon", p.longitude}, {"country_code", p.country_code}});
  return json_response(200, {{"points", out}});
}

Response Api::health() const { return json_response(200, health_().to_json()); }

}  // namespace streamflow::serve
