#include "control/watchdog.h"

#include <fmt/format.h>

#include <algorithm>

namespace streamflow::control {

CaptureWatchdog::CaptureWatchdog(WatchdogOptions options)
    : options_(options), backoff_ms_(options.first_backoff_ms) {}

void CaptureWatchdog::acted(std::int64_t at_ms) {
  next_action_ms_ = at_ms + backoff_ms_;
  backoff_ms_ = std::min(backoff_ms_ * 2, options_.max_backoff_ms);
  ++restarts_;
}

std::optional<WatchdogAction> CaptureWatchdog::observe(const CaptureLook& l) {
  const auto any_task = [&l](const char* state) {
    return std::any_of(l.tasks.begin(), l.tasks.end(),
                       [state](const std::string& t) { return t == state; });
  };
  const bool failed = l.connector == "FAILED" || any_task("FAILED");
  running_ = l.connector == "RUNNING" && !l.tasks.empty() &&
             std::all_of(l.tasks.begin(), l.tasks.end(),
                         [](const std::string& t) { return t == "RUNNING"; });

  bool moved = false;
  const auto follow = [&moved](std::optional<std::int64_t>& last, std::optional<std::int64_t> now) {
    if (!now) return;
    if (last && *now != *last) moved = true;
    last = now;
  };
  follow(last_lsn_, l.slot_confirmed_lsn);
  follow(last_topic_end_, l.topic_end);
  if (!seen_) {
    seen_ = true;
    last_progress_ms_ = l.at_ms;
  }
  if (moved) {
    last_progress_ms_ = l.at_ms;
    settled_changes_.reset();
    pending_since_.reset();
    backoff_ms_ = options_.first_backoff_ms;
    next_action_ms_ = 0;
  } else if (l.table_changes && (l.slot_confirmed_lsn || l.topic_end)) {
    const auto changes = *l.table_changes;
    if (!settled_changes_ || changes < *settled_changes_) {
      // The count once every change made before capture last moved is in it (or after the
      // statistics were reset).
      if (l.at_ms - last_progress_ms_ >= options_.stats_settle_ms) settled_changes_ = changes;
    } else if (changes > *settled_changes_ && !pending_since_) {
      pending_since_ = l.at_ms;
      stall_clock_ms_ = l.at_ms;
    }
  }

  if (!failed) failed_since_.reset();
  if (failed) {
    if (!failed_since_) failed_since_ = l.at_ms;
    if (l.at_ms - *failed_since_ < options_.failed_grace_ms || !may_act(l.at_ms))
      return std::nullopt;
    acted(l.at_ms);
    std::string states = l.connector.empty() ? "?" : l.connector;
    for (std::size_t i = 0; i < l.tasks.size(); ++i)
      states += fmt::format(" task{}={}", i, l.tasks[i]);
    return WatchdogAction{WatchdogAction::Kind::restart_failed, 0,
                          "the capture connector has failed parts (" + states + ")"};
  }
  if (running_ && pending_since_ && l.at_ms - stall_clock_ms_ >= options_.stall_timeout_ms &&
      may_act(l.at_ms)) {
    acted(l.at_ms);
    stall_clock_ms_ = l.at_ms;
    return WatchdogAction{
        WatchdogAction::Kind::restart_task, 0,
        fmt::format("task 0 says RUNNING but capture has moved nothing for {} s while the "
                    "captured table changed",
                    (l.at_ms - *pending_since_) / 1000)};
  }
  return std::nullopt;
}

}  // namespace streamflow::control
