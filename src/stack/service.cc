#include "stack/service.h"

#include <cctype>

#include "config/secrets.h"

namespace streamflow::stack {

namespace fs = std::filesystem;
using base::Errc;
using base::make_error;
using base::Result;

std::optional<base::Account> Service::account() const {
  if (!layout_.service_user) return std::nullopt;
  return base::find_account(*layout_.service_user);
}

std::vector<std::string> Service::as_service_user(std::vector<std::string> argv) const {
  if (!layout_.service_user) return argv;
  std::vector<std::string> out = {"runuser", "-u", *layout_.service_user, "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

ProgramSpec Service::base_program() const {
  ProgramSpec p;
  p.name = name();
  p.log_file = layout_.log_file(name()).string();
  p.directory = layout_.state_dir.string();
  p.user = layout_.service_user.value_or("");
  p.stop_wait_s = layout_.stop_timeout_s;
  return p;
}

Result<void> Service::share_secrets() const {
  for (const auto& [name, file] :
       {std::pair<std::string, std::string>{"postgres.password", "postgres.password"},
        {"ingest.id_hash_key", "id_hash.key"}}) {
    if (auto v = config::secret(layout_.settings, name, file, true); !v) return v.error();
  }
  if (!layout_.service_user) return {};
  return base::ensure_owned_dir(layout_.secrets_dir, account(), fs::perms(0700));
}

Result<void> Service::check_installed() const {
  if (spec_.needs_java && !fs::exists(layout_.java)) {
    return make_error(Errc::failed_precondition,
                      "Java 17 is missing: no " + layout_.java.string() +
                          ". Run `make setup` (installs openjdk-17-jre-headless) or point "
                          "STREAMFLOW_JAVA_HOME at a Java 17 installation");
  }
  for (const auto& jars : spec_.jars) {
    if (jar_version(jars.dir, jars.prefix).empty()) {
      return make_error(Errc::failed_precondition,
                        jars.what + " jars are missing from " + jars.dir.string() +
                            ". Run `make setup` to resolve them from Maven Central");
    }
  }
  if (spec_.runs_self && (layout_.self_exe.empty() || !fs::exists(layout_.self_exe))) {
    return make_error(Errc::failed_precondition, "cannot find the streamflow binary to run " +
                                                     name() + " (looked for '" +
                                                     layout_.self_exe.string() + "')");
  }
  return check_files();
}

Result<void> Service::run_step(const std::string& what, const std::vector<std::string>& argv,
                               const base::RunOptions& options) const {
  auto run = base::run_command(as_service_user(argv), options);
  if (!run) return run.error();
  if (run->exit_status != 0) {
    return make_error(Errc::unavailable, what + " failed:\n" + run->output, "service=" + name());
  }
  return {};
}

std::string jar_version(const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto file = entry.path().filename().string();
    if (file.rfind(prefix, 0) == 0 && file.size() > prefix.size() + 4 &&
        file.compare(file.size() - 4, 4, ".jar") == 0) {
      auto v = file.substr(prefix.size(), file.size() - prefix.size() - 4);
      if (!v.empty() && std::isdigit(static_cast<unsigned char>(v[0]))) return v;
    }
  }
  return "";
}

}  // namespace streamflow::stack
