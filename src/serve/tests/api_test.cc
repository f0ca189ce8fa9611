#include "serve/api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace streamflow::serve {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1795654800000;  // 2026-11-26T01:00:00Z

class FakeStore : public Store {
 public:
  std::optional<base::Error> down;
  std::vector<SignupRow> signup_rows;
  std::vector<std::pair<std::string, std::pair<std::int64_t, std::int64_t>>> signup_calls;
  std::string last_state;

  base::Result<std::optional<json>> user(const std::string& id) override {
    if (down) return *down;
    if (id == "a7c2e1f0-1234-4abc-8def-0123456789ab")
      return std::optional<json>(json{{"user_id", id}, {"age", 30}});
    return std::optional<json>();
  }
  base::Result<UserPage> users_by_country(const std::string& cc, int size,
                                          const std::string& state) override {
    if (down) return *down;
    last_state = state;
    if (state == "bogus") return base::make_error(base::Errc::invalid_argument, "bad paging state");
    UserPage p;
    for (int i = 0; i < size; ++i) p.users.push_back({{"country_code", cc}, {"n", i}});
    p.next_paging_state = state.empty() ? std::string("\x01\x02", 2) : "";
    return p;
  }
  base::Result<std::vector<SignupRow>> signups(Dimension, const std::string& day, std::int64_t from,
                                               std::int64_t to) override {
    if (down) return *down;
    signup_calls.push_back({day, {from, to}});
    std::vector<SignupRow> out;
    for (const auto& r : signup_rows)
      if (r.minute_ms >= from && r.minute_ms < to) out.push_back(r);
    return out;
  }
  base::Result<std::vector<CountryUsers>> users_per_country() override {
    if (down) return *down;
    return std::vector<CountryUsers>{
        {"NO", "Norway", 5}, {"US", "United States", 9}, {"FR", "France", 0}, {"DE", "Germany", 5}};
  }
  base::Result<std::vector<Point>> coordinates(int limit) override {
    if (down) return *down;
    return std::vector<Point>(static_cast<std::size_t>(std::min(limit, 3)), Point{1.5, -2.5, "NO"});
  }
};

struct ApiTest : ::testing::Test {
  FakeStore store;
  HealthSnapshot health;
  Api api{store, [this] { return health; }, [] { return kNow; }};
  static json body(const Response& r) { return json::parse(r.body); }
};

TEST_F(ApiTest, UserByIdFoundMissingAndMalformed) {
  auto ok = api.user("A7C2E1F0-1234-4ABC-8DEF-0123456789AB");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(body(ok)["age"], 30);
  auto missing = api.user("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(missing.status, 404);
  auto bad = api.user("not-a-uuid");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad)["parameter"], "id");
}

TEST_F(ApiTest, UsersByCountryPagesWithAToken) {
  auto first = api.users({{"country", "no"}, {"page_size", "3"}});
  ASSERT_EQ(first.status, 200);
  auto j = body(first);
  EXPECT_EQ(j["country"], "NO");
  EXPECT_EQ(j["users"].size(), 3u);
  EXPECT_EQ(j["next_page_token"], "0102");
  auto second = api.users({{"country", "NO"}, {"page_token", "0102"}});
  EXPECT_EQ(store.last_state, std::string("\x01\x02", 2));
  EXPECT_TRUE(body(second)["next_page_token"].is_null());
  EXPECT_EQ(body(api.users({})).value("parameter", ""), "country");
  EXPECT_EQ(body(api.users({{"country", "NO"}, {"page_size", "0"}}))["parameter"], "page_size");
  EXPECT_EQ(body(api.users({{"country", "NO"}, {"page_token", "xyz"}}))["parameter"], "page_token");
  // A well-formed token the cluster rejects is still the caller's mistake.
  auto bogus = api.users({{"country", "NO"}, {"page_token", hex_encode("bogus")}});
  EXPECT_EQ(bogus.status, 400);
  EXPECT_EQ(body(bogus)["parameter"], "page_token");
}

