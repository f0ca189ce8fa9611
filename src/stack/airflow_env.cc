#include "stack/airflow_env.h"

#include <fmt/format.h>

namespace streamflow::stack {

std::vector<std::pair<std::string, std::string>> airflow_environment(const Layout& layout) {
  const auto& a = layout.airflow;
  std::vector<std::pair<std::string, std::string>> env = {
      {"AIRFLOW_HOME", layout.airflow_home().string()},
      {"HOME", layout.airflow_home().string()},
      {"PATH", (a.venv / "bin").string() + ":/usr/local/bin:/usr/bin:/bin"},
      {"AIRFLOW__CORE__DAGS_FOLDER", a.dags_dir.string()},
      {"AIRFLOW__CORE__LOAD_EXAMPLES", "False"},
      {"AIRFLOW__CORE__EXECUTOR", "LocalExecutor"},
      {"AIRFLOW__CORE__PARALLELISM", std::to_string(a.parallelism)},
      {"AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True"},
      {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", a.admin_user + ":admin"},
      {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
       layout.airflow_passwords_file().string()},
      // Tasks report to our api-server, not to the default localhost:8080.
      {"AIRFLOW__CORE__EXECUTION_API_SERVER_URL", layout.airflow_url() + "/execution/"},
      {"AIRFLOW__API__BASE_URL", layout.airflow_url()},
      {"AIRFLOW__API__HOST", "127.0.0.1"},
      {"AIRFLOW__API__PORT", std::to_string(layout.ports.airflow)},
      {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
       fmt::format("postgresql+psycopg2://{}@/{}?host={}&port={}", a.database, a.database,
                   layout.postgres_socket_dir().string(), layout.ports.postgres)},
      {"AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "20"},
      {"AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "False"},
      {"AIRFLOW__LOGGING__BASE_LOG_FOLDER", (layout.airflow_home() / "logs").string()},
      {"PYTHONUNBUFFERED", "1"},
      // The DAG files import their helper module (streamflow_cli) from their own folder.
      {"PYTHONPATH", a.dags_dir.string()},
      // What the DAG tasks run, and the settings it runs with.
      {"STREAMFLOW_BIN", layout.self_exe.string()},
  };
  for (auto& kv : layout.settings.as_environment(true)) env.push_back(std::move(kv));
  return env;
}

std::vector<std::string> airflow_command(const Layout& layout, const std::vector<std::string>& args,
                                         bool python) {
  std::vector<std::string> argv;
  if (layout.service_user) argv = {"runuser", "-u", *layout.service_user, "--"};
  argv.push_back("env");
  for (const auto& [k, v] : airflow_environment(layout)) argv.push_back(k + "=" + v);
  argv.push_back((layout.airflow.venv / "bin" / (python ? "python" : "airflow")).string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace streamflow::stack
