#include "io/registry.h"

#include <fmt/format.h>
#include <httplib.h>

#include <ostream>

#include "config/secrets.h"
#include "stack/detail/service_factories.h"
#include "stack/render.h"

namespace streamflow::stack::detail {

namespace {

/// Apicurio Registry (a Quarkus application on Java 21+), spoken to through its
/// Confluent-compatible API. Its schemas live in its own PostgreSQL database, so they survive a
/// restart or a SIGKILL; `up` holds every subject to registry.compatibility.
struct RegistryService final : Service {
  using Service::Service;

  Result<void> check_files() const override {
    const auto& r = layout_.registry;
    if (!fs::exists(r.java)) {
      return make_error(Errc::failed_precondition,
                        "Java 21 or newer for the schema registry is missing: no " +
                            r.java.string() +
                            ". Run `make setup` (installs a JDK into <deps_dir>/jdk when the "
                            "machine has none) or set STREAMFLOW_REGISTRY_JAVA_HOME");
    }
    if (!fs::exists(r.home / "quarkus-run.jar")) {
      return make_error(Errc::failed_precondition,
                        "the schema registry is missing: no " +
                            (r.home / "quarkus-run.jar").string() +
                            ". Run `make setup` to resolve Apicurio Registry from Maven Central");
    }
    return {};
  }

  /// The registry's configuration, with its database password, in a file only the service
  /// account reads (Quarkus takes it through quarkus.config.locations).
  Result<void> prepare(std::ostream&) const override {
    auto password =
        config::secret(layout_.settings, "registry.password", "registry.password", true);
    if (!password) return password.error();
    const auto file = layout_.registry_config_file();
    if (auto r = base::ensure_owned_dir(file.parent_path(), account(), fs::perms(0700)); !r)
      return r;
    const auto& ports = layout_.ports;
    const std::vector<std::pair<std::string, std::string>> config = {
        {"quarkus.http.host", "127.0.0.1"},
        {"quarkus.http.port", std::to_string(ports.registry)},
        {"quarkus.management.host", "127.0.0.1"},
        {"quarkus.management.port", std::to_string(ports.registry_management)},
        {"apicurio.storage.kind", "sql"},
        {"apicurio.storage.sql.kind", "postgresql"},
        {"apicurio.datasource.url", fmt::format("jdbc:postgresql://127.0.0.1:{}/{}", ports.postgres,
                                                layout_.registry.database)},
        {"apicurio.datasource.username", layout_.registry.database},
        {"apicurio.datasource.password", *password},
        // Its default pool holds 20 connections from the start; a handful serve a pipeline.
        {"apicurio.datasource.jdbc.initial-size", "2"},
        {"apicurio.datasource.jdbc.min-size", "2"},
        {"apicurio.datasource.jdbc.max-size", "10"},
        // One line per request is noise at the rate the Spark job and Connect ask.
        {"quarkus.http.access-log.enabled", "false"},
        {"apicurio.storage.snapshot.location", (file.parent_path() / "snapshots").string()}};
    if (auto r = base::write_file(file, render_properties(config), fs::perms(0600)); !r) return r;
    return base::ensure_owned_dir(file.parent_path(), account(), fs::perms(0700));
  }

  ProgramSpec program() const override {
    const auto& r = layout_.registry;
    auto p = base_program();
    p.directory = layout_.registry_config_file().parent_path().string();
    p.argv = {r.java.string(), fmt::format("-Xmx{}m", r.heap_mb),
              // Two cores: a serial collector and few compiler threads start it sooner and keep
              // it out of the engines' way.
              "-XX:+UseSerialGC", "-XX:CICompilerCount=2", "-Djava.net.preferIPv4Stack=true",
              "-Dquarkus.config.locations=file:" + layout_.registry_config_file().string(), "-jar",
              (r.home / "quarkus-run.jar").string()};
    return p;
  }

  Probe probe() const override {
    httplib::Client client("127.0.0.1", layout_.ports.registry_management);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(3, 0);
    // Ready: the API is up and its database answers (Apicurio's readiness checks).
    auto res = client.Get("/health/ready");
    if (res && res->status == 200) return {true, layout_.registry_url()};
    if (res) {
      return {false, fmt::format("not ready (HTTP {} from its /health/ready)", res->status)};
    }
    return {false, fmt::format("no answer on http://127.0.0.1:{}/health/ready",
                               layout_.ports.registry_management)};
  }

  /// Every subject without a level of its own is held to registry.compatibility.
  Result<void> after_ready(std::ostream& out) const override {
    auto client = rest();
    auto current = client.compatibility();
    if (!current) return current.error();
    if (*current == layout_.registry.compatibility) return {};
    if (auto r = client.set_compatibility(layout_.registry.compatibility); !r) {
      return make_error(r.error().code,
                        "setting the registry's compatibility to " +
                            layout_.registry.compatibility +
                            " failed (registry.compatibility: "
                            "BACKWARD, BACKWARD_TRANSITIVE, FULL or FULL_TRANSITIVE): " +
                            r.error().message);
    }
    out << "  registry   compatibility " << layout_.registry.compatibility << " (was " << *current
        << ")" << std::endl;
    return {};
  }

  std::string version() const override {
    return jar_version(layout_.registry.home / "app", "apicurio-registry-app-");
  }

  /// The compatibility level and each subject with its latest version and schema id.
  std::vector<std::pair<std::string, std::string>> facts() const override {
    std::vector<std::pair<std::string, std::string>> out;
    auto client = rest();
    if (auto level = client.compatibility()) out.emplace_back("compatibility", *level);
    auto subjects = client.subjects();
    if (!subjects) {
      out.emplace_back("subjects", subjects.error().message);
      return out;
    }
    out.emplace_back("subjects", std::to_string(subjects->size()));
    for (const auto& subject : *subjects) {
      auto latest = client.latest(subject);
      out.emplace_back("subject " + subject, latest ? fmt::format("version {} (schema id {})",
                                                                  latest->version, latest->id)
                                                    : latest.error().message);
    }
    return out;
  }

 private:
  io::RegistryClient rest() const {
    return io::RegistryClient("127.0.0.1", layout_.ports.registry);
  }
};

}  // namespace

std::unique_ptr<Service> make_registry(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<RegistryService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
