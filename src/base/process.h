#pragma once
/// Running short-lived helper programs (initdb, supervisorctl, java tools) and asking the
/// kernel about processes. Long-running services are not started here: the stack module
/// hands them to supervisord.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace streamflow::base {

struct CommandOutput {
  int exit_status = -1;  ///< exit code, or 128 + signal number if killed by a signal
  std::string output;    ///< stdout and stderr interleaved
};

struct RunOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  std::optional<std::string> working_dir;
  std::vector<std::string> extra_env;  ///< "KEY=VALUE" entries added to the environment
};

/// Runs argv[0] (looked up in PATH) to completion and captures its output. An Error only when
/// the program cannot be started or overruns the timeout (it is then killed); a non-zero exit
/// status is a normal CommandOutput for the caller to judge.
Result<CommandOutput> run_command(const std::vector<std::string>& argv,
                                  const RunOptions& opts = {});

/// True when a process with this pid exists and is not a zombie.
bool pid_alive(pid_t pid);

/// The command line of a process, space-separated, or empty if it is gone or unreadable.
std::string process_command_line(pid_t pid);

/// Resident set size of one process in bytes (0 if it is gone).
std::uint64_t process_rss_bytes(pid_t pid);

/// Resident set size of a process and all its descendants in bytes (a PySpark driver and its
/// JVM, PostgreSQL and its backends). Shared pages are counted once per process.
std::uint64_t process_tree_rss_bytes(pid_t pid);
/// Proportional set size of a process (/proc/<pid>/smaps_rollup): its private pages plus its
/// share of each page it maps with others, so that a sum over processes counts every page
/// once (a sum of RSS counts PostgreSQL's shared buffers and a forked worker's pages in every
/// process that maps them). 0 when unreadable. Costs a walk of the process's page tables.
std::uint64_t process_pss_bytes(pid_t pid);

/// One process as /proc/<pid>/stat shows it.
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  /// user + system time, its own and its reaped children's, in clock ticks
  std::uint64_t cpu_ticks = 0;
  std::uint64_t rss_pages = 0;
};
/// Parses a /proc/<pid>/stat line (the command in field 2 may hold spaces and parentheses).
std::optional<ProcStat> parse_proc_stat(std::string_view line);
/// Every process on the machine, now.
std::vector<ProcStat> read_proc_stats();

struct TreeUsage {
  std::uint64_t rss_bytes = 0;
  double cpu_seconds = 0;  ///< CPU time used so far by the processes alive now
  int processes = 0;
};
/// A process and all its descendants among `all` (the process first).
std::vector<pid_t> tree_pids(const std::vector<ProcStat>& all, pid_t root);
/// A process and all its descendants among `all`, summed.
TreeUsage tree_usage(const std::vector<ProcStat>& all, pid_t root);
/// The proportional set size of a process and all its descendants among `all`.
std::uint64_t tree_pss_bytes(const std::vector<ProcStat>& all, pid_t root);
/// Sends `sig` to a process and every descendant it has now (a PySpark driver and its JVM, say).
/// A process that is already gone is not an error.
Result<void> signal_tree(pid_t root, int sig);

/// Sets the calling thread's scheduling priority (nice, -20..19); threads it creates afterwards
/// inherit it, so a process calls this before it starts any. Going below the inherited value
/// (more priority) needs root, CAP_SYS_NICE or an RLIMIT_NICE that allows it:
/// Errc::failed_precondition without.
Result<void> set_niceness(int nice);

/// Puts the calling thread under the round-robin real-time policy (SCHED_RR, priority 1) or, with
/// `on` false, back under the normal one (SCHED_OTHER, its nice kept). Threads it creates
/// afterwards inherit it; programs run_command starts never do (they start under SCHED_OTHER).
/// A real-time thread that wakes runs at once, ahead of every normal thread: under a CPU-bound
/// load a normal thread, even at nice -10, can wait 100 ms and more for a core. The kernel keeps
/// 5% of each second for the normal threads (sched_rt_runtime_us). Real time needs root,
/// CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 1: Errc::failed_precondition without. Leaving it
/// needs nothing.
Result<void> set_realtime(bool on);
/// Whether the calling thread runs under a real-time policy (SCHED_RR or SCHED_FIFO).
bool is_realtime();

/// Full path of an executable found in PATH, or nullopt.
std::optional<std::string> find_in_path(const std::string& name);

}  // namespace streamflow::base
