// `streamflow logs`: the last lines of the services' logs, or follow them.

#include <iostream>

#include "apps/command.h"
#include "stack/stack.h"

namespace streamflow::apps {
namespace {

struct Logs final : Command {
  std::vector<std::string> services;
  int lines = 50;
  bool follow = false;

  int run(const config::Settings& settings) override {
    auto layout = deploy::Layout::load(settings);
    if (!layout) return report(layout.error());
    stack::Stack stack(std::move(*layout));
    auto r = stack.logs(services, lines, follow, std::cout);
    return r ? 0 : report(r.error());
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("service", services,
                   "postgres, kafka, cassandra, connect, mock-api, spark, serve, airflow-api, "
                   "airflow-scheduler, airflow-dags, airflow-triggerer or supervisord (default: "
                   "all)");
    cmd.add_option("-n,--lines", lines, "how many lines")->check(CLI::PositiveNumber);
    cmd.add_flag("-f,--follow", follow, "keep printing new lines (tail -F)");
  }
};

[[maybe_unused]] const bool kLogsRegistered =
    register_command<Logs>({50, "logs", "print the last lines of service logs, or follow them"});

}  // namespace
}  // namespace streamflow::apps
