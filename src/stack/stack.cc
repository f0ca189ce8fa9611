#include "stack/stack.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "base/net.h"
#include "base/process.h"
#include "config/secrets.h"
#include "cql/cql.h"
#include "cql/migrations.h"
#include "io/migrations.h"
#include "io/pg.h"
#include "stack/services.h"
#include "stack/supervisor.h"

namespace streamflow::stack {

namespace fs = std::filesystem;
using base::Errc;
using base::make_error;
using base::Result;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += prefix + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string ports_text(const Service& svc) {
  std::string out;
  for (const auto& p : svc.ports())
    out += (out.empty() ? "" : " ") + p.name + "=" + std::to_string(p.port);
  return out;
}

}  // namespace

bool StackStatus::all_healthy() const {
  for (const auto& s : services) {
    if (s.state != "healthy") return false;
  }
  return !services.empty();
}

Result<void> Stack::check_machine(std::ostream& out) const {
  if (!base::find_in_path("supervisord") || !base::find_in_path("supervisorctl")) {
    return make_error(
        Errc::failed_precondition,
        "supervisord is not installed; run `make setup` (installs Debian's `supervisor`)");
  }
  if (layout_.java_options.find_first_of("\"'") != std::string::npos) {
    return make_error(Errc::invalid_argument,
                      "java_options holds a quote character, which supervisord's environment "
                      "syntax cannot carry: give the JVM options without quotes");
  }
  auto services = make_services(layout_);
  for (const auto& svc : services) {
    if (auto r = svc->check_installed(); !r) return r;
  }
  if (layout_.service_user) {
    auto account = base::find_account(*layout_.service_user);
    if (!account) {
      out << "  creating unprivileged account '" << *layout_.service_user << "' for the services\n";
      auto made = base::run_command({"useradd", "--system", "--no-create-home", "--home-dir",
                                     "/nonexistent", "--shell", "/usr/sbin/nologin",
                                     *layout_.service_user});
      if (!made || made->exit_status != 0) {
        return make_error(Errc::failed_precondition,
                          "cannot create the service account '" + *layout_.service_user +
                              "': " + (made ? made->output : made.error().message));
      }
      account = base::find_account(*layout_.service_user);
    }
    for (const auto& dir : {layout_.state_dir, layout_.deps_dir, layout_.self_exe.parent_path()}) {
      if (!base::account_can_traverse(*account, dir)) {
        return make_error(
            Errc::failed_precondition,
            "the service account '" + account->name + "' cannot reach " + dir.string() +
                " (a parent directory is not searchable by others). Move the checkout, "
                "or set STREAMFLOW_STATE_DIR / STREAMFLOW_DEPS_DIR to a reachable path");
      }
    }
  }
  return {};
}

