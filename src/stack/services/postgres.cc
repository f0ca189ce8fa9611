#include <fmt/format.h>

#include <ostream>

#include "config/secrets.h"
#include "io/migrations.h"
#include "io/pg.h"
#include "stack/detail/service_factories.h"
#include "stack/probes.h"

namespace streamflow::stack::detail {

namespace {

/// PostgreSQL 15 from Debian, with logical decoding enabled for Debezium.
struct PostgresService final : Service {
  using Service::Service;

  Result<void> check_files() const override {
    for (const char* bin : {"postgres", "initdb"}) {
      if (!fs::exists(layout_.postgres_bin_dir / bin)) {
        return make_error(Errc::failed_precondition,
                          "PostgreSQL 15 is missing: no " +
                              (layout_.postgres_bin_dir / bin).string() +
                              ". Run `make setup` (installs Debian's postgresql-15)");
      }
    }
    return {};
  }

  Result<void> prepare(std::ostream& out) const override {
    const auto owner = account();
    if (auto r =
            base::ensure_owned_dir(layout_.postgres_data.parent_path(), owner, fs::perms(0700));
        !r)
      return r;
    if (auto r = base::ensure_owned_dir(layout_.postgres_socket_dir(), owner, fs::perms(0755)); !r)
      return r;
    // The socket path must fit in sun_path (108 bytes).
    const auto socket =
        layout_.postgres_socket_dir() / fmt::format(".s.PGSQL.{}", layout_.ports.postgres);
    if (socket.string().size() >= 100) {
      return make_error(Errc::invalid_argument,
                        "the state directory path is too long for PostgreSQL's unix socket (" +
                            socket.string() + "); set STREAMFLOW_STATE_DIR to a shorter path");
    }
    if (fs::exists(layout_.postgres_data / "PG_VERSION")) return {};
    out << "  postgres   first start: initdb " << layout_.postgres_data.string() << std::endl;
    return run_step("initdb", {(layout_.postgres_bin_dir / "initdb").string(), "-D",
                               layout_.postgres_data.string(), "-U", "postgres",
                               "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                               "--locale=C.UTF-8", "--no-instructions"});
  }

  ProgramSpec program() const override {
    auto p = base_program();
    p.argv = postgres_argv(layout_);
    p.stop_signal = "INT";    // fast shutdown: roll back open transactions, checkpoint, exit
    p.stop_as_group = false;  // the postmaster stops its own children
    return p;
  }

  Probe probe() const override { return probe_postgres(layout_); }

  /// Creates the pipeline's login role (with REPLICATION, for Debezium) and its database, and
  /// sets the role's password from the environment or the generated secret file.
  Result<void> after_ready(std::ostream& out) const override {
    auto password = pipeline_password();
    if (!password) return password.error();
    auto conn = io::Connection::open(postgres_admin_conninfo(layout_));
    if (!conn) return conn.error();
    // The password is sent over the local socket only; log_statement stays at its default (none).
    if (auto r = ensure_role(*conn, layout_.postgres_user, "LOGIN REPLICATION", *password); !r)
      return r;
    if (auto r = ensure_database(*conn, layout_.postgres_database, layout_.postgres_user); !r)
      return r;
    // Airflow's metadata and the registry's schemas: each its own role and database, so their
    // tables never mix with the pipeline's. Airflow connects over the local socket (no
    // password); the registry over TCP (JDBC), with its own generated password.
    if (layout_.airflow.enabled) {
      const auto& name = layout_.airflow.database;
      if (auto r = ensure_role(*conn, name, "LOGIN", std::nullopt); !r) return r;
      if (auto r = ensure_database(*conn, name, name); !r) return r;
    }
    if (layout_.registry.enabled) {
      auto registry_password =
          config::secret(layout_.settings, "registry.password", "registry.password", true);
      if (!registry_password) return registry_password.error();
      const auto& name = layout_.registry.database;
      if (auto r = ensure_role(*conn, name, "LOGIN", *registry_password); !r) return r;
      if (auto r = ensure_database(*conn, name, name); !r) return r;
    }
    return migrate(out);
  }

  std::string version() const override { return postgres_server_version(layout_); }

 private:
  Result<std::string> pipeline_password() const {
    return config::secret(layout_.settings, "postgres.password", "postgres.password", true);
  }

  /// A role with `attributes` ("LOGIN REPLICATION"); its password is (re)set when given.
  static Result<void> ensure_role(io::Connection& conn, const std::string& name,
                                  const std::string& attributes,
                                  const std::optional<std::string>& password) {
    const auto ident = conn.quote_identifier(name);
    auto role = conn.exec("SELECT 1 FROM pg_roles WHERE rolname = $1", {name});
    if (!role) return role.error();
    if (role->size() == 0) {
      if (auto r = conn.exec("CREATE ROLE " + ident + " " + attributes); !r) return r.error();
    }
    if (!password) return {};
    if (auto r = conn.exec("ALTER ROLE " + ident + " WITH " + attributes + " PASSWORD " +
                           conn.quote_literal(*password));
        !r)
      return r.error();
    return {};
  }

  static Result<void> ensure_database(io::Connection& conn, const std::string& name,
                                      const std::string& owner) {
    auto db = conn.exec("SELECT 1 FROM pg_database WHERE datname = $1", {name});
    if (!db) return db.error();
    if (db->size() != 0) return {};
    if (auto r = conn.exec("CREATE DATABASE " + conn.quote_identifier(name) + " OWNER " +
                           conn.quote_identifier(owner));
        !r)
      return r.error();
    return {};
  }

  /// Applies the staging schema migrations as the pipeline role (so it owns the tables).
  Result<void> migrate(std::ostream& out) const {
    auto conn = io::Connection::open(io::conninfo({{"host", layout_.postgres_socket_dir().string()},
                                                   {"port", std::to_string(layout_.ports.postgres)},
                                                   {"user", layout_.postgres_user},
                                                   {"dbname", layout_.postgres_database}}));
    if (!conn) return conn.error();
    auto applied = io::apply_migrations(*conn, layout_.migrations_dir);
    if (!applied) return applied.error();
    for (const auto& v : *applied) out << "  postgres   applied migration V" << v << std::endl;
    return {};
  }
};

}  // namespace

std::unique_ptr<Service> make_postgres(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<PostgresService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
