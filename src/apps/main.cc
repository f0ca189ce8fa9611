// streamflow: the one command of StreamFlow. Wiring only: parse arguments, load settings,
// call the module, turn its Result into output and an exit status.

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/catalog.h"
#include "stack/layout.h"
#include "stack/stack.h"

namespace sf = streamflow;

namespace {

int report(const sf::base::Error& error) {
  std::cerr << "streamflow: error: " << error.describe() << "\n";
  return sf::base::exit_code(error.code);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "StreamFlow: a real-time user-data pipeline (randomuser API -> PostgreSQL -> Debezium -> "
      "Kafka -> Spark -> Cassandra).\n"
      "Settings: defaults < streamflow.yaml < STREAMFLOW_* environment < --set name=value."};
  app.require_subcommand(0, 1);
  std::optional<std::string> config_file;
  std::vector<std::string> overrides;
  bool print_config = false;
  app.add_option("--config", config_file,
                 "YAML config file (default: $STREAMFLOW_CONFIG or ./streamflow.yaml)");
  app.add_option("--set", overrides, "override one setting, name=value (repeatable)");
  app.add_flag("--print-config", print_config,
               "print every setting with its value and origin, then exit");

  auto* up =
      app.add_subcommand("up",
                         "start the local stack (PostgreSQL, Kafka, Connect + Debezium, Cassandra) "
                         "and wait until every service is healthy");
  auto* down = app.add_subcommand("down", "stop the local stack cleanly; all data is kept");
  auto* status = app.add_subcommand("status",
                                    "show each service with pid, port, health and version "
                                    "(exit 0 when all are healthy, 3 otherwise)");
  bool json = false;
  status->add_flag("--json", json, "machine-readable output");
  auto* logs = app.add_subcommand("logs", "print the last lines of service logs");
  std::vector<std::string> log_services;
  int log_lines = 50;
  bool follow = false;
  logs->add_option("service", log_services,
                   "postgres, kafka, connect, cassandra or supervisord (default: all)");
  logs->add_option("-n,--lines", log_lines, "how many lines")->check(CLI::PositiveNumber);
  logs->add_flag("-f,--follow", follow, "keep printing new lines (tail -F)");

  CLI11_PARSE(app, argc, argv);

  std::optional<std::filesystem::path> config_path;
  if (config_file) config_path = *config_file;
  auto settings = sf::config::load_settings(config_path, overrides);
  if (!settings) return report(settings.error());
  if (print_config) {
    std::cout << settings->describe();
    return 0;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 0;
  }

  sf::stack::Stack stack(sf::stack::Layout::from_settings(*settings));
  if (up->parsed()) {
    auto r = stack.up(std::cout);
    return r ? 0 : report(r.error());
  }
  if (down->parsed()) {
    auto r = stack.down(std::cout);
    return r ? 0 : report(r.error());
  }
  if (status->parsed()) {
    auto st = stack.status();
    std::cout << (json ? sf::stack::format_status_json(st) : sf::stack::format_status_table(st));
    return st.all_healthy() ? 0 : 3;
  }
  if (logs->parsed()) {
    auto r = stack.logs(log_services, log_lines, follow, std::cout);
    return r ? 0 : report(r.error());
  }
  return 0;
}
