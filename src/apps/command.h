#pragma once
/// A subcommand of `streamflow`. Each lives in commands/<name>.cc and registers itself with its
/// name and one-line summary; it declares its options on its subcommand and, once parsed, runs
/// with the loaded settings. Wiring only: the work is in the module the command calls.

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/settings.h"

namespace streamflow::apps {

/// How a command is listed: `order` places it in `--help`, `summary` is its line there.
struct CommandInfo {
  int order = 0;
  std::string name;
  std::string summary;
};

class Command {
 public:
  virtual ~Command() = default;
  /// Declares the command's options on its subcommand, and any explanation longer than its
  /// summary (as the subcommand's footer).
  virtual void add_options(CLI::App& cmd) { (void)cmd; }
  /// Runs the parsed command with the effective settings; the process's exit status.
  virtual int run(const config::Settings& settings) = 0;
};

using CommandFactory = std::function<std::unique_ptr<Command>()>;

/// Registers a command, made when the command line is built. Each command file calls it from
/// a namespace-scope initialiser.
bool register_command(CommandInfo info, CommandFactory make);
template <class C>
bool register_command(CommandInfo info) {
  return register_command(std::move(info), [] { return std::make_unique<C>(); });
}

/// A command with its subcommand, once added to the command line.
struct AddedCommand {
  CLI::App* subcommand = nullptr;
  std::unique_ptr<Command> command;
};
/// Makes every registered command and adds it, with its options, to `app`, in `order`.
std::vector<AddedCommand> add_commands(CLI::App& app);

/// Prints "streamflow: error: ..." on stderr; returns the error's exit status.
int report(const base::Error& error);

/// SIGINT/SIGTERM become a flag: blocked in every thread, awaited by one thread of their own.
/// Make it before starting any other thread. The waiting thread is detached and may outlive
/// this object (a command that fails fast returns before it even calls sigwait), so it owns
/// copies of everything it touches.
class StopSignal {
 public:
  StopSignal();
  const std::atomic<bool>& flag() const { return *stop_; }
  /// Blocks until a signal came.
  void wait() const;

 private:
  std::shared_ptr<std::atomic<bool>> stop_;
};

}  // namespace streamflow::apps