Result<void> Stack::up(std::ostream& out) {
  const auto t0 = Clock::now();
  out << "StreamFlow stack: state in " << layout_.state_dir.string() << "\n";
  if (auto r = check_machine(out); !r) return r;
  for (const auto& dir : {layout_.state_dir, layout_.conf_dir, layout_.logs_dir, layout_.run_dir}) {
    if (auto r = base::ensure_owned_dir(dir, std::nullopt, fs::perms(0755)); !r) return r;
  }

  auto services = make_services(layout_);
  Supervisor sup(layout_);
  auto before = sup.status();
  const bool daemon_running = sup.daemon_pid().has_value();

  // Which services need starting, and are their ports free? Nothing starts if one is taken.
  std::vector<Service*> to_start;
  std::map<std::pair<std::string, int>, std::string> port_owner;
  for (const auto& svc : services) {
    for (const auto& p : svc->ports()) {
      auto [it, fresh] = port_owner.emplace(std::pair{p.host, p.port}, svc->name() + " " + p.name);
      if (!fresh) {
        return make_error(Errc::invalid_argument,
                          fmt::format("port {} on {} is configured twice: for {} and for {} {}",
                                      p.port, p.host, it->second, svc->name(), p.name));
      }
    }
    auto st = before.find(svc->name());
    // Running, or being started again by supervisord after it exited: not ours to start.
    if (st != before.end() &&
        (st->second.state == ProgramState::running || st->second.state == ProgramState::starting ||
         st->second.state == ProgramState::backoff)) {
      continue;
    }
    to_start.push_back(svc.get());
  }
  for (Service* svc : to_start) {
    for (const auto& p : svc->ports()) {
      if (auto holder = base::find_port_holder(p.port, p.host)) {
        return make_error(
            Errc::conflict,
            fmt::format("port {} on {} ({} {}) is already in use by {}. Stop that process, or "
                        "give StreamFlow another port (see `streamflow --print-config`); "
                        "nothing was started",
                        p.port, p.host, svc->name(), p.name, holder->describe()),
            fmt::format("port={}", p.port));
      }
    }
  }
  if (to_start.empty()) out << "  all services already running; checking health\n";

  for (Service* svc : to_start) {
    if (auto r = svc->prepare(out); !r) return r;
  }
  std::vector<ProgramSpec> programs;
  for (const auto& svc : services) programs.push_back(svc->program());
  if (auto r =
          // 0600: a program's environment may carry a secret set through STREAMFLOW_*.
      base::write_file(layout_.supervisor_conf(), render_supervisord_conf(layout_, programs),
                       std::filesystem::perms(0600));
      !r) {
    return r;
  }

  std::vector<std::string> to_start_names;
  for (Service* svc : to_start) to_start_names.push_back(svc->name());
  if (!daemon_running) {
    if (auto r = sup.start_daemon(); !r) return r;
  } else if (!to_start_names.empty()) {
    if (auto r = sup.reload(to_start_names); !r) return r;
  }

  // Roll back what this call started, newest first, and report why.
  std::vector<Service*> started;
  auto fail = [&](Service& svc, const std::string& why) -> Result<void> {
    const auto log = layout_.log_file(svc.name());
    out << "✗ " << svc.name() << ": " << why << "\n";
    out << "  last lines of " << log.string() << ":\n"
        << indent(base::tail_lines(log, 30), "    | ");
    for (auto it = started.rbegin(); it != started.rend(); ++it) {
      out << "  stopping " << (*it)->name() << " (rolling back)\n";
      (void)sup.stop((*it)->name());
    }
    if (!daemon_running) (void)sup.shutdown();
    return make_error(Errc::unavailable, svc.name() + " " + why,
                      "service=" + svc.name() + " log=" + log.string());
  };

  int max_wave = 0;
  for (const auto& svc : services) max_wave = std::max(max_wave, svc->wave());
  for (int wave = 0; wave <= max_wave; ++wave) {
    std::vector<Service*> members;
    for (const auto& svc : services) {
      if (svc->wave() == wave) members.push_back(svc.get());
    }
    const auto wave_t0 = Clock::now();
    // Which of this wave's services wait for another one to be healthy before they start.
    std::set<Service*> waiting;
    for (Service* svc : members) {
      if (svc->start_after().empty()) continue;
      for (Service* other : members) {
        if (other->name() == svc->start_after()) waiting.insert(svc);
      }
    }
    auto start = [&](Service* svc) -> Result<void> {
      if (std::find(to_start.begin(), to_start.end(), svc) == to_start.end()) return {};
      out << "  " << fmt::format("{:<17}", svc->name()) << " starting (" << ports_text(*svc)
          << ")\n";
      out.flush();
      if (auto r = svc->before_start(out); !r)
        return fail(*svc, "could not be prepared: " + r.error().message);
      if (auto r = sup.start(svc->name()); !r)
        return fail(*svc, "could not be started: " + r.error().message);
      started.push_back(svc);
      return {};
    };
    for (Service* svc : members) {
      if (waiting.count(svc)) continue;
      if (auto r = start(svc); !r) return r;
    }
    std::set<Service*> pending(members.begin(), members.end());
    // Each service gets stack.start_timeout_s from its start: one started after another
    // moves the wave's deadline.
    auto deadline = wave_t0 + std::chrono::seconds(layout_.start_timeout_s);
    auto last_progress = Clock::now();
    while (!pending.empty()) {
      auto states = sup.status();
      for (auto it = pending.begin(); it != pending.end();) {
        Service* svc = *it;
        if (waiting.count(svc)) {
          ++it;
          continue;
        }
        auto st = states.find(svc->name());
        // BACKOFF: it exited at once and supervisord tries again shortly (a PostgreSQL whose
        // killed predecessor's backends still hold its shared memory, say).
        if (st == states.end() || (st->second.state != ProgramState::running &&
                                   st->second.state != ProgramState::starting &&
                                   st->second.state != ProgramState::backoff)) {
          return fail(*svc,
                      "died during start-up" +
                          (st == states.end() ? std::string() : " (" + st->second.detail + ")"));
        }
        auto probe = svc->probe();
        if (!probe.healthy) {
          ++it;
          continue;
        }
        if (auto r = svc->after_ready(out); !r)
          return fail(*svc, "is up but its set-up failed: " + r.error().message);
        out << "✓ " << fmt::format("{:<17}", svc->name()) << " healthy in "
            << fmt::format("{:.1f}", seconds_since(wave_t0)) << " s (" << probe.detail << ")\n";
        out.flush();
        it = pending.erase(it);
        for (Service* next : members) {
          if (!waiting.count(next) || next->start_after() != svc->name()) continue;
          waiting.erase(next);
          if (auto r = start(next); !r) return r;
          deadline =
              std::max(deadline, Clock::now() + std::chrono::seconds(layout_.start_timeout_s));
          states = sup.status();
        }
      }
      if (pending.empty()) break;
      if (Clock::now() > deadline) {
        // The one that did not become healthy, not one still waiting for it.
        Service* svc = *pending.begin();
        for (Service* candidate : pending) {
          if (!waiting.count(candidate)) {
            svc = candidate;
            break;
          }
        }
        return fail(*svc, fmt::format("is not healthy after {} s: {}", layout_.start_timeout_s,
                                      svc->probe().detail));
      }
      if (Clock::now() - last_progress > std::chrono::seconds(10)) {
        std::string names;
        for (Service* svc : pending) names += " " + svc->name();
        out << "  … waiting for" << names << fmt::format(" ({:.0f} s)", seconds_since(wave_t0))
            << "\n";
        out.flush();
        last_progress = Clock::now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

  out << fmt::format("Stack up in {:.1f} s.\n", seconds_since(t0));
  out << format_status_table(status());
  out << fmt::format(
      "PostgreSQL: postgresql://{}@127.0.0.1:{}/{} (password: STREAMFLOW_POSTGRES_PASSWORD or {})\n"
      "Kafka: {}   Connect: http://{}:{}/   Cassandra CQL: {}\n"
      "Logs: streamflow logs [service]   Stop: streamflow down\n",
      layout_.postgres_user, layout_.ports.postgres, layout_.postgres_database,
      layout_.postgres_password_from_env() ? std::string("(from the environment)")
                                           : layout_.postgres_password_file().string(),
      layout_.kafka_bootstrap(), layout_.topology.connect.front().host, layout_.ports.connect,
      layout_.cassandra_contact_point());
  if (layout_.airflow.enabled) {
    out << "Airflow UI: " << layout_.airflow_url() << "/ (user " << layout_.airflow.admin_user
        << ", password in " << layout_.airflow_passwords_file().string() << ")\n";
  }
  if (layout_.serve_enabled) {
    out << "Dashboard: " << layout_.serve_url() << "   API: " << layout_.serve_url()
        << "api/v1/openapi.json   Metrics: " << layout_.serve_url() << "metrics\n";
  }
  return {};
}

Result<void> Stack::down(std::ostream& out) {
  Supervisor sup(layout_);
  if (!sup.daemon_pid()) {
    out << "StreamFlow stack is not running (state in " << layout_.state_dir.string()
        << "); nothing to stop.\n";
    return {};
  }
  auto services = make_services(layout_);
  auto states = sup.status();
  // Reverse start order: the readers and writers first (Airflow, serve, the job, Connect), the
  // stores and brokers after them, PostgreSQL last. The
  // nodes of one engine stop together: the last Kafka node of a quorum stopped one by one has no
  // controller left to grant its controlled shutdown and would wait out its stop timeout.
  std::vector<std::vector<std::string>> groups;
  std::string last_engine;
  for (auto it = services.rbegin(); it != services.rend(); ++it) {
    const auto& name = (*it)->name();
    auto st = states.find(name);
    if (st == states.end() ||
        (st->second.state != ProgramState::running && st->second.state != ProgramState::starting &&
         st->second.state != ProgramState::backoff)) {
      continue;
    }
    const auto engine = deploy::engine_of(name);
    if (groups.empty() || engine != last_engine) groups.emplace_back();
    groups.back().push_back(name);
    last_engine = engine;
  }
  for (const auto& group : groups) {
    const auto t0 = Clock::now();
    for (const auto& name : group) {
      const auto& st = states.at(name);
      out << "  " << fmt::format("{:<17}", name) << " stopping (pid " << (st.pid ? *st.pid : 0)
          << ")\n";
    }
    out.flush();
    std::vector<std::future<Result<void>>> stops;
    for (const auto& name : group) {
      stops.push_back(std::async(std::launch::async, [&sup, name] { return sup.stop(name); }));
    }
    std::string errors;
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (auto r = stops[i].get(); !r) {
        out << "✗ " << fmt::format("{:<17}", group[i]) << " " << r.error().message << "\n";
        errors += (errors.empty() ? "" : "; ") + r.error().message;
      } else {
        out << "✓ " << fmt::format("{:<17}", group[i])
            << fmt::format(" stopped in {:.1f} s\n", seconds_since(t0));
      }
    }
    if (!errors.empty()) return make_error(Errc::unavailable, errors);
  }
  if (auto r = sup.shutdown(); !r) return r;
  out << "StreamFlow stack stopped; data kept in " << layout_.state_dir.string() << ".\n";
  return {};
}

namespace {

/// One service's line of `status`: supervisord's word on its process, then (running) its probe,
/// version and facts, asked of the service itself.
ServiceStatus service_status(const Layout& layout, const Service& svc,
                             const std::map<std::string, ProgramStatus>& states,
                             const std::map<std::string, RestartHistory>& history,
                             bool supervisor_running) {
  ServiceStatus s;
  s.name = svc.name();
  s.port = svc.ports().empty() ? 0 : svc.ports().front().port;
  s.host = svc.ports().empty() ? "" : svc.ports().front().host;
  s.ports = ports_text(svc);
  s.log_file = layout.log_file(s.name).string();
  auto st = states.find(s.name);
  std::optional<RestartHistory> restarts;
  if (auto h = history.find(s.name); h != history.end() && h->second.restarts > 0) {
    restarts = h->second;
    s.restarts = h->second.restarts;
  }
  // STARTING: supervisord's first `startsecs` of a process; the probe says how it is.
  if (st != states.end() &&
      (st->second.state == ProgramState::running || st->second.state == ProgramState::starting)) {
    s.pid = st->second.pid;
    if (s.pid) s.rss_bytes = base::process_tree_rss_bytes(*s.pid);
    auto probe = svc.probe();
    s.state = probe.healthy ? "healthy" : "starting";
    s.detail = probe.detail;
    if (probe.healthy) {
      s.version = svc.version();
      s.facts = svc.facts();
    }
  } else {
    s.state = "down";
    s.detail = st == states.end() ? (supervisor_running ? "not configured" : "stack not running")
                                  : std::string(to_string(st->second.state)) +
                                        (st->second.detail.empty() ? "" : ": " + st->second.detail);
    if (st != states.end() && st->second.state == ProgramState::fatal) {
      s.detail = fmt::format(
          "not restarted any more: it exited within {} s of each of its last starts; see "
          "`streamflow logs {}`, then `streamflow up`",
          svc.program().start_secs, s.name);
    } else if (st != states.end() && st->second.state == ProgramState::backoff) {
      s.detail = "exited at once; supervisord starts it again shortly";
    }
  }
  // A node that died and was started again by supervisord (any service, any layout).
  if (restarts) {
    s.facts.emplace_back("restarts",
                         fmt::format("{} (last: {})", restarts->restarts, restarts->last));
  }
  return s;
}

}  // namespace

StackStatus Stack::status() const {
  StackStatus result;
  result.state_dir = layout_.state_dir.string();
  result.topology = layout_.topology.clustered()
                        ? layout_.topology.name + " (" + layout_.topology.file.string() + ")"
                        : "single";
  Supervisor sup(layout_);
  result.supervisor_pid = sup.daemon_pid();
  const auto states = sup.status();
  const auto history = sup.restart_history();
  const bool supervisor_running = result.supervisor_pid.has_value();
  // Each service is asked in a thread of its own: a probe, a version and facts are network round
  // trips to engines that may be busy, and a cluster has twenty nodes (one after the other, that
  // took 6 s here with users flowing).
  const auto services = make_services(layout_);
  std::vector<std::future<ServiceStatus>> asked;
  asked.reserve(services.size());
  for (const auto& service : services) {
    asked.push_back(std::async(std::launch::async, [&, svc = service.get()] {
      return service_status(layout_, *svc, states, history, supervisor_running);
    }));
  }
  for (auto& one : asked) result.services.push_back(one.get());
  return result;
}

std::string format_status_table(const StackStatus& st) {
  // Nodes on addresses of their own (a cluster layout): the port column names the address.
  bool addresses = false;
  for (const auto& s : st.services)
    addresses = addresses || (!s.host.empty() && s.host != "127.0.0.1");
  const auto port_of = [&](const ServiceStatus& s) {
    if (!s.port) return std::string("-");
    return addresses ? fmt::format("{}:{}", s.host, s.port) : std::to_string(s.port);
  };
  const int width = addresses ? 21 : 6;
  std::string out = fmt::format("{:<17} {:<8} {:>7} {:>{}} {:>8}  {:<26} {}\n", "SERVICE", "HEALTH",
                                "PID", "PORT", width, "RSS", "VERSION", "DETAIL");
  for (const auto& s : st.services) {
    out += fmt::format("{:<17} {:<8} {:>7} {:>{}} {:>8}  {:<26} {}\n", s.name, s.state,
                       s.pid ? std::to_string(*s.pid) : "-", port_of(s), width,
                       s.rss_bytes ? fmt::format("{} MB", s.rss_bytes / (1024 * 1024)) : "-",
                       s.version.empty() ? "-" : s.version, s.detail);
    for (const auto& [k, v] : s.facts) out += fmt::format("{:<17} {}: {}\n", "", k, v);
  }
  if (st.topology != "single") out += "topology: " + st.topology + "\n";
  return out;
}

std::string format_status_json(const StackStatus& st) {
  nlohmann::json j;
  j["state_dir"] = st.state_dir;
  j["topology"] = st.topology;
  j["supervisor_pid"] =
      st.supervisor_pid ? nlohmann::json(*st.supervisor_pid) : nlohmann::json(nullptr);
  j["all_healthy"] = st.all_healthy();
  j["services"] = nlohmann::json::array();
  for (const auto& s : st.services) {
    nlohmann::json facts = nlohmann::json::object();
    for (const auto& [k, v] : s.facts) facts[k] = v;
    j["services"].push_back({{"name", s.name},
                             {"state", s.state},
                             {"healthy", s.state == "healthy"},
                             {"pid", s.pid ? nlohmann::json(*s.pid) : nlohmann::json(nullptr)},
                             {"port", s.port},
                             {"host", s.host},
                             {"ports", s.ports},
                             {"rss_bytes", s.rss_bytes},
                             {"restarts", s.restarts},
                             {"version", s.version},
                             {"detail", s.detail},
                             {"facts", facts},
                             {"log", s.log_file}});
  }
  return j.dump(2) + "\n";
}

Result<void> Stack::logs(const std::vector<std::string>& wanted, int lines, bool follow,
                         std::ostream& out) const {
  std::vector<std::string> names = wanted;
  std::set<std::string> known;
  for (const auto& svc : make_services(layout_)) known.insert(svc->name());
  known.insert("supervisord");
  if (names.empty()) {
    for (const auto& svc : make_services(layout_)) names.push_back(svc->name());
  }
  std::vector<std::string> files;
  for (const auto& n : names) {
    if (!known.count(n)) {
      return make_error(
          Errc::invalid_argument,
          "unknown service '" + n +
              "' (one of: postgres, kafka, connect, cassandra, mock-api, supervisord)");
    }
    files.push_back(layout_.log_file(n).string());
  }
  if (follow) {
    out.flush();
    std::vector<std::string> argv = {"tail", "-n", std::to_string(lines), "-F"};
    argv.insert(argv.end(), files.begin(), files.end());
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp("tail", args.data());
    return make_error(Errc::not_found, "cannot run tail -F");
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    out << "==> " << names[i] << ": " << files[i] << " <==\n";
    if (!fs::exists(files[i])) {
      out << "(no log yet: the service has not been started in this state directory)\n";
      continue;
    }
    out << base::tail_lines(files[i], static_cast<std::size_t>(lines));
  }
  return {};
}

Result<void> Stack::migrate(std::ostream& out) const {
  // Cassandra first: a column that a staging migration adds is carried to Cassandra by the
  // streaming job only once Cassandra has it, so a pair of migrations lands in that order.
  bool cassandra_up = false;
  for (const auto& node : layout_.topology.cassandra) {
    cassandra_up = cassandra_up || base::tcp_port_open(node.host, layout_.ports.cassandra,
                                                       std::chrono::milliseconds(1000));
  }
  if (cassandra_up) {
    cql::ConnectOptions options;
    options.contact_point = layout_.cassandra_contact_point();
    auto session = cql::Session::connect(options);
    if (!session) return session.error();
    auto cql_applied =
        cql::apply_migrations(*session, layout_.cql_migrations_dir,
                              {layout_.cassandra_keyspace, layout_.cassandra_replication});
    if (!cql_applied) return cql_applied.error();
    for (const auto& v : *cql_applied) out << "  cassandra  applied migration V" << v << "\n";
    out << cql_applied->size() << " CQL migration(s) applied (keyspace "
        << layout_.cassandra_keyspace << ")\n";
  } else {
    out << "Cassandra is not running on " << layout_.cassandra_contact_point()
        << ": CQL migrations not applied (run `streamflow migrate` again once it is up)\n";
  }
  auto conninfo = config::pipeline_conninfo(layout_.settings, "streamflow-migrate");
  if (!conninfo) return conninfo.error();
  auto conn = io::Connection::open(*conninfo);
  if (!conn) return conn.error();
  auto applied = io::apply_migrations(*conn, layout_.migrations_dir);
  if (!applied) return applied.error();
  out << applied->size() << " migration(s) applied\n";
  return {};
}

}  // namespace streamflow::stack
