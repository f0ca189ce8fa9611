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
    const auto role = conn->quote_identifier(layout_.postgres_user);
    auto role_exists =
        conn->exec("SELECT 1 FROM pg_roles WHERE rolname = $1", {layout_.postgres_user});
    if (!role_exists) return role_exists.error();
    if (role_exists->size() == 0) {
      if (auto r = conn->exec("CREATE ROLE " + role + " LOGIN REPLICATION"); !r) return r.error();
    }
    // The password is sent over the local socket only; log_statement stays at its default (none).
    if (auto r = conn->exec("ALTER ROLE " + role + " WITH LOGIN REPLICATION PASSWORD " +
                            conn->quote_literal(*password));
        !r) {
      return r.error();
    }
    auto db_exists =
        conn->exec("SELECT 1 FROM pg_database WHERE datname = $1", {layout_.postgres_database});
    if (!db_exists) return db_exists.error();
    if (db_exists->size() == 0) {
      if (auto r = conn->exec("CREATE DATABASE " +
                              conn->quote_identifier(layout_.postgres_database) + " OWNER " + role);
          !r) {
        return r.error();
      }
    }
    if (layout_.airflow.enabled) {
      // Airflow's metadata: its own role (no password: it connects over the local socket) and
      // database, so its tables never mix with the pipeline's.
      const auto& name = layout_.airflow.database;
      const auto ident = conn->quote_identifier(name);
      auto af_role = conn->exec("SELECT 1 FROM pg_roles WHERE rolname = $1", {name});
      if (!af_role) return af_role.error();
      if (af_role->size() == 0) {
        if (auto r = conn->exec("CREATE ROLE " + ident + " LOGIN"); !r) return r.error();
      }
      auto af_db = conn->exec("SELECT 1 FROM pg_database WHERE datname = $1", {name});
      if (!af_db) return af_db.error();
      if (af_db->size() == 0) {
        if (auto r = conn->exec("CREATE DATABASE " + ident + " OWNER " + ident); !r)
          return r.error();
      }
    }
    return migrate(out);
  }

  std::string version() const override { return postgres_server_version(layout_); }

 private:
  Result<std::string> pipeline_password() const {
    return config::secret(layout_.settings, "postgres.password", "postgres.password", true);
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
