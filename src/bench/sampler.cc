#include "bench/sampler.h"

#include <fmt/format.h>

#include "base/process.h"

namespace streamflow::bench {

using Clock = std::chrono::steady_clock;

// Proportional set sizes are read every this many samples (seconds): reading one walks the
// process's page tables, a few milliseconds for the stack's ~100 processes, in this process
// (which is the ingest of `--stages-apart`).
constexpr int kPssEverySamples = 5;

Sampler::Sampler(const deploy::Layout& layout, std::string conninfo,
                 std::vector<std::pair<std::string, pid_t>> services, std::ostream& progress)
    : reader_(layout, std::move(conninfo)),
      services_(std::move(services)),
      progress_(progress),
      start_(Clock::now()) {
  thread_ = std::thread([this] { loop(); });
}

Sampler::~Sampler() { stop(); }

void Sampler::stop() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<Sample> Sampler::samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

void Sampler::set_phase(std::string phase) {
  std::lock_guard lock(mu_);
  phase_ = std::move(phase);
}

void Sampler::loop() {
  auto next = Clock::now();
  int n = 0;
  while (!done_) {
    Sample s;
    const auto counts = reader_.read();
    s.t = std::chrono::duration<double>(Clock::now() - start_).count();
    s.staging_users = counts.staging_users;
    s.cdc_events = counts.cdc_events;
    s.spark_upserted = counts.spark_upserted;
    s.spark_consumed = counts.spark_consumed;
    s.cassandra_users = counts.cassandra_users;
    const auto procs = base::read_proc_stats();
    const bool read_pss = n % kPssEverySamples == 0;
    for (const auto& [name, pid] : services_) {
      const auto u = base::tree_usage(procs, pid);
      if (u.processes == 0) continue;
      s.services[name] = {u.rss_bytes, u.cpu_seconds,
                          read_pss ? base::tree_pss_bytes(procs, pid) : std::uint64_t{0}};
    }
    std::string phase;
    {
      std::lock_guard lock(mu_);
      samples_.push_back(s);
      phase = phase_;
    }
    if (n++ % 2 == 0) print(s, phase);
    next += std::chrono::seconds(1);
    while (!done_ && Clock::now() < next)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Sampler::print(const Sample& s, const std::string& phase) {
  double rss = 0;
  for (const auto& [_, v] : s.services) rss += static_cast<double>(v.rss_bytes);
  std::string cpu = "?";
  {
    std::lock_guard lock(mu_);
    if (samples_.size() >= 3) {
      const auto& a = samples_[samples_.size() - 3];
      double used = 0;
      for (const auto& [name, v] : s.services) {
        auto it = a.services.find(name);
        if (it != a.services.end() && v.cpu_seconds >= it->second.cpu_seconds)
          used += v.cpu_seconds - it->second.cpu_seconds;
      }
      if (s.t > a.t) cpu = fmt::format("{:.0f}%", 100.0 * used / (s.t - a.t));
    }
  }
  progress_ << fmt::format(
                   "bench {:>6.1f} s {:<9} staging {} · cdc {} · spark {} · cassandra {} · "
                   "stack {:.1f} GB, CPU {}\n",
                   s.t, phase, observe::count(s.staging_users), observe::count(s.cdc_events),
                   observe::count(s.spark_upserted), observe::count(s.cassandra_users),
                   rss / 1073741824.0, cpu)
            << std::flush;
}

}  // namespace streamflow::bench
