#include "control/watchdog.h"

#include <gtest/gtest.h>

namespace streamflow::control {
namespace {

WatchdogOptions options() {
  WatchdogOptions o;
  o.stall_timeout_ms = 60000;
  o.stats_settle_ms = 5000;
  o.first_backoff_ms = 30000;
  o.max_backoff_ms = 120000;
  return o;
}

CaptureLook running(std::int64_t at_s, std::int64_t lsn, std::int64_t changes,
                    std::int64_t topic_end = 100) {
  CaptureLook l;
  l.at_ms = at_s * 1000;
  l.connector = "RUNNING";
  l.tasks = {"RUNNING"};
  l.slot_confirmed_lsn = lsn;
  l.topic_end = topic_end;
  l.table_changes = changes;
  return l;
}

/// Looks every 2 s from `from_s` to `to_s` with the same position and count; the actions taken.
std::vector<std::pair<std::int64_t, WatchdogAction>> hold(CaptureWatchdog& w, std::int64_t from_s,
                                                          std::int64_t to_s, std::int64_t lsn,
                                                          std::int64_t changes,
                                                          const std::string& task = "RUNNING") {
  std::vector<std::pair<std::int64_t, WatchdogAction>> out;
  for (auto t = from_s; t <= to_s; t += 2) {
    auto l = running(t, lsn, changes);
    l.tasks = {task};
    if (auto a = w.observe(l)) out.emplace_back(t, *a);
  }
  return out;
}

TEST(CaptureWatchdog, AQuietPipelineIsLeftAlone) {
  CaptureWatchdog w(options());
  EXPECT_TRUE(hold(w, 0, 3600, 500, 40).empty());
  EXPECT_FALSE(w.stalled_since_ms());
  EXPECT_EQ(w.restarts(), 0);
}

TEST(CaptureWatchdog, ChangesThatMoveCaptureAreNotAStall) {
  CaptureWatchdog w(options());
  std::int64_t lsn = 1000, changes = 0;
  for (std::int64_t t = 0; t < 600; t += 2) {
    changes += 50;
    lsn += 4000;
    EXPECT_FALSE(w.observe(running(t, lsn, changes))) << t;
  }
  EXPECT_EQ(w.restarts(), 0);
}

TEST(CaptureWatchdog, ChangesWaitingWhileNothingMovesRestartTheTaskAfterTheTimeout) {
  CaptureWatchdog w(options());
  EXPECT_TRUE(hold(w, 0, 20, 500, 40).empty());  // settled at 5 s: 40 changes, all captured
  // From 22 s the table changes and the slot stays where it was.
  EXPECT_FALSE(w.observe(running(22, 500, 90)));
  ASSERT_TRUE(w.stalled_since_ms());
  EXPECT_EQ(*w.stalled_since_ms(), 22000);
  const auto acts = hold(w, 24, 200, 500, 90);
  ASSERT_FALSE(acts.empty());
  EXPECT_EQ(acts[0].first, 82);  // 60 s after the changes were first seen waiting
  EXPECT_EQ(acts[0].second.kind, WatchdogAction::Kind::restart_task);
  EXPECT_EQ(acts[0].second.task, 0);
  EXPECT_NE(acts[0].second.reason.find("60 s"), std::string::npos) << acts[0].second.reason;
  // Still stuck: again a timeout later (the back-off, 30 s, is shorter).
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[1].first, 142);
  // Restarts do not reset the stall: it is as old as the first waiting change.
  EXPECT_EQ(*w.stalled_since_ms(), 22000);
}

TEST(CaptureWatchdog, TheBackOffDoublesWhileNothingMovesAndStartsOverWhenCaptureMoves) {
  auto o = options();
  o.stall_timeout_ms = 10000;
  CaptureWatchdog w(o);
  hold(w, 0, 10, 500, 40);
  w.observe(running(12, 500, 41));
  std::vector<std::int64_t> at;
  for (const auto& [t, a] : hold(w, 14, 400, 500, 41)) at.push_back(t);
  // 10 s timeout, then waits of 30, 60, 120, 120... s.
  ASSERT_GE(at.size(), 4u);
  EXPECT_EQ(at[0], 22);
  EXPECT_EQ(at[1], 52);
  EXPECT_EQ(at[2], 112);
  EXPECT_EQ(at[3], 232);
  // Capture moves: the stall is over; a new one is restarted after the timeout again.
  EXPECT_FALSE(w.observe(running(402, 900, 41)));
  EXPECT_FALSE(w.stalled_since_ms());
  hold(w, 404, 410, 900, 41);
  w.observe(running(412, 900, 45));
  const auto again = hold(w, 414, 440, 900, 45);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].first, 422);
}

