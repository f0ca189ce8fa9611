// `streamflow bench`: the running pipeline measured, with this machine's baselines.

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "apps/command.h"
#include "bench/driver.h"
#include "ingest/configure.h"
#include "stack/stack.h"

namespace streamflow::apps {
namespace {

struct Bench final : Command {
  bench::Options options;
  bool no_baselines = false;
  std::string plot_script = "bench/plot.py";

  int run(const config::Settings& settings) override {
    ingest::Options ingest_options;
    if (auto r = ingest::configure(ingest_options, settings, {}); !r) return report(r.error());
    options.baselines = !no_baselines;
    options.plot_script = plot_script;
    if (!plot_script.empty() && !std::filesystem::exists(plot_script)) {
      std::cerr << "bench: no " << plot_script << " here: no chart (run from the repository)\n";
      options.plot_script.clear();
    }
    auto loaded = deploy::Layout::load(settings);
    if (!loaded) return report(loaded.error());
    const auto layout = std::move(*loaded);
    // What is running, as `streamflow status` sees it: the processes the bench samples.
    bench::ServiceLister services = [layout] {
      std::vector<bench::ServiceProcess> out;
      for (const auto& s : stack::Stack(layout).status().services)
        out.push_back({s.name, s.state, s.pid});
      return out;
    };
    StopSignal stop;
    auto doc = bench::run(layout, ingest_options, options, services, stop.flag(), std::cerr);
    if (!doc) return report(doc.error());
    std::cout << fmt::format(
                     "{{\"users\":{},\"users_per_s\":{},\"freshness_p99_s\":{},"
                     "\"peak_stack_rss_mb\":{},\"peak_stack_pss_mb\":{}}}",
                     (*doc)["users"].dump(), (*doc)["users_per_s"].dump(),
                     (*doc)["freshness_p99_s"].dump(), (*doc)["peak_stack_rss_mb"].dump(),
                     (*doc)["peak_stack_pss_mb"].dump())
              << std::endl;
    return 0;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("--seconds", options.seconds, "how long ingest runs")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd.add_option("--rate", options.rate, "users/s to ingest (0: flat out)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    cmd.add_option("--name", options.name, "result file name, without extension")
        ->capture_default_str();
    cmd.add_option("--out-dir", options.out_dir, "where the JSON and the PNG go")
        ->capture_default_str();
    cmd.add_option("--baseline-rows", options.baseline_rows, "rows each baseline writes")
        ->check(CLI::Range(1000LL, 1000000LL))
        ->capture_default_str();
    cmd.add_flag("--no-baselines", no_baselines, "skip the baselines");
    cmd.add_flag(
        "--stages-apart", options.stages_apart,
        "measure the two halves one after the other: ingest -> PostgreSQL -> Debezium -> Kafka "
        "with the Spark job paused, then Spark -> Cassandra draining the topic alone; reports "
        "each half's CPU per user by service and the highest sustained rate they leave room for "
        "on this machine (no baselines, no chart)");
    cmd.add_option("--target-rate", options.target_rate,
                   "users/s the --stages-apart figures are set against")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd.add_option("--plot", plot_script, "chart script (JSON in, PNG out; empty: no chart)")
        ->capture_default_str();
    cmd.footer(R"(Ingests at --rate users/s (or flat out) for --seconds, waits until
Cassandra has every user, then reports per-stage throughput (ingest -> PostgreSQL, CDC ->
Kafka, Spark -> Cassandra), end-to-end freshness (p50/p95/p99/max), memory and CPU of every
service, and this machine's baselines (PostgreSQL COPY, Kafka produce, raw Cassandra writes)
with each stage as a fraction of its baseline. Writes <out-dir>/<name>.json and <name>.png
(bench/plot.py); a progress line every 2 s on stderr. Run it on a stack of its own:
`make bench` does.)");
  }
};

[[maybe_unused]] const bool kBenchRegistered = register_command<Bench>(
    {140, "bench", "measure the running pipeline against this machine's baselines"});

}  // namespace
}  // namespace streamflow::apps
