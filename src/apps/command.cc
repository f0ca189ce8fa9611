#include "apps/command.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>
#include <utility>

namespace streamflow::apps {

namespace {

struct Registration {
  CommandInfo info;
  CommandFactory make;
};

std::vector<Registration>& registry() {
  static std::vector<Registration> commands;
  return commands;
}

}  // namespace

bool register_command(CommandInfo info, CommandFactory make) {
  registry().push_back({std::move(info), std::move(make)});
  return true;
}

std::vector<AddedCommand> add_commands(CLI::App& app) {
  auto entries = registry();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.info.order < b.info.order; });
  std::vector<AddedCommand> out;
  for (auto& entry : entries) {
    AddedCommand added{app.add_subcommand(entry.info.name, entry.info.summary), entry.make()};
    added.command->add_options(*added.subcommand);
    out.push_back(std::move(added));
  }
  return out;
}

int report(const base::Error& error) {
  std::cerr << "streamflow: error: " << error.describe() << "\n";
  return base::exit_code(error.code);
}

StopSignal::StopSignal() : stop_(std::make_shared<std::atomic<bool>>(false)) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, stop = stop_] {
    int sig = 0;
    sigwait(&set, &sig);
    *stop = true;
  }).detach();
}

void StopSignal::wait() const {
  while (!*stop_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace streamflow::apps
