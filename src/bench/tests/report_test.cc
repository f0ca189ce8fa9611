#include "bench/report.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "bench/sampler.h"

namespace streamflow::bench {
namespace {

Sample at(double t, std::int64_t staging, std::int64_t cassandra) {
  Sample s;
  s.t = t;
  s.staging_users = staging;
  s.cassandra_users = cassandra;
  return s;
}

TEST(StageRate, CountsOnlyTheSpanInWhichTheCounterMoved) {
  // Idle for 2 s, 3,000 rows in the next 3 s, then idle again while another stage catches up.
  std::vector<Sample> s = {at(0, 100, 100),   at(1, 100, 100),   at(2, 100, 100),
                           at(3, 1100, 100),  at(4, 2100, 600),  at(5, 3100, 1600),
                           at(6, 3100, 2600), at(7, 3100, 3100), at(8, 3100, 3100)};
  const auto ingest = stage_rate(s, &Sample::staging_users);
  EXPECT_EQ(ingest.count, 3000);
  EXPECT_DOUBLE_EQ(ingest.seconds, 3.0);  // from t=2 (last before the rise) to t=5
  EXPECT_DOUBLE_EQ(ingest.per_s, 1000.0);
  const auto cass = stage_rate(s, &Sample::cassandra_users);
  EXPECT_EQ(cass.count, 3000);
  EXPECT_DOUBLE_EQ(cass.seconds, 4.0);  // t=3 to t=7
}

TEST(StageRate, ADownstreamStageIsCountedFromWhenItsInputBegan) {
  // Ingest rises from t=1 (begin t=0); the downstream counter moves in one step at t=6, as the
  // Spark job's totals do once per progress report. On its own it would be 5,000 rows in the
  // 1 s before the step; from when its input began it is 5,000 rows in 6 s.
  std::vector<Sample> s = {at(0, 0, 0),    at(1, 2000, 0), at(2, 4000, 0),    at(3, 5000, 0),
                           at(4, 5000, 0), at(5, 5000, 0), at(6, 5000, 5000), at(7, 5000, 5000)};
  const auto ingest = stage_rate(s, &Sample::staging_users);
  EXPECT_DOUBLE_EQ(ingest.begin, 0.0);
  EXPECT_DOUBLE_EQ(stage_rate(s, &Sample::cassandra_users).per_s, 5000.0);  // the artefact
  const auto cass = stage_rate(s, &Sample::cassandra_users, ingest.begin);
  EXPECT_EQ(cass.count, 5000);
  EXPECT_DOUBLE_EQ(cass.seconds, 6.0);
  EXPECT_DOUBLE_EQ(cass.per_s, 5000.0 / 6.0);
}

TEST(StageRate, SkipsUnansweredSamplesAndHandlesNoMovement) {
  std::vector<Sample> s = {at(0, 5, 0), at(1, 5, 0), at(2, 5, 0)};
  s[1].staging_users.reset();
  EXPECT_EQ(stage_rate(s, &Sample::staging_users).count, 0);
  EXPECT_EQ(stage_rate(s, &Sample::staging_users).per_s, 0);
  EXPECT_EQ(stage_rate(s, &Sample::cdc_events).count, 0);  // never answered
  EXPECT_EQ(stage_rate({}, &Sample::cdc_events).count, 0);
}

TEST(Percentiles, NearestRank) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
  const auto p = percentiles(v);
  EXPECT_EQ(p.n, 100u);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p95, 95);
  EXPECT_EQ(p.p99, 99);
  EXPECT_EQ(p.max, 100);
  EXPECT_EQ(percentiles({7}).p99, 7);
  EXPECT_EQ(percentiles({}).n, 0u);
}

