#include "ops/reconcile.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace streamflow::ops {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

Snapshot base_snapshot() {
  Snapshot s;
  s.now_ms = kNow;
  s.staging = {{"a", kNow - 500'000}, {"b", kNow - 400'000}, {"c", kNow - 1'000}};
  s.cassandra_ids = {"a", "b", "c"};
  return s;
}

TEST(Reconcile, ConsistentWhenBothSidesHoldTheSameIds) {
  auto r = compare(base_snapshot(), 60);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.staging_users, 3);
  EXPECT_EQ(r.cassandra_users, 3);
  EXPECT_EQ(r.in_flight, 0);
  EXPECT_EQ(r.lag_s, 0);
}

TEST(Reconcile, AYoungRowNotYetInCassandraIsInFlightNotMissing) {
  auto s = base_snapshot();
  s.cassandra_ids = {"a", "b"};
  auto r = compare(s, 60);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.in_flight, 1);
  EXPECT_DOUBLE_EQ(r.lag_s, 1.0);
}

TEST(Reconcile, ARowAbsentPastTheBoundIsMissingAndNamedOldestFirst) {
  auto s = base_snapshot();
  s.cassandra_ids = {"c"};
  auto r = compare(s, 60);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.missing, 2);
  EXPECT_EQ(r.missing_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(r.lag_s, 500.0);
  EXPECT_NE(r.to_text().find("MISSING: 2"), std::string::npos);
  EXPECT_NE(r.to_text().find("a, b"), std::string::npos);
}

TEST(Reconcile, ACassandraRowUnknownToStagingIsUnexpectedUnlessPurged) {
  auto s = base_snapshot();
  s.cassandra_ids = {"a", "b", "c", "purged-1", "ghost"};
  s.purged_ids = {"purged-1"};
  auto r = compare(s, 60);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.purged_users, 1);
  EXPECT_EQ(r.unexpected, 1);
  EXPECT_EQ(r.unexpected_ids, std::vector<std::string>{"ghost"});
}

TEST(Reconcile, ListsAreCappedButCountsAreNot) {
  Snapshot s;
  s.now_ms = kNow;
  for (int i = 0; i < 50; ++i) s.staging.push_back({std::to_string(i), kNow - 100'000 - i});
  auto r = compare(s, 10, 5);
  EXPECT_EQ(r.missing, 50);
  EXPECT_EQ(r.missing_ids.size(), 5u);
  EXPECT_EQ(r.missing_ids.front(), "49");  // the oldest
}

TEST(Reconcile, JsonCarriesEveryCount) {
  auto s = base_snapshot();
  s.cassandra_ids = {"b", "c"};
  auto r = compare(s, 60);
  r.rejects = 7;
  auto j = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["missing"], 1);
  EXPECT_EQ(j["missing_ids"][0], "a");
  EXPECT_EQ(j["rejects"], 7);
  EXPECT_TRUE(j["dead_letters"].is_null());
}

}  // namespace
}  // namespace streamflow::ops