TEST(CaptureWatchdog, ChangesCountedJustAfterCaptureMovedAreNotAStall) {
  // The statistics count a change up to a second after it commits: capture may already have it.
  CaptureWatchdog w(options());
  hold(w, 0, 10, 500, 40);
  EXPECT_FALSE(w.observe(running(12, 800, 40)));  // capture moved (the change is in it)
  EXPECT_FALSE(w.observe(running(14, 800, 45)));  // its count arrives after
  EXPECT_TRUE(hold(w, 16, 600, 800, 45).empty());
  EXPECT_FALSE(w.stalled_since_ms());
}

TEST(CaptureWatchdog, ASnapshotThatWritesTheTopicBeforeTheSlotMovesIsProgress) {
  CaptureWatchdog w(options());
  hold(w, 0, 10, 500, 40);
  for (std::int64_t t = 12, end = 100; t < 400; t += 2, end += 1000)
    EXPECT_FALSE(w.observe(running(t, 500, 40 + t, end))) << t;
  EXPECT_EQ(w.restarts(), 0);
}

TEST(CaptureWatchdog, APausedConnectorIsNotRestartedButAFailedTaskIsWithBackOff) {
  CaptureWatchdog w(options());
  hold(w, 0, 10, 500, 40);
  w.observe(running(12, 500, 90));
  EXPECT_TRUE(hold(w, 14, 300, 500, 90, "PAUSED").empty());
  EXPECT_FALSE(w.stalled_since_ms());  // an operator's pause is not a stall

  CaptureWatchdog f(options());
  const auto acts = hold(f, 0, 130, 500, 40, "FAILED");
  ASSERT_EQ(acts.size(), 3u);  // after 30 s FAILED, then after 30 and 60 s more
  EXPECT_EQ(acts[0].first, 30);
  EXPECT_EQ(acts[1].first, 60);
  EXPECT_EQ(acts[2].first, 120);
  EXPECT_EQ(acts[0].second.kind, WatchdogAction::Kind::restart_failed);
  EXPECT_NE(acts[0].second.reason.find("task0=FAILED"), std::string::npos) << acts[0].second.reason;
  CaptureLook down;
  down.at_ms = 240000;  // the next back-off's end
  down.connector = "FAILED";
  EXPECT_TRUE(f.observe(down));
}

TEST(CaptureWatchdog, ATaskThatFailsAgainAfterARestartWaitsOutTheGraceAgain) {
  CaptureWatchdog w(options());
  std::vector<std::int64_t> at;
  // FAILED, restarted at 30 s, RUNNING for 4 s, FAILED again from 34 s.
  for (std::int64_t t = 0; t <= 200; t += 2) {
    auto l = running(t, 500, 40);
    l.tasks = {t < 32 || t >= 34 ? "FAILED" : "RUNNING"};
    if (w.observe(l)) at.push_back(t);
  }
  ASSERT_GE(at.size(), 2u);
  EXPECT_EQ(at[0], 30);
  EXPECT_EQ(at[1], 64);  // 30 s after it failed again (the back-off, 30 s, ended at 60)
}

TEST(CaptureWatchdog, UnknownFiguresNeverMakeAStall) {
  CaptureWatchdog w(options());
  for (std::int64_t t = 0; t < 600; t += 2) {
    CaptureLook l;
    l.at_ms = t * 1000;
    l.connector = "RUNNING";
    l.tasks = {"RUNNING"};
    l.table_changes = t;  // the table changes; neither the slot nor the topic is known
    EXPECT_FALSE(w.observe(l)) << t;
  }
  EXPECT_FALSE(w.stalled_since_ms());
}

TEST(CaptureWatchdog, ResetStatisticsStartTheCountOver) {
  CaptureWatchdog w(options());
  hold(w, 0, 10, 500, 4000);
  EXPECT_TRUE(hold(w, 12, 30, 500, 3).empty());  // pg_stat_reset(): the count fell
  EXPECT_FALSE(w.stalled_since_ms());
  w.observe(running(32, 500, 10));  // then changes, and nothing moves
  ASSERT_TRUE(w.stalled_since_ms());
  EXPECT_EQ(*w.stalled_since_ms(), 32000);
}

}  // namespace
}  // namespace streamflow::control
