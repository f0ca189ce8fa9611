#include "stack/supervisor.h"

#include <chrono>
#include <sstream>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "base/process.h"

namespace streamflow::stack {

using base::Errc;
using base::make_error;

std::string_view to_string(ProgramState state) {
  switch (state) {
    case ProgramState::stopped:
      return "stopped";
    case ProgramState::starting:
      return "starting";
    case ProgramState::running:
      return "running";
    case ProgramState::backoff:
      return "backoff";
    case ProgramState::stopping:
      return "stopping";
    case ProgramState::exited:
      return "exited";
    case ProgramState::fatal:
      return "fatal";
    case ProgramState::unknown:
      return "unknown";
  }
  return "unknown";
}

std::map<std::string, ProgramStatus> parse_supervisor_status(const std::string& output) {
  static const std::map<std::string, ProgramState> kStates = {
      {"STOPPED", ProgramState::stopped},   {"STARTING", ProgramState::starting},
      {"RUNNING", ProgramState::running},   {"BACKOFF", ProgramState::backoff},
      {"STOPPING", ProgramState::stopping}, {"EXITED", ProgramState::exited},
      {"FATAL", ProgramState::fatal},       {"UNKNOWN", ProgramState::unknown}};
  std::map<std::string, ProgramStatus> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name, state;
    if (!(fields >> name >> state)) continue;
    auto it = kStates.find(state);
    if (it == kStates.end()) continue;
    ProgramStatus st;
    st.state = it->second;
    std::getline(fields >> std::ws, st.detail);
    if (st.state == ProgramState::running && st.detail.rfind("pid ", 0) == 0) {
      st.pid = static_cast<pid_t>(std::stol(st.detail.substr(4)));
    }
    out[name] = st;
  }
  return out;
}

base::Result<std::string> Supervisor::ctl(const std::vector<std::string>& args,
                                          int timeout_s) const {
  std::vector<std::string> argv = {"supervisorctl", "-c", layout_.supervisor_conf().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  base::RunOptions opts;
  opts.timeout = std::chrono::seconds(timeout_s);
  auto out = base::run_command(argv, opts);
  if (!out) return out.error();
  base::logger("stack")->debug("supervisorctl {} -> exit={} output={}", args.empty() ? "" : args[0],
                               out->exit_status, out->output);
  return out->output;
}

std::optional<pid_t> Supervisor::daemon_pid() const {
  auto text = base::read_file(layout_.supervisor_pidfile());
  if (!text) return std::nullopt;
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(*text));
  } catch (...) {
    return std::nullopt;
  }
  if (!base::pid_alive(pid)) return std::nullopt;
  // Guard against a recycled pid: it must be supervisord with our config.
  if (base::process_command_line(pid).find(layout_.supervisor_conf().string()) ==
      std::string::npos) {
    return std::nullopt;
  }
  return pid;
}

base::Result<void> Supervisor::start_daemon() {
  if (!base::find_in_path("supervisord")) {
    return make_error(Errc::failed_precondition,
                      "supervisord is not installed; run `make setup` (it installs Debian's "
                      "`supervisor` package)");
  }
  auto out = base::run_command({"supervisord", "-c", layout_.supervisor_conf().string()});
  if (!out) return out.error();
  if (out->exit_status != 0) {
    return make_error(Errc::unavailable, "supervisord did not start: " + out->output,
                      "log=" + (layout_.logs_dir / "supervisord.log").string());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (daemon_pid() && !status().empty()) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return make_error(
      Errc::timeout,
      "supervisord started but does not answer on " + layout_.supervisor_socket().string(),
      "log=" + (layout_.logs_dir / "supervisord.log").string());
}

base::Result<void> Supervisor::reload(const std::vector<std::string>& programs) {
  auto reread = ctl({"reread"});
  if (!reread) return reread.error();
  std::vector<std::string> args = {"update"};
  args.insert(args.end(), programs.begin(), programs.end());
  auto update = ctl(args);
  if (!update) return update.error();
  return {};
}

std::map<std::string, ProgramStatus> Supervisor::status() const {
  if (!daemon_pid()) return {};
  auto out = ctl({"status"}, 15);
  if (!out) return {};
  return parse_supervisor_status(*out);
}

base::Result<void> Supervisor::start(const std::string& program) {
  auto out = ctl({"start", program});
  if (!out) return out.error();
  if (out->find("ERROR") != std::string::npos &&
      out->find("already started") == std::string::npos) {
    return make_error(Errc::unavailable, "supervisord could not start " + program + ": " + *out,
                      "log=" + layout_.log_file(program).string());
  }
  return {};
}

base::Result<void> Supervisor::stop(const std::string& program) {
  auto out = ctl({"stop", program}, layout_.stop_timeout_s + 30);
  if (!out) return out.error();
  if (out->find("ERROR") != std::string::npos && out->find("not running") == std::string::npos) {
    return make_error(Errc::unavailable, "supervisord could not stop " + program + ": " + *out);
  }
  return {};
}

base::Result<void> Supervisor::shutdown() {
  auto pid = daemon_pid();
  if (!pid) return {};
  auto out = ctl({"shutdown"}, layout_.stop_timeout_s + 30);
  if (!out) return out.error();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(layout_.stop_timeout_s + 30);
  while (base::pid_alive(*pid)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(Errc::timeout,
                        "supervisord (pid " + std::to_string(*pid) + ") did not exit");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

}  // namespace streamflow::stack
