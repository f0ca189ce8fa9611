#include <fmt/format.h>

#include <ostream>

#include "base/process.h"
#include "stack/airflow_env.h"
#include "stack/detail/service_factories.h"
#include "stack/probes.h"

namespace streamflow::stack::detail {

namespace {

/// One of Airflow 3's four components, each its own supervisord program (the scheduler's
/// LocalExecutor and the api-server fork workers, so each is stopped as a process group).
/// The api-server comes first (wave 1, once PostgreSQL is up): before it starts, `airflow db
/// migrate` brings the metadata database up to date; the other three follow once it answers
/// (wave 2).
class AirflowService final : public Service {
 public:
  enum class Component { api_server, scheduler, dag_processor, triggerer };
  AirflowService(const Layout& layout, Component component)
      : Service(layout, spec(layout, component)), component_(component) {}

  Result<void> check_files() const override {
    if (!fs::exists(airflow_bin())) {
      return make_error(Errc::failed_precondition,
                        "Airflow is missing: no " + airflow_bin().string() +
                            ". Run `make setup` (creates .venv-airflow from "
                            "deps/python/airflow.lock) or set STREAMFLOW_AIRFLOW_ENABLED=false");
    }
    if (!fs::is_directory(layout_.airflow.dags_dir)) {
      return make_error(Errc::failed_precondition, "no DAG folder at " +
                                                       layout_.airflow.dags_dir.string() +
                                                       "; set STREAMFLOW_AIRFLOW_DAGS_DIR");
    }
    return {};
  }
  Result<void> prepare(std::ostream&) const override {
    if (component_ != Component::api_server) return {};
    // The DAG tasks run `streamflow` as the service account: it needs the pipeline's secrets.
    if (auto r = share_secrets(); !r) return r;
    // 0700: the generated UI password file inside is written world-readable by Airflow.
    return base::ensure_owned_dir(layout_.airflow_home(), account(), fs::perms(0700));
  }
  Result<void> before_start(std::ostream& out) const override {
    if (component_ != Component::api_server) return {};
    out << "  airflow-api  airflow db migrate (metadata in PostgreSQL database '"
        << layout_.airflow.database << "'; first time ~30 s)\n";
    out.flush();
    std::vector<std::string> argv = {"env"};
    for (const auto& [k, v] : environment()) argv.push_back(k + "=" + v);
    argv.insert(argv.end(), {airflow_bin().string(), "db", "migrate"});
    base::RunOptions opts;
    opts.timeout = std::chrono::minutes(5);
    opts.working_dir = layout_.airflow_home().string();
    return run_step("airflow db migrate", argv, opts);
  }
  ProgramSpec program() const override {
    auto p = base_program();
    p.directory = layout_.airflow_home().string();
    const auto bin = airflow_bin().string();
    switch (component_) {
      case Component::api_server:
        p.argv = {bin,         "api-server", "--host",
                  "127.0.0.1", "--port",     std::to_string(layout_.ports.airflow),
                  "--workers", "1"};
        break;
      case Component::scheduler:
        // --skip-serve-logs: no log server on 0.0.0.0:8793; task logs are local files.
        p.argv = {bin, "scheduler", "--skip-serve-logs"};
        break;
      case Component::dag_processor:
        p.argv = {bin, "dag-processor"};
        break;
      case Component::triggerer:
        p.argv = {bin, "triggerer", "--skip-serve-logs"};
        break;
    }
    p.env = environment();
    p.stop_as_group = true;
    return p;
  }
  Probe probe() const override {
    switch (component_) {
      case Component::api_server:
        return probe_airflow(layout_, "");
      case Component::scheduler:
        return probe_airflow(layout_, "scheduler");
      case Component::dag_processor:
        return probe_airflow(layout_, "dag_processor");
      case Component::triggerer:
        return probe_airflow(layout_, "triggerer");
    }
    return {};
  }
  std::string version() const override { return "airflow " + airflow_version(layout_); }
  std::vector<std::pair<std::string, std::string>> facts() const override {
    if (component_ != Component::api_server) return {};
    return {{"ui", layout_.airflow_url() + "/ (user " + layout_.airflow.admin_user +
                       ", password in " + layout_.airflow_passwords_file().string() + ")"}};
  }

 private:
  fs::path airflow_bin() const { return layout_.airflow.venv / "bin" / "airflow"; }
  std::vector<std::pair<std::string, std::string>> environment() const {
    return airflow_environment(layout_);
  }
  static ServiceSpec spec(const Layout& layout, Component component) {
    switch (component) {
      case Component::api_server:
        return {.name = "airflow-api", .wave = 1, .ports = {{"http", layout.ports.airflow}}};
      case Component::scheduler:
        return {.name = "airflow-scheduler", .wave = 2};
      case Component::dag_processor:
        return {.name = "airflow-dags", .wave = 2};
      case Component::triggerer:
        return {.name = "airflow-triggerer", .wave = 2};
    }
    return {.name = "airflow", .wave = 2};
  }

  Component component_;
};

}  // namespace

std::vector<std::unique_ptr<Service>> make_airflow(const Layout& layout) {
  using C = AirflowService::Component;
  std::vector<std::unique_ptr<Service>> out;
  for (auto c : {C::api_server, C::scheduler, C::dag_processor, C::triggerer})
    out.push_back(std::make_unique<AirflowService>(layout, c));
  return out;
}

}  // namespace streamflow::stack::detail
