#include "bench/stages_apart.h"

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "base/process.h"
#include "bench/detail/run.h"
#include "bench/report.h"
#include "bench/sampler.h"
#include "observe/pipeline.h"

namespace streamflow::bench {

using base::Errc;
using base::make_error;

namespace {

/// The Spark job held still (SIGSTOP to its process tree) while it lives; resumed (SIGCONT) by
/// resume() or, on any way out, by the destructor, so that a failed run never leaves it frozen.
class PausedJob {
 public:
  explicit PausedJob(pid_t pid) : pid_(pid) {}
  ~PausedJob() { (void)resume(); }
  PausedJob(const PausedJob&) = delete;
  PausedJob& operator=(const PausedJob&) = delete;
  base::Result<void> pause() {
    paused_ = true;
    return base::signal_tree(pid_, SIGSTOP);
  }
  base::Result<void> resume() {
    if (!paused_) return {};
    paused_ = false;
    return base::signal_tree(pid_, SIGCONT);
  }

 private:
  pid_t pid_;
  bool paused_ = false;
};

}  // namespace

base::Result<nlohmann::json> run_stages_apart(const deploy::Layout& layout,
                                              ingest::Options ingest_opt, const Options& opt,
                                              const ServiceLister& lister,
                                              const std::atomic<bool>& stop,
                                              std::ostream& progress) {
  auto services = detail::healthy_services(lister);
  if (!services) return services.error();
  std::optional<pid_t> spark;
  for (const auto& [name, pid] : *services) {
    if (name == "spark") spark = pid;
  }
  if (!spark) {
    return make_error(Errc::failed_precondition,
                      "--stages-apart needs the Spark job running (spark.enabled)");
  }
  // Ingest runs in this process: its CPU is the capture half's too.
  services->emplace_back("ingest", getpid());

  progress << fmt::format(
      "bench: stages apart: capture ({} for {:.0f} s, the Spark job paused), then the Spark job "
      "drains the topic alone\n",
      opt.rate > 0 ? fmt::format("{} users/s", observe::thousands(std::llround(opt.rate)))
                   : std::string("flat out"),
      opt.seconds);
  Sampler sampler(layout, ingest_opt.pg_conninfo, *services, progress);
  auto answered = [](const Sample& s) {
    return s.staging_users && s.cdc_events && s.cassandra_users;
  };
  auto first = await_sample(sampler, 60, stop, "a first answer from every stage", answered);
  if (!first) return first.error();
  const std::int64_t cdc0 = *sampler.samples()[*first].cdc_events;

  PausedJob job(*spark);
  if (auto r = job.pause(); !r) return r.error();
  sampler.set_phase("capture");
  // From the first sample after the pause, so that none of the job's CPU falls in the capture.
  auto paused = await_sample(sampler, 60, stop, "a sample after the pause", answered);
  if (!paused) return paused.error();
  const std::size_t capture_begin = *paused;

  const auto outcome = detail::ingest_for(ingest_opt, opt, stop);
  if (outcome.error)
    return make_error(outcome.error->code, "ingest failed: " + outcome.error->message);
  const std::int64_t users = outcome.summary.inserted;

  auto captured =
      await_sample(sampler, opt.catchup_timeout_s, stop, "every change on the CDC topic",
                   [&](const Sample& s) { return s.cdc_events && *s.cdc_events >= cdc0 + users; });
  if (!captured) return captured.error();

  sampler.set_phase("process");
  const std::size_t process_begin = sampler.samples().size() - 1;
  if (auto r = job.resume(); !r) return r.error();
  auto processed =
      await_sample(sampler, opt.catchup_timeout_s, stop, "Cassandra holding every user", caught_up);
  if (!processed) return processed.error();
  sampler.stop();
  const auto samples = sampler.samples();

  auto half = [&](std::size_t from, std::size_t to) {
    HalfRun h;
    h.users = users;
    h.seconds = samples[to].t - samples[from].t;
    h.cpu_s = cpu_between(samples[from], samples[to]);
    return h;
  };
  auto doc = stages_apart_json(half(capture_begin, *captured), half(process_begin, *processed),
                               std::thread::hardware_concurrency(), opt.target_rate);
  doc["users"] = users;
  doc["machine"] = machine_description();
  doc["date"] = detail::utc_now();
  if (auto r = detail::write_result(opt, doc, progress); !r) return r.error();
  return doc;
}

}  // namespace streamflow::bench
