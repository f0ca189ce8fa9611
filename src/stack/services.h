#pragma once
/// The services of the local stack. Each knows how to check it is installed, prepare its
/// files (configs, first-start initialisation), describe its supervisord program, probe its
/// health and name its version. Instances borrow the Layout; they hold no other state.

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "base/fs.h"
#include "base/result.h"
#include "stack/layout.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack {

struct NamedPort {
  std::string name;  ///< e.g. "cql", "controller"
  int port = 0;
};

class Service {
 public:
  explicit Service(const Layout& layout) : layout_(layout) {}
  virtual ~Service() = default;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  virtual std::string name() const = 0;
  /// Services of one wave start together; a wave starts once the previous one is healthy.
  virtual int wave() const = 0;
  /// The ports it listens on; the first is the one clients use.
  virtual std::vector<NamedPort> ports() const = 0;
  /// Binaries and jars are where they should be (failed_precondition says how to fix it).
  virtual base::Result<void> check_installed() const = 0;
  /// Directories, generated configs and first-start initialisation. Idempotent.
  virtual base::Result<void> prepare() const = 0;
  /// Work that needs the previous waves up, just before the program starts (schema
  /// migrations of its own database). Progress lines go to `out`. Idempotent.
  virtual base::Result<void> before_start(std::ostream& out) const {
    (void)out;
    return {};
  }
  virtual ProgramSpec program() const = 0;
  virtual Probe probe() const = 0;
  /// Work that needs the service up (roles, databases). Idempotent.
  virtual base::Result<void> after_ready() const { return {}; }
  virtual std::string version() const = 0;
  /// Extra facts for `status` once the service is healthy (connector state, slot lag...).
  virtual std::vector<std::pair<std::string, std::string>> facts() const { return {}; }

 protected:
  /// The account services run as, when streamflow runs as root.
  std::optional<base::Account> account() const;
  /// Prefixes argv with `runuser -u <service_user> --` when running as root.
  std::vector<std::string> as_service_user(std::vector<std::string> argv) const;
  ProgramSpec base_program() const;
  base::Result<void> check_java() const;
  /// Generates the pipeline's secrets if needed and hands their folder (0700) to the service
  /// account, for services that run `streamflow` commands as that account.
  base::Result<void> share_secrets() const;

  const Layout& layout_;
};

/// All enabled services, in start order.
std::vector<std::unique_ptr<Service>> make_services(const Layout& layout);

/// The environment of every Airflow component and task: Airflow's configuration
/// (AIRFLOW__SECTION__KEY), and our settings as STREAMFLOW_* so that a task's `streamflow`
/// sees what `up` saw.
std::vector<std::pair<std::string, std::string>> airflow_environment(const Layout& layout);

/// The command line that runs Airflow's CLI (or, with `python`, its venv's Python) with
/// `args`, as the service account, in that environment (`streamflow airflow ...`).
std::vector<std::string> airflow_command(const Layout& layout, const std::vector<std::string>& args,
                                         bool python);

/// Version from a jar file name "<prefix><version>.jar" in `dir`, or "" if none matches.
std::string jar_version(const std::filesystem::path& dir, const std::string& prefix);

}  // namespace streamflow::stack
