#include "stack/supervisor.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
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
  auto states = parse_supervisor_status(*out);
  // A program within its first `startsecs` has a process already: `status` does not show it.
  for (auto& [name, st] : states) {
    if (st.state != ProgramState::starting) continue;
    auto pid = ctl({"pid", name}, 15);
    if (!pid) continue;
    try {
      if (const long value = std::stol(*pid); value > 0) st.pid = static_cast<pid_t>(value);
    } catch (const std::exception&) {
    }
  }
  return states;
}

namespace {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// supervisord's fault code for "already started".
constexpr const char* kAlreadyStarted = "<int>60</int>";

}  // namespace

std::string start_process_request(const std::string& program) {
  return "<?xml version=\"1.0\"?>\n<methodCall><methodName>supervisor.startProcess</methodName>"
         "<params><param><value><string>" +
         xml_escape(program) +
         "</string></value></param><param><value><boolean>0</boolean></value></param></params>"
         "</methodCall>\n";
}

std::map<std::string, RestartHistory> parse_restart_history(const std::string& log) {
  std::map<std::string, RestartHistory> out;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    // "2026-12-04 03:58:58,267 WARN exited: kafka (terminated by SIGKILL; not expected)"
    if (auto at = line.find(" exited: "); at != std::string::npos) {
      const auto rest = line.substr(at + 9);
      const auto open = rest.find(" (");
      if (open == std::string::npos) continue;
      auto& h = out[rest.substr(0, open)];
      ++h.restarts;
      auto why = rest.substr(open + 2);
      if (auto semi = why.find(';'); semi != std::string::npos) why.resize(semi);
      if (!why.empty() && why.back() == ')') why.pop_back();
      h.last = line.substr(0, std::min<std::size_t>(19, line.size())) + " " + why;
      h.gave_up = false;
    } else if (auto gave = line.find(" gave up: "); gave != std::string::npos) {
      const auto rest = line.substr(gave + 10);
      out[rest.substr(0, rest.find(' '))].gave_up = true;
    } else if (auto spawned = line.find(" spawned: '"); spawned != std::string::npos) {
      const auto rest = line.substr(spawned + 11);
      if (auto it = out.find(rest.substr(0, rest.find('\''))); it != out.end())
        it->second.gave_up = false;
    }
  }
  return out;
}

base::Result<void> Supervisor::start(const std::string& program) {
  httplib::Client client(layout_.supervisor_socket().string());
  client.set_address_family(AF_UNIX);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  auto res = client.Post("/RPC2", start_process_request(program), "text/xml");
  if (!res) {
    return make_error(Errc::unavailable, "supervisord did not answer on " +
                                             layout_.supervisor_socket().string() + ": " +
                                             httplib::to_string(res.error()));
  }
  if (res->status != 200 || (res->body.find("<fault>") != std::string::npos &&
                             res->body.find(kAlreadyStarted) == std::string::npos)) {
    return make_error(Errc::unavailable,
                      "supervisord could not start " + program + ": " + res->body.substr(0, 400),
                      "log=" + layout_.log_file(program).string());
  }
  return {};
}

std::map<std::string, RestartHistory> Supervisor::restart_history() const {
  auto text = base::read_file(layout_.logs_dir / "supervisord.log");
  if (!text) return {};
  return parse_restart_history(*text);
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
