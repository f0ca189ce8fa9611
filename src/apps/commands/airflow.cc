// `streamflow airflow ...`: Airflow's CLI with the stack's configuration.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "apps/command.h"
#include "stack/airflow_env.h"

namespace streamflow::apps {
namespace {

struct Airflow final : Command {
  std::vector<std::string> args;
  bool python = false;

  int run(const config::Settings& settings) override {
    auto layout = deploy::Layout::load(settings);
    if (!layout) return report(layout.error());
    auto argv = stack::airflow_command(*layout, args, python);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::fflush(nullptr);
    execvp(cargv[0], cargv.data());
    return report(base::make_error(base::Errc::failed_precondition,
                                   "cannot run " + argv[0] + ": " + std::strerror(errno)));
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_flag("--python", python,
                 "run Airflow's venv Python (a script and its arguments) instead");
    cmd.add_option("args", args, "arguments for the airflow command")->expected(0, -1);
    cmd.prefix_command();
    cmd.footer(R"(e.g.
  streamflow airflow dags list
  streamflow airflow dags unpause streamflow_ingest
  streamflow airflow dags test streamflow_reconcile)");
  }
};

[[maybe_unused]] const bool kAirflowRegistered = register_command<Airflow>(
    {130, "airflow", "run Airflow's CLI against the stack's Airflow, as the service account"});

}  // namespace
}  // namespace streamflow::apps
