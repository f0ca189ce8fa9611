#pragma once
/// The bench's eyes during a run: every stage's counter (observe::PipelineReader) and every
/// service's process tree (/proc: resident memory and CPU) once a second, on a thread of its
/// own, with a progress line every other sample.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/result.h"
#include "bench/report.h"
#include "deploy/layout.h"
#include "observe/pipeline.h"

namespace streamflow::bench {

/// Owns its sampling thread from construction to stop() (or destruction). Thread-safe.
class Sampler {
 public:
  Sampler(const deploy::Layout& layout, std::string conninfo,
          std::vector<std::pair<std::string, pid_t>> services, std::ostream& progress);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void stop();
  std::vector<Sample> samples() const;
  /// The phase the progress lines name ("ingest", "catch-up", "capture", ...).
  void set_phase(std::string phase);

 private:
  void loop();
  void print(const Sample& s, const std::string& phase);

  observe::PipelineReader reader_;
  std::vector<std::pair<std::string, pid_t>> services_;
  std::ostream& progress_;
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  std::vector<Sample> samples_;
  std::string phase_ = "ingest";
  std::atomic<bool> done_{false};
  std::thread thread_;
};

/// Waits until `done` holds for a sample taken after the call (`sampler`: a Sampler, or
/// anything with its samples()). Gives that sample's index; a timeout error naming `what`; or,
/// as soon as `stop` is set (Ctrl-C / SIGTERM), a cancelled error: a catch-up can take minutes.
template <typename Samples, typename Pred>
base::Result<std::size_t> await_sample(const Samples& sampler, double timeout_s,
                                       const std::atomic<bool>& stop, const std::string& what,
                                       Pred done) {
  const std::size_t from = sampler.samples().size();
  const auto t0 = std::chrono::steady_clock::now();
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto samples = sampler.samples();
    if (auto i = first_sample(samples, from, done)) return *i;
    if (stop) {
      return base::make_error(base::Errc::cancelled,
                              "stopped while waiting for " + what + " (Ctrl-C / SIGTERM)");
    }
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s) {
      return base::make_error(base::Errc::timeout,
                              what + " did not happen within " +
                                  std::to_string(static_cast<long long>(timeout_s)) +
                                  " s: see `streamflow status` and `streamflow logs`");
    }
  }
}

}  // namespace streamflow::bench
