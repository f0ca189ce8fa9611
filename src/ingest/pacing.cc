#include "ingest/pacing.h"

#include <algorithm>
#include <thread>

#include "base/log.h"
#include "ingest/writer.h"

namespace streamflow::ingest {

using Clock = std::chrono::steady_clock;

Slot next_slot(double next_free, double now, double interval_s) {
  const double at = std::max(next_free, now);
  return {at, at + interval_s};
}

RequestPacer::RequestPacer(std::string host, double requests_per_s)
    : host_(std::move(host)), interval_s_(requests_per_s > 0 ? 1.0 / requests_per_s : 0) {}

double RequestPacer::local_slot_wait() {
  const double now = std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  std::lock_guard lock(mu_);
  const Slot slot = next_slot(next_free_, now, interval_s_);
  next_free_ = slot.next_free;
  return slot.at - now;
}

bool RequestPacer::wait(BatchWriter* writer, const std::atomic<bool>& stop) {
  if (!limited()) return !stop;
  double wait_s = 0;
  if (writer != nullptr) {
    auto shared = writer->reserve_request(host_, interval_s_);
    if (shared) {
      wait_s = *shared;
    } else {
      std::call_once(warned_, [&] {
        base::logger("ingest")->warn(
            "host={} pacing=local reason=\"the shared request clock is unavailable: {}\"", host_,
            shared.error().message);
      });
      wait_s = local_slot_wait();
    }
  } else {
    wait_s = local_slot_wait();
  }
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(std::max(0.0, wait_s)));
  while (!stop && Clock::now() < until) {
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(100), until - Clock::now()));
  }
  return !stop;
}

}  // namespace streamflow::ingest
