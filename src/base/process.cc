#include "base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace streamflow::base {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv, const RunOptions& opts) {
  if (argv.empty()) return make_error(Errc::internal, "run_command called with no program");
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return make_error(Errc::io_error, std::string("pipe failed: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  if (opts.working_dir) posix_spawn_file_actions_addchdir_np(&actions, opts.working_dir->c_str());

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  for (const auto& e : opts.extra_env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  // A real-time caller (serve) starts its programs under the normal policy: a tool that spins
  // or a JVM must never run ahead of every normal thread.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (is_realtime()) {
    sched_param normal{};
    posix_spawnattr_setschedpolicy(&attr, SCHED_OTHER);
    posix_spawnattr_setschedparam(&attr, &normal);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSCHEDULER);
  }
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return make_error(Errc::not_found, "cannot start '" + argv[0] + "': " + std::strerror(rc),
                      "program=" + argv[0]);
  }

  CommandOutput out;
  const auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  std::array<char, 8192> buf{};
  bool timed_out = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue;
    ssize_t n = read(pipe_fds[0], buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.output.append(buf.data(), static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return make_error(Errc::timeout,
                      "'" + argv[0] + "' did not finish within " +
                          std::to_string(opts.timeout.count() / 1000) + " s and was killed",
                      "program=" + argv[0]);
  }
  out.exit_status = decode_status(status);
  return out;
}

bool pid_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return false;
  char state = line[close_paren + 2];
  return state != 'Z' && state != 'X';
}

std::string process_command_line(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw) {
    if (c == '\0') c = ' ';
  }
  return raw;
}

namespace {
/// A "Name:   N kB" line of a /proc file, in bytes (0 when the file or line is missing).
std::uint64_t proc_kb_field(const std::string& path, std::string_view name) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) {
      std::istringstream fields(line.substr(name.size()));
      std::uint64_t kb = 0;
      fields >> kb;
      return kb * 1024;
    }
  }
  return 0;
}
}  // namespace

std::uint64_t process_rss_bytes(pid_t pid) {
  return proc_kb_field("/proc/" + std::to_string(pid) + "/status", "VmRSS:");
}

std::uint64_t process_tree_rss_bytes(pid_t pid) {
  return tree_usage(read_proc_stats(), pid).rss_bytes;
}

std::uint64_t process_pss_bytes(pid_t pid) {
  return proc_kb_field("/proc/" + std::to_string(pid) + "/smaps_rollup", "Pss:");
}

std::optional<ProcStat> parse_proc_stat(std::string_view line) {
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat st;
  std::istringstream head{std::string(line.substr(0, open))};
  if (!(head >> st.pid)) return std::nullopt;
  // Fields from 3 (state) on: ppid is 4, utime 14, stime 15, cutime 16, cstime 17, rss 24.
  std::istringstream rest{std::string(line.substr(close + 1))};
  std::vector<std::string> f;
  for (std::string tok; rest >> tok;) f.push_back(std::move(tok));
  if (f.size() < 22) return std::nullopt;
  try {
    st.ppid = static_cast<pid_t>(std::stol(f[1]));
    // With the children it has reaped: a tree's CPU must not drop when a short-lived child
    // (a PostgreSQL backend of one connection) exits between two samples.
    st.cpu_ticks =
        std::stoull(f[11]) + std::stoull(f[12]) + std::stoull(f[13]) + std::stoull(f[14]);
    st.rss_pages = std::stoull(f[21]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return st;
}

std::vector<ProcStat> read_proc_stats() {
  std::vector<ProcStat> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;  // gone meanwhile
    if (auto st = parse_proc_stat(line)) out.push_back(*st);
  }
  return out;
}

std::vector<pid_t> tree_pids(const std::vector<ProcStat>& all, pid_t root) {
  std::vector<pid_t> tree{root};
  for (std::size_t i = 0; i < tree.size(); ++i) {
    for (const auto& p : all) {
      if (p.ppid == tree[i] && p.pid != root) tree.push_back(p.pid);
    }
  }
  return tree;
}

Result<void> signal_tree(pid_t root, int sig) {
  for (pid_t p : tree_pids(read_proc_stats(), root)) {
    if (::kill(p, sig) != 0 && errno != ESRCH) {
      return make_error(Errc::io_error, "cannot send signal " + std::to_string(sig) + " to pid " +
                                            std::to_string(p) + ": " + std::strerror(errno));
    }
  }
  return {};
}

Result<void> set_niceness(int nice) {
  if (::setpriority(PRIO_PROCESS, 0, nice) != 0) {
    const bool denied = errno == EPERM || errno == EACCES;
    return make_error(denied ? Errc::failed_precondition : Errc::invalid_argument,
                      "cannot set the scheduling priority to nice " + std::to_string(nice) + ": " +
                          std::strerror(errno) +
                          (denied ? " (a priority above the one inherited needs root, "
                                    "CAP_SYS_NICE or an RLIMIT_NICE that allows it)"
                                  : ""));
  }
  return {};
}

Result<void> set_realtime(bool on) {
  sched_param param{};
  param.sched_priority = on ? 1 : 0;
  if (::sched_setscheduler(0, on ? SCHED_RR : SCHED_OTHER, &param) != 0) {
    const bool denied = errno == EPERM;
    return make_error(denied ? Errc::failed_precondition : Errc::invalid_argument,
                      std::string("cannot ") + (on ? "enter" : "leave") +
                          " the real-time scheduling policy: " + std::strerror(errno) +
                          (denied ? " (real time needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO "
                                    "of at least 1)"
                                  : ""));
  }
  return {};
}

bool is_realtime() {
  const int policy = ::sched_getscheduler(0);
  return policy == SCHED_RR || policy == SCHED_FIFO;
}

TreeUsage tree_usage(const std::vector<ProcStat>& all, pid_t root) {
  static const double ticks_per_s = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const std::uint64_t page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  TreeUsage u;
  const auto tree = tree_pids(all, root);
  for (const auto& p : all) {
    if (std::find(tree.begin(), tree.end(), p.pid) == tree.end()) continue;
    u.rss_bytes += p.rss_pages * page;
    u.cpu_seconds += static_cast<double>(p.cpu_ticks) / ticks_per_s;
    ++u.processes;
  }
  return u;
}

std::uint64_t tree_pss_bytes(const std::vector<ProcStat>& all, pid_t root) {
  std::uint64_t total = 0;
  for (pid_t p : tree_pids(all, root)) total += process_pss_bytes(p);
  return total;
}

std::optional<std::string> find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = (std::filesystem::path(dir.empty() ? "." : dir) / name).string();
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

}  // namespace streamflow::base
