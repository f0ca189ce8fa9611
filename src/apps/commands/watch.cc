// `streamflow watch`: follow records through the running pipeline, stage by stage.

#include <iostream>

#include "apps/command.h"
#include "config/secrets.h"
#include "observe/pipeline.h"

namespace streamflow::apps {
namespace {

struct Watch final : Command {
  double interval_s = 2.0;
  int ticks = 0;

  int run(const config::Settings& settings) override {
    auto conninfo = config::pipeline_conninfo(settings, "streamflow-watch");
    if (!conninfo) return report(conninfo.error());
    StopSignal stop;
    auto layout = deploy::Layout::load(settings);
    if (!layout) return report(layout.error());
    observe::watch_pipeline(*layout, *conninfo, interval_s, ticks, stop.flag(), std::cout);
    return 0;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("-i,--interval", interval_s, "seconds between updates")
        ->check(CLI::Range(0.2, 3600.0));
    cmd.add_option("-n,--count", ticks, "stop after this many updates (0: until Ctrl-C)")
        ->check(CLI::NonNegativeNumber);
    cmd.footer(R"(Every few seconds, one line per stage (PostgreSQL staging, the CDC topic,
the Spark job, Cassandra) with its counts and rates.)");
  }
};

[[maybe_unused]] const bool kWatchRegistered = register_command<Watch>(
    {40, "watch", "follow records through the running pipeline, stage by stage, until Ctrl-C"});

}  // namespace
}  // namespace streamflow::apps
