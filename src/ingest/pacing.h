#pragma once
/// Politeness towards the API: at most `requests_per_s` requests to one API host, retries
/// included. The clock of each host lives in PostgreSQL (staging.api_request_clock), so the
/// limit holds across every ingest process of the stack: Airflow's continuous runs follow one
/// another, and each would otherwise start with a request at once. Without a database (a dry
/// run) the clock is this process's own. Thread-safe: the workers of one ingest share a pacer.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "base/result.h"

namespace streamflow::ingest {

class BatchWriter;

/// When a request asked for at `now` may go, and the host's next free time after it (both in
/// seconds on one clock). Pure.
struct Slot {
  double at = 0;
  double next_free = 0;
};
Slot next_slot(double next_free, double now, double interval_s);

class RequestPacer {
 public:
  /// `host`: scheme://host[:port] of the API; `requests_per_s` <= 0: no limit.
  RequestPacer(std::string host, double requests_per_s);

  bool limited() const { return interval_s_ > 0; }
  double interval_s() const { return interval_s_; }

  /// Waits for this request's turn. `writer`: the worker's database connection, which holds the
  /// shared clock (nullptr: this process's clock). Returns false when `stop` became true while
  /// waiting. A database error falls back to this process's clock (and is logged once): a
  /// request is never lost for want of its slot.
  bool wait(BatchWriter* writer, const std::atomic<bool>& stop);

 private:
  double local_slot_wait();

  std::string host_;
  double interval_s_ = 0;
  std::mutex mu_;
  double next_free_ = 0;  ///< this process's clock: steady seconds
  std::once_flag warned_;
};

}  // namespace streamflow::ingest
