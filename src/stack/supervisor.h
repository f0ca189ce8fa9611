#pragma once
/// Drives supervisord (Debian's `supervisor` package), the process manager that keeps the
/// services of the local stack: it runs each one in the foreground under the service account,
/// captures its output into one log file, and stops it with its stop signal, a bounded wait
/// and SIGKILL to the whole process group, and starts it again when it exits (with backoff).
/// We talk to it through `supervisorctl`, and its XML-RPC socket where that would block.
/// Not thread-safe; one instance per command.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "deploy/layout.h"

namespace streamflow::stack {

using deploy::Layout;

enum class ProgramState { stopped, starting, running, backoff, stopping, exited, fatal, unknown };
std::string_view to_string(ProgramState state);

struct ProgramStatus {
  ProgramState state = ProgramState::unknown;
  std::optional<pid_t> pid;
  std::string detail;  ///< supervisord's description ("pid 12, uptime 0:01:02", "Not started")
};

/// Parses `supervisorctl status` output. Exposed for unit tests.
std::map<std::string, ProgramStatus> parse_supervisor_status(const std::string& output);

/// How often supervisord restarted a program, from its log: every exit it did not ask for.
struct RestartHistory {
  int restarts = 0;
  std::string last;      ///< "2026-12-04 03:58:58 terminated by SIGKILL"
  bool gave_up = false;  ///< the last word: too many quick exits in a row (FATAL)
};

/// Reads supervisord's log lines ("exited: kafka (terminated by SIGKILL; not expected)",
/// "gave up: kafka entered FATAL state, ...", "spawned: 'kafka' with pid 1"). Pure.
std::map<std::string, RestartHistory> parse_restart_history(const std::string& log);

/// The XML-RPC call supervisor.startProcess(program, wait=false). Pure.
std::string start_process_request(const std::string& program);

class Supervisor {
 public:
  explicit Supervisor(Layout layout) : layout_(std::move(layout)) {}

  /// The supervisord pid when it is running for this state directory.
  std::optional<pid_t> daemon_pid() const;

  /// Starts supervisord with the current config file and waits until it answers.
  base::Result<void> start_daemon();

  /// Re-reads the config file and applies it to these (stopped) programs.
  base::Result<void> reload(const std::vector<std::string>& programs);

  /// Status of every program; empty when supervisord is not running.
  std::map<std::string, ProgramStatus> status() const;

  /// Starts a program without waiting for its `startsecs` (supervisorctl would): the caller
  /// probes it. Already running is not an error.
  base::Result<void> start(const std::string& program);
  /// parse_restart_history of this stack's supervisord log.
  std::map<std::string, RestartHistory> restart_history() const;
  /// Stops one program: stop signal, wait up to its stopwaitsecs, then SIGKILL.
  base::Result<void> stop(const std::string& program);
  /// Stops supervisord itself (after the programs) and waits for it to exit.
  base::Result<void> shutdown();

 private:
  base::Result<std::string> ctl(const std::vector<std::string>& args, int timeout_s = 30) const;
  Layout layout_;
};

}  // namespace streamflow::stack
