#pragma once
/// One service of the local stack. Each knows how to check it is installed, prepare its files
/// (configs, first-start initialisation), describe its supervisord program, probe its health
/// and name its version. Instances borrow the Layout; they hold no other state. The services
/// themselves are in services/, one file each; services.h lists them.

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "base/fs.h"
#include "base/process.h"
#include "base/result.h"
#include "deploy/layout.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack {

using deploy::Layout;

struct NamedPort {
  std::string name;  ///< e.g. "cql", "controller"
  int port = 0;
  std::string host = "127.0.0.1";  ///< the address it listens on (its node's)
};

/// Jars a service cannot start without: a file "<prefix><version>.jar" in `dir`.
struct RequiredJars {
  std::string what;  ///< named in the error, e.g. "Kafka Connect"
  std::filesystem::path dir;
  std::string prefix;
};

/// What a service is, as data: its name, when it starts, where it listens, what it needs.
struct ServiceSpec {
  std::string name;
  /// Services of one wave start together; a wave starts once the previous one is healthy.
  int wave = 0;
  /// The ports it listens on; the first is the one clients use.
  std::vector<NamedPort> ports = {};
  bool needs_java = false;
  std::vector<RequiredJars> jars = {};
  /// It runs this very `streamflow` binary (Layout::self_exe).
  bool runs_self = false;
  /// The node of its engine it is (the single layout's one node by default).
  deploy::Node node = {};
  /// Within its wave, it starts once this service is healthy (a Cassandra node joins the ring
  /// once the previous one is up); empty: with the wave.
  std::string start_after = {};
};

class Service {
 public:
  Service(const Layout& layout, ServiceSpec spec) : layout_(layout), spec_(std::move(spec)) {}
  virtual ~Service() = default;
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const std::string& name() const { return spec_.name; }
  int wave() const { return spec_.wave; }
  const std::string& start_after() const { return spec_.start_after; }
  const std::vector<NamedPort>& ports() const { return spec_.ports; }
  /// Java, the jars and whatever check_files() asks for are where they should be
  /// (failed_precondition says how to fix it).
  base::Result<void> check_installed() const;
  /// Directories, generated configs and first-start initialisation; progress lines (first
  /// start only) go to `out`. Idempotent.
  virtual base::Result<void> prepare(std::ostream& out) const = 0;
  /// Work that needs the previous waves up, just before the program starts (schema
  /// migrations of its own database). Progress lines go to `out`. Idempotent.
  virtual base::Result<void> before_start(std::ostream& out) const {
    (void)out;
    return {};
  }
  virtual ProgramSpec program() const = 0;
  virtual Probe probe() const = 0;
  /// Work that needs the service up (roles, databases, topics, the connector); what it did
  /// goes to `out`. Idempotent.
  virtual base::Result<void> after_ready(std::ostream& out) const {
    (void)out;
    return {};
  }
  virtual std::string version() const = 0;
  /// Extra facts for `status` once the service is healthy (connector state, slot lag...).
  virtual std::vector<std::pair<std::string, std::string>> facts() const { return {}; }

 protected:
  /// The account services run as, when streamflow runs as root.
  std::optional<base::Account> account() const;
  /// Prefixes argv with `runuser -u <service_user> --` when running as root.
  std::vector<std::string> as_service_user(std::vector<std::string> argv) const;
  /// Binaries and files the service needs beyond Java and its jars.
  virtual base::Result<void> check_files() const { return {}; }
  ProgramSpec base_program() const;
  /// Runs a first-start step (initdb, storage format...) as the service account; `what` names
  /// it in the error when it fails.
  base::Result<void> run_step(const std::string& what, const std::vector<std::string>& argv,
                              const base::RunOptions& options = {}) const;
  /// Generates the pipeline's secrets if needed and hands their folder (0700) to the service
  /// account, for services that run `streamflow` commands as that account.
  base::Result<void> share_secrets() const;

  /// The node of its engine this service runs.
  const deploy::Node& node() const { return spec_.node; }

  const Layout& layout_;

 private:
  ServiceSpec spec_;
};

/// Version from a jar file name "<prefix><version>.jar" in `dir`, or "" if none matches.
std::string jar_version(const std::filesystem::path& dir, const std::string& prefix);

}  // namespace streamflow::stack