TEST(EndToEnd, ThroughputFromFirstCommitToLastWriteAndFreshnessPerUser) {
  // Commits at 0, 1 and 2 s, written 0.5, 1 and 3 s later (writetime in microseconds).
  const std::vector<Visible> rows = {
      {1000000, 1000500000}, {1001000, 1002000000}, {1002000, 1005000000}};
  const auto e = end_to_end(rows);
  EXPECT_EQ(e.users, 3);
  EXPECT_DOUBLE_EQ(e.users_per_s, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(e.freshness_s.p50, 1.0);
  EXPECT_DOUBLE_EQ(e.freshness_s.max, 3.0);
  const auto tl = freshness_timeline(rows, 1000000);
  ASSERT_EQ(tl.size(), 3u);
  EXPECT_EQ(tl[2].t, 2);
  EXPECT_DOUBLE_EQ(tl[2].max, 3.0);
}

TEST(ByMinute, CommittedFreshnessAndWrittenPerMinuteOfTheRun) {
  // Start at 1,000,000 ms. Minute 0: two commits, written 1 s and 3 s later. Minute 1: one
  // commit at 119.5 s, written in minute 2 (0.7 s later). Minute 2: one commit written 2 s later.
  const std::int64_t start = 1000000;
  const std::vector<Visible> rows = {{start + 0, (start + 1000) * 1000},
                                     {start + 10000, (start + 13000) * 1000},
                                     {start + 119500, (start + 120200) * 1000},
                                     {start + 125000, (start + 127000) * 1000}};
  const auto m = by_minute(rows, start);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].minute, 0);
  EXPECT_EQ(m[0].committed, 2);
  EXPECT_EQ(m[0].written, 2);
  EXPECT_DOUBLE_EQ(m[0].p50, 1.0);
  EXPECT_DOUBLE_EQ(m[0].p99, 3.0);
  EXPECT_EQ(m[1].committed, 1);
  EXPECT_EQ(m[1].written, 0);
  EXPECT_NEAR(m[1].p99, 0.7, 1e-9);
  EXPECT_EQ(m[2].committed, 1);
  EXPECT_EQ(m[2].written, 2);
  EXPECT_DOUBLE_EQ(m[2].p99, 2.0);
  EXPECT_TRUE(by_minute({}, start).empty());
}

TEST(ServiceUsage, PeakMemoryAverageCpuAndARestartIsNotNegative) {
  std::vector<Sample> s(4);
  for (int i = 0; i < 4; ++i) s[i].t = i * 2.0;
  s[0].services["kafka"] = {100 << 20, 10.0};
  s[1].services["kafka"] = {300 << 20, 12.0};  // one core for 2 s
  s[2].services["kafka"] = {200 << 20, 0.5};   // restarted: counters reset
  s[3].services["kafka"] = {200 << 20, 1.5};   // half a core
  s[1].services["spark"] = {1024u << 20, 1.0};
  s[2].services["spark"] = {1024u << 20, 2.0};
  const auto u = service_usage(s);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].name, "kafka");
  EXPECT_DOUBLE_EQ(u[0].peak_rss_mb, 300);
  EXPECT_DOUBLE_EQ(u[0].peak_cpu_pct, 100);
  EXPECT_DOUBLE_EQ(u[0].avg_cpu_pct, 100.0 * 3.0 / 6.0);
  EXPECT_DOUBLE_EQ(u[0].cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(peak_stack_rss_mb(s), 1324);  // at t=2: 300 + 1024
  EXPECT_DOUBLE_EQ(peak_stack_pss_mb(s), 0);     // no sample read it
  EXPECT_DOUBLE_EQ(u[0].peak_pss_mb, 0);
}

TEST(ServiceUsage, PeakProportionalSetSizeComesFromTheSamplesThatReadIt) {
  std::vector<Sample> s(3);
  for (int i = 0; i < 3; ++i) s[i].t = i;
  s[0].services["postgres"] = {900u << 20, 1.0, 200u << 20};
  s[0].services["spark"] = {1000u << 20, 1.0, 950u << 20};
  s[1].services["postgres"] = {1200u << 20, 2.0};  // PSS not read at this sample
  s[1].services["spark"] = {1100u << 20, 2.0};
  s[2].services["postgres"] = {1000u << 20, 3.0, 250u << 20};
  s[2].services["spark"] = {1000u << 20, 3.0, 900u << 20};
  EXPECT_DOUBLE_EQ(peak_stack_rss_mb(s), 2300);
  EXPECT_DOUBLE_EQ(peak_stack_pss_mb(s), 1150);  // 200 + 950 at t=0, 250 + 900 at t=2
  const auto u = service_usage(s);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_DOUBLE_EQ(u[0].peak_pss_mb, 250);
  EXPECT_DOUBLE_EQ(u[1].peak_pss_mb, 950);
}

TEST(StagesApart, CpuBetweenTwoSamplesPerService) {
  Sample a, b;
  a.services["kafka"] = {0, 10.0};
  b.services["kafka"] = {0, 12.5};
  a.services["spark"] = {0, 30.0};
  b.services["spark"] = {0, 1.0};      // restarted in between: not negative
  b.services["cassandra"] = {0, 4.0};  // not there at the first sample
  const auto d = cpu_between(a, b);
  EXPECT_DOUBLE_EQ(d.at("kafka"), 2.5);
  EXPECT_DOUBLE_EQ(d.at("spark"), 0);
  EXPECT_DOUBLE_EQ(d.at("cassandra"), 0);
}

