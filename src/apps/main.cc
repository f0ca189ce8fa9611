// streamflow: the one command of StreamFlow. Wiring only: build the command line from the
// registered commands (commands/), load the settings, run the command that was asked for.

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "apps/command.h"
#include "config/catalog.h"

namespace sf = streamflow;

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
  std::optional<std::string> topology;
  app.add_option("--topology", topology,
                 "topology file: which nodes of which engine run where (the `topology` setting; "
                 "deploy/cluster-local.yaml is a cluster on this machine)");
  // `streamflow up --topology FILE` as well as `streamflow --topology FILE up`.
  app.fallthrough();
  app.add_flag("--print-config", print_config,
               "print every setting with its value and origin, then exit");

  const auto commands = sf::apps::add_commands(app);

  CLI11_PARSE(app, argc, argv);

  if (topology) overrides.push_back("topology=" + *topology);
  std::optional<std::filesystem::path> config_path;
  if (config_file) config_path = *config_file;
  auto settings = sf::config::load_settings(config_path, overrides);
  if (!settings) return sf::apps::report(settings.error());
  if (print_config) {
    std::cout << settings->describe();
    return 0;
  }
  for (const auto& [subcommand, command] : commands) {
    if (subcommand->parsed()) return command->run(*settings);
  }
  std::cout << app.help();
  return 0;
}