TEST_F(ApiTest, ADownCassandraIsA503NotACrash) {
  store.down = base::make_error(base::Errc::unavailable, "no connection to 127.0.0.1:9042");
  for (const auto& r :
       {api.user("a7c2e1f0-1234-4abc-8def-0123456789ab"), api.users({{"country", "NO"}}),
        api.totals(), api.signups({}), api.top_countries({}), api.coordinates({})}) {
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(body(r)["error"].get<std::string>().find("Cassandra is unavailable"),
              std::string::npos);
  }
  EXPECT_EQ(api.health().status, 200);  // health never depends on Cassandra answering
}

TEST_F(ApiTest, SignupsSplitTheRangeByUtcDayAndTotalByKey) {
  const std::int64_t midnight = 1795651200000;  // 2026-11-26T00:00Z
  store.signup_rows = {{midnight - 60000, "NO", 2}, {midnight, "NO", 3}, {midnight, "US", 1}};
  auto r =
      api.signups({{"by", "country"}, {"from", "2026-11-25T23:00Z"}, {"to", "2026-11-26T00:30Z"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = body(r);
  EXPECT_EQ(j["by"], "country");
  EXPECT_EQ(j["points"].size(), 3u);
  EXPECT_EQ(j["points"][0]["minute"], "2026-11-25T23:59:00.000Z");
  EXPECT_EQ(j["totals"]["NO"], 5);
  ASSERT_EQ(store.signup_calls.size(), 2u);
  EXPECT_EQ(store.signup_calls[0].first, "2026-11-25");
  EXPECT_EQ(store.signup_calls[1].first, "2026-11-26");
  EXPECT_EQ(store.signup_calls[1].second.first, midnight);
}

TEST_F(ApiTest, SignupsRejectABadRange) {
  EXPECT_EQ(
      body(api.signups({{"from", "2026-11-26T02:00Z"}, {"to", "2026-11-26T01:00Z"}}))["parameter"],
      "from");
  EXPECT_EQ(
      body(api.signups({{"from", "2026-11-01T00:00Z"}, {"to", "2026-11-26T00:00Z"}}))["parameter"],
      "from");
  EXPECT_EQ(body(api.signups({{"by", "shoe_size"}}))["parameter"], "by");
  EXPECT_EQ(body(api.signups({{"to", "soon"}}))["parameter"], "to");
}

TEST_F(ApiTest, TopCountriesAreSortedAndSkipEmptyOnes) {
  auto j = body(api.top_countries({{"limit", "3"}}));
  ASSERT_EQ(j["countries"].size(), 3u);
  EXPECT_EQ(j["countries"][0]["country_code"], "US");
  EXPECT_EQ(j["countries"][1]["country_code"], "DE");  // ties by code
  EXPECT_EQ(j["countries"][2]["country_code"], "NO");
  EXPECT_EQ(body(api.top_countries({{"limit", "10"}}))["countries"].size(), 3u);  // FR has 0
  EXPECT_EQ(api.top_countries({{"limit", "0"}}).status, 400);
}

TEST_F(ApiTest, TotalsAddUpCountriesAndCarryHealthCounts) {
  health.rejects = 4;
  health.dead_letters = 2;
  store.signup_rows = {{kNow - 120000, "female", 7}, {kNow - 7200000, "male", 100}};
  auto j = body(api.totals());
  EXPECT_EQ(j["users"], 19);
  EXPECT_EQ(j["countries"], 3);
  EXPECT_EQ(j["rejects"], 4);
  EXPECT_EQ(j["dead_letters"], 2);
  EXPECT_EQ(j["signups_last_hour"], 7);
  EXPECT_TRUE(j["staging_users"].is_null());
}

TEST_F(ApiTest, Coordinates) {
  auto j = body(api.coordinates({{"limit", "2"}}));
  EXPECT_EQ(j["points"].size(), 2u);
  EXPECT_EQ(j["points"][0]["lon"], -2.5);
  EXPECT_EQ(body(api.coordinates({{"limit", "999999"}}))["parameter"], "limit");
}

}  // namespace
}  // namespace streamflow::serve

namespace streamflow::serve {
namespace {

TEST(CachingStore, AggregatesAreReusedWithinTheTtlAndErrorsNeverCached) {
  struct Counting : FakeStore {
    int per_country = 0, signup_calls_n = 0;
    base::Result<std::vector<CountryUsers>> users_per_country() override {
      ++per_country;
      return FakeStore::users_per_country();
    }
    base::Result<std::vector<SignupRow>> signups(Dimension d, const std::string& day,
                                                 std::int64_t f, std::int64_t t) override {
      ++signup_calls_n;
      return FakeStore::signups(d, day, f, t);
    }
  } inner;
  std::int64_t now = 1000;
  CachingStore cache(inner, 1000, [&] { return now; });
  ASSERT_TRUE(cache.users_per_country());
  ASSERT_TRUE(cache.users_per_country());
  EXPECT_EQ(inner.per_country, 1);
  ASSERT_TRUE(cache.signups(Dimension::gender, "2026-11-26", 0, 60000));
  ASSERT_TRUE(cache.signups(Dimension::gender, "2026-11-26", 0, 60000));
  ASSERT_TRUE(cache.signups(Dimension::country, "2026-11-26", 0, 60000));  // another key
  EXPECT_EQ(inner.signup_calls_n, 2);
  now += 1000;  // expired
  ASSERT_TRUE(cache.users_per_country());
  EXPECT_EQ(inner.per_country, 2);
  inner.down = base::make_error(base::Errc::unavailable, "down");
  now += 1000;
  EXPECT_FALSE(cache.users_per_country());
  inner.down.reset();
  EXPECT_TRUE(cache.users_per_country());
  EXPECT_EQ(inner.per_country, 4);  // the failure was not kept
  EXPECT_TRUE(
      cache.user("a7c2e1f0-1234-4abc-8def-0123456789ab").value().has_value());  // passes through
}

TEST(CachingStore, RequestsForAnAnswerBeingReadWaitForThatRead) {
  struct Gated : FakeStore {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<int> reads{0};
    base::Result<std::vector<CountryUsers>> users_per_country() override {
      ++reads;
      std::unique_lock lock(mu);
      cv.wait(lock, [this] { return open; });
      return FakeStore::users_per_country();
    }
  } inner;
  std::atomic<std::int64_t> now{1000};
  CachingStore cache(inner, 1000, [&] { return now.load(); });
  std::vector<std::thread> callers;
  std::atomic<int> asked{0}, answered{0};
  auto call = [&] {
    ++asked;
    if (auto r = cache.users_per_country(); r && r->size() == 4) ++answered;
  };
  for (int i = 0; i < 8; ++i) callers.emplace_back(call);
  auto settle = [&](int callers_asked) {  // they have asked, and had time to join the read
    for (int i = 0; i < 500 && asked < callers_asked; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  settle(8);
  EXPECT_EQ(inner.reads, 1);
  now += 5000;  // the read outlives the TTL: a request now still joins it
  callers.emplace_back(call);
  settle(9);
  EXPECT_EQ(inner.reads, 1);
  {
    std::lock_guard lock(inner.mu);
    inner.open = true;
  }
  inner.cv.notify_all();
  for (auto& t : callers) t.join();
  EXPECT_EQ(answered, 9);
  EXPECT_EQ(inner.reads, 1);
}

TEST(CachingStore, AReadThatThrowsIsNotKept) {
  struct Throwing : FakeStore {
    int reads = 0;
    base::Result<std::vector<CountryUsers>> users_per_country() override {
      if (++reads == 1) throw std::runtime_error("not a number");
      return FakeStore::users_per_country();
    }
  } inner;
  CachingStore cache(inner, 1000, [] { return std::int64_t{1000}; });
  EXPECT_THROW((void)cache.users_per_country(), std::runtime_error);
  auto r = cache.users_per_country();  // within the TTL: read again, not the exception
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 4u);
  EXPECT_EQ(inner.reads, 2);
}

}  // namespace
}  // namespace streamflow::serve