TEST(StagesApart, FirstSampleFromAnIndex) {
  std::vector<Sample> s = {at(0, 10, 0), at(1, 20, 5), at(2, 20, 20)};
  auto caught_up = [](const Sample& x) { return *x.cassandra_users >= *x.staging_users; };
  EXPECT_EQ(first_sample(s, 0, caught_up), std::optional<std::size_t>(2));
  EXPECT_EQ(first_sample(s, 3, caught_up), std::nullopt);
  auto any = [](const Sample&) { return true; };
  EXPECT_EQ(first_sample(s, 1, any), std::optional<std::size_t>(1));
}

TEST(StagesApart, CpuPerUserOfBothHalvesSetsTheCeiling) {
  // 100,000 users: capture used 6 + 4 CPU-s (100 us/user), processing 15 CPU-s (150 us/user).
  HalfRun capture{100000, 10.0, {{"postgres", 6.0}, {"connect", 4.0}}};
  HalfRun process{100000, 20.0, {{"spark", 12.0}, {"cassandra", 3.0}}};
  const auto j = stages_apart_json(capture, process, 2, 10000);
  EXPECT_DOUBLE_EQ(j["capture"]["users_per_s"].get<double>(), 10000);
  EXPECT_DOUBLE_EQ(j["capture"]["cpu_us_per_user"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(j["capture"]["cpu_us_per_user_by_service"]["postgres"].get<double>(), 60);
  EXPECT_DOUBLE_EQ(j["process"]["users_per_s"].get<double>(), 5000);
  EXPECT_DOUBLE_EQ(j["process"]["cpu_us_per_user_by_service"]["spark"].get<double>(), 120);
  EXPECT_DOUBLE_EQ(j["cpu_us_per_user"].get<double>(), 250);
  // Two cores give 2,000,000 us of CPU per second: 250 us per user leaves room for 8,000/s.
  EXPECT_DOUBLE_EQ(j["ceiling_users_per_s"].get<double>(), 8000);
  EXPECT_DOUBLE_EQ(j["cpu_us_per_user_at_target"].get<double>(), 200);
  EXPECT_EQ(j["cores"].get<unsigned>(), 2u);
}

TEST(StagesApart, NoUsersGivesNoCeilingRatherThanADivisionByZero) {
  const auto j = stages_apart_json(HalfRun{}, HalfRun{}, 2, 10000);
  EXPECT_EQ(j["ceiling_users_per_s"].get<double>(), 0);
  EXPECT_EQ(j["capture"]["users_per_s"].get<double>(), 0);
}

TEST(ReportJson, StagesAsFractionsOfTheirBaselines) {
  std::vector<Sample> s = {at(0, 0, 0), at(1, 1000, 0), at(2, 2000, 2000)};
  s[0].cdc_events = 0;
  s[1].cdc_events = 2000;
  s[2].cdc_events = 2000;
  Baselines b;
  b.postgres_copy_rows_per_s = 4000;
  b.kafka_produce_msgs_per_s = 8000;
  RunInfo run;
  run.mode = "flat out";
  const auto doc = report_json(run, s, end_to_end({}), {}, b);
  EXPECT_EQ(doc["stages"]["ingest_to_postgres"]["rows_per_s"], 1000);
  EXPECT_EQ(doc["stages"]["ingest_to_postgres"]["fraction_of_baseline"], 0.25);
  EXPECT_EQ(doc["stages"]["cdc_to_kafka"]["fraction_of_baseline"], 0.25);
  EXPECT_TRUE(doc["stages"]["spark_to_cassandra"]["fraction_of_baseline"].is_null());
  EXPECT_TRUE(doc["baselines"]["cassandra_writes_per_s"].is_null());
  EXPECT_EQ(doc["timeline"].size(), 3u);
}

// A sampler whose samples never satisfy the wait.
struct NoProgress {
  std::vector<Sample> samples() const { return {at(0, 0, 0)}; }
};

TEST(AwaitSample, AStopEndsTheWaitAtOnceAsCancelled) {
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = await_sample(NoProgress{}, 600, stop, "Cassandra catching up",
                        [](const Sample& s) { return s.cassandra_users.value_or(0) > 0; });
  stopper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::Errc::cancelled);
  EXPECT_NE(r.error().message.find("Cassandra catching up"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(AwaitSample, WithoutAStopItTimesOut) {
  std::atomic<bool> stop{false};
  auto r = await_sample(NoProgress{}, 0.3, stop, "a sample",
                        [](const Sample& s) { return s.cassandra_users.value_or(0) > 0; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::Errc::timeout);
}

}  // namespace
}  // namespace streamflow::bench
