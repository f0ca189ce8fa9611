// `streamflow status`: every service with its pid, port, health, version and facts.

#include <iostream>

#include "apps/command.h"
#include "stack/stack.h"

namespace streamflow::apps {
namespace {

struct Status final : Command {
  bool json = false;

  int run(const config::Settings& settings) override {
    auto layout = deploy::Layout::load(settings);
    if (!layout) return report(layout.error());
    stack::Stack stack(std::move(*layout));
    const auto st = stack.status();
    std::cout << (json ? stack::format_status_json(st) : stack::format_status_table(st));
    return st.all_healthy() ? 0 : 3;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_flag("--json", json, "machine-readable output");
  }
};

[[maybe_unused]] const bool kStatusRegistered = register_command<Status>(
    {30, "status",
     "each service's pid, port, health and version (exit status 3 unless all are healthy)"});

}  // namespace
}  // namespace streamflow::apps
