#include "stack/services.h"

#include <fmt/format.h>
#include <httplib.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.h"
#include "base/process.h"
#include "base/random.h"
#include "config/secrets.h"
#include "cql/cql.h"
#include "cql/migrations.h"
#include "io/kafka.h"
#include "io/migrations.h"
#include "io/pg.h"

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

Result<void> Service::check_java() const {
  if (!fs::exists(layout_.java)) {
    return make_error(Errc::failed_precondition,
                      "Java 17 is missing: no " + layout_.java.string() +
                          ". Run `make setup` (installs openjdk-17-jre-headless) or point "
                          "STREAMFLOW_JAVA_HOME at a Java 17 installation");
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

namespace {

Result<void> missing_jars(const std::string& what, const fs::path& where) {
  return make_error(Errc::failed_precondition,
                    what + " jars are missing from " + where.string() +
                        ". Run `make setup` to resolve them from Maven Central");
}

// ---------------------------------------------------------------------------------------------
/// PostgreSQL 15 from Debian, with logical decoding enabled for Debezium.
class PostgresService final : public Service {
 public:
  using Service::Service;
  std::string name() const override { return "postgres"; }
  int wave() const override { return 0; }
  std::vector<NamedPort> ports() const override { return {{"sql", layout_.ports.postgres}}; }

  Result<void> check_installed() const override {
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

  Result<void> prepare() const override {
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
    std::fprintf(stdout, "  postgres   first start: initdb %s\n",
                 layout_.postgres_data.string().c_str());
    auto out = base::run_command(as_service_user(
        {(layout_.postgres_bin_dir / "initdb").string(), "-D", layout_.postgres_data.string(), "-U",
         "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-instructions"}));
    if (!out) return out.error();
    if (out->exit_status != 0) {
      return make_error(Errc::unavailable, "initdb failed:\n" + out->output, "service=postgres");
    }
    return {};
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
  Result<void> after_ready() const override {
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
    return migrate();
  }

  std::string version() const override { return postgres_server_version(layout_); }

 private:
  Result<std::string> pipeline_password() const {
    return config::secret(layout_.settings, "postgres.password", "postgres.password", true);
  }

  /// Applies the staging schema migrations as the pipeline role (so it owns the tables).
  Result<void> migrate() const {
    auto conn = io::Connection::open(io::conninfo({{"host", layout_.postgres_socket_dir().string()},
                                                   {"port", std::to_string(layout_.ports.postgres)},
                                                   {"user", layout_.postgres_user},
                                                   {"dbname", layout_.postgres_database}}));
    if (!conn) return conn.error();
    auto applied = io::apply_migrations(*conn, layout_.migrations_dir);
    if (!applied) return applied.error();
    for (const auto& v : *applied)
      std::fprintf(stdout, "  postgres   applied migration V%s\n", v.c_str());
    return {};
  }
};

// ---------------------------------------------------------------------------------------------
/// Kafka in KRaft mode: one process that is both broker and controller.
class KafkaService final : public Service {
 public:
  using Service::Service;
  std::string name() const override { return "kafka"; }
  int wave() const override { return 0; }
  std::vector<NamedPort> ports() const override {
    return {{"broker", layout_.ports.kafka}, {"controller", layout_.ports.kafka_controller}};
  }

  Result<void> check_installed() const override {
    if (auto r = check_java(); !r) return r;
    if (jar_version(layout_.kafka_libs, "kafka_2.13-").empty())
      return missing_jars("Kafka", layout_.kafka_libs);
    return {};
  }

  Result<void> prepare() const override {
    if (auto r = base::ensure_owned_dir(layout_.kafka_data.parent_path(), account()); !r) return r;
    if (auto r = base::write_file(layout_.conf_dir / "kafka.properties",
                                  render_kafka_properties(layout_));
        !r)
      return r;
    if (auto r = base::write_file(layout_.conf_dir / "log4j2.xml", render_log4j2_xml()); !r)
      return r;
    if (fs::exists(layout_.kafka_data / "meta.properties")) return {};
    // First start only: format the log directory with a fresh cluster id (standalone quorum).
    // Never starting with '-': the format tool's argument parser would take it for an option
    // (Kafka's own Uuid.randomUuid() avoids those ids for the same reason). Seen: 1 start in 64.
    auto cluster_id = base::base64url(base::random_bytes(16));
    while (cluster_id.front() == '-') cluster_id = base::base64url(base::random_bytes(16));
    std::fprintf(stdout, "  kafka      first start: formatting storage (cluster id %s)\n",
                 cluster_id.c_str());
    auto out = base::run_command(as_service_user(
        {layout_.java.string(), "-Xmx256m",
         "-Dlog4j2.configurationFile=" + (layout_.conf_dir / "log4j2.xml").string(), "-cp",
         (layout_.kafka_libs / "*").string(), "kafka.tools.StorageTool", "format", "--standalone",
         "-t", cluster_id, "-c", (layout_.conf_dir / "kafka.properties").string()}));
    if (!out) return out.error();
    if (out->exit_status != 0) {
      return make_error(Errc::unavailable, "formatting Kafka storage failed:\n" + out->output,
                        "service=kafka");
    }
    return {};
  }

  ProgramSpec program() const override {
    auto p = base_program();
    p.argv = kafka_argv(layout_);
    return p;
  }
  Probe probe() const override { return probe_kafka(layout_); }
  std::string version() const override { return jar_version(layout_.kafka_libs, "kafka_2.13-"); }

  /// The pipeline's topics exist before anything consumes them: the CDC topic (otherwise made
  /// by Debezium's first change event) and the dead-letter topic.
  Result<void> after_ready() const override {
    std::vector<io::TopicSpec> topics;
    if (layout_.cdc_enabled)
      topics.push_back({layout_.cdc_topic(), layout_.kafka_partitions, 1, {}});
    if (layout_.spark.enabled)
      topics.push_back({layout_.spark.dlq_topic, layout_.kafka_partitions, 1, {}});
    if (topics.empty()) return {};
    auto created = io::ensure_topics(fmt::format("127.0.0.1:{}", layout_.ports.kafka), topics);
    if (!created) return created.error();
    for (const auto& t : *created) {
      std::fprintf(stdout, "  kafka      created topic %s (%d partitions)\n", t.c_str(),
                   layout_.kafka_partitions);
    }
    return {};
  }
};

// ---------------------------------------------------------------------------------------------
/// Kafka Connect in distributed mode with the Debezium PostgreSQL plugin; registers the
/// connector that captures staging.users.
class ConnectService final : public Service {
 public:
  using Service::Service;
  std::string name() const override { return "connect"; }
  int wave() const override { return 1; }  // needs Kafka (its state topics) and PostgreSQL
  std::vector<NamedPort> ports() const override { return {{"rest", layout_.ports.connect}}; }

  Result<void> check_installed() const override {
    if (auto r = check_java(); !r) return r;
    if (jar_version(layout_.kafka_libs, "connect-runtime-").empty()) {
      return missing_jars("Kafka Connect", layout_.kafka_libs);
    }
    if (debezium_version().empty()) {
      return missing_jars("Debezium PostgreSQL connector",
                          layout_.connect_plugins / "debezium-connector-postgres");
    }
    return {};
  }

  Result<void> prepare() const override {
    if (auto r = base::write_file(layout_.conf_dir / "connect.properties",
                                  render_connect_properties(layout_));
        !r) {
      return r;
    }
    if (auto r = base::write_file(layout_.conf_dir / "log4j2.xml", render_log4j2_xml()); !r)
      return r;
    // The database password reaches the connector through Connect's FileConfigProvider.
    auto password =
        config::secret(layout_.settings, "postgres.password", "postgres.password", true);
    if (!password) return password.error();
    const auto file = layout_.connect_secrets_file();
    if (auto r = base::ensure_owned_dir(file.parent_path(), account(), fs::perms(0700)); !r)
      return r;
    if (auto r = base::write_file(file, render_properties({{"postgres.password", *password}}),
                                  fs::perms(0600));
        !r) {
      return r;
    }
    return base::ensure_owned_dir(file.parent_path(), account(), fs::perms(0700));
  }

  ProgramSpec program() const override {
    auto p = base_program();
    p.argv = connect_argv(layout_);
    return p;
  }
  Probe probe() const override { return probe_connect(layout_); }

  /// Creates or updates the Debezium connector (PUT is idempotent: the same config twice is
  /// harmless, a changed one is applied) and waits until it and its task run, restarting a
  /// failed task. Both can take a while after an unclean stop: a restarted worker answers 409
  /// until its group has rebalanced (the dead member's session must expire first), and a new
  /// task fails while PostgreSQL still holds the replication slot for the killed one.
  Result<void> after_ready() const override {
    if (!layout_.cdc_enabled) return {};
    auto client = rest();
    const auto path = "/connectors/" + layout_.cdc_connector;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(layout_.start_timeout_s);
    const auto config = render_debezium_config(layout_);
    auto put = [&] { return client.Put(path + "/config", config, "application/json"); };
    auto res = put();
    while ((!res || res->status == 409 || res->status >= 500) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      res = put();
    }
    if (!res)
      return make_error(Errc::unavailable,
                        "Kafka Connect did not answer the connector registration");
    if (res->status != 200 && res->status != 201) {
      return make_error(Errc::unavailable,
                        fmt::format("registering connector {} failed: HTTP {} {}",
                                    layout_.cdc_connector, res->status, res->body.substr(0, 500)));
    }
    std::fprintf(stdout, "  connect    connector %s %s (topic %s)\n", layout_.cdc_connector.c_str(),
                 res->status == 201 ? "registered" : "up to date", layout_.cdc_topic().c_str());
    // Capture works once the connector and its one task run (the task creates the slot).
    std::string states = connector_states();
    auto next_restart = std::chrono::steady_clock::now();
    auto backoff = std::chrono::seconds(2);
    int restarts = 0;  // a failure that outlives 5 restarts (~1 min) is not transient
    while (states != "RUNNING task0=RUNNING") {
      const auto now = std::chrono::steady_clock::now();
      if (states.find("FAILED") != std::string::npos) {
        if (now > deadline || (restarts == 5 && now >= next_restart)) {
          auto detail = client.Get(path + "/status");
          return make_error(Errc::unavailable,
                            "connector " + layout_.cdc_connector +
                                " failed: " + (detail ? detail->body.substr(0, 1500) : states));
        }
        if (now >= next_restart) {
          (void)client.Post(path + "/restart?includeTasks=true&onlyFailed=true");
          std::fprintf(stdout, "  connect    restarted failed connector tasks (%s)\n",
                       states.c_str());
          ++restarts;
          next_restart = now + backoff;
          backoff = std::min(backoff * 2, std::chrono::seconds(30));
        }
      } else if (now > deadline) {
        return make_error(Errc::timeout,
                          "connector " + layout_.cdc_connector + " is not running: " + states);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      states = connector_states();
    }
    return {};
  }

  std::string version() const override {
    auto v = connect_server_version(layout_);
    if (v.empty()) v = jar_version(layout_.kafka_libs, "connect-runtime-");
    return v + " + debezium " + debezium_version();
  }

  std::vector<std::pair<std::string, std::string>> facts() const override {
    if (!layout_.cdc_enabled) return {};
    std::vector<std::pair<std::string, std::string>> out;
    const auto states = connector_states();
    out.emplace_back("connector", states.empty() ? "not registered" : states);
    if (auto conn =
            io::Connection::open(postgres_admin_conninfo(layout_, layout_.postgres_database))) {
      auto slot = conn->exec(
          "SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM "
          "pg_replication_slots "
          "WHERE slot_name = $1",
          {layout_.cdc_slot});
      if (slot && slot->size() == 1) {
        out.emplace_back("slot",
                         layout_.cdc_slot + (slot->text(0, 0) == "t" ? " active" : " inactive"));
        out.emplace_back("slot_retained_wal_bytes", slot->is_null(0, 1) ? "0" : slot->text(0, 1));
      } else {
        out.emplace_back("slot", "missing");
      }
    }
    return out;
  }

 private:
  httplib::Client rest() const {
    httplib::Client client("127.0.0.1", layout_.ports.connect);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(30, 0);
    return client;
  }
  /// "connector=RUNNING task0=RUNNING", or "" when the connector is not registered.
  std::string connector_states() const {
    auto client = rest();
    auto res = client.Get("/connectors/" + layout_.cdc_connector + "/status");
    if (!res || res->status != 200) return "";
    auto doc = nlohmann::json::parse(res->body, nullptr, false);
    if (doc.is_discarded()) return "";
    std::string out = doc.value("/connector/state"_json_pointer, std::string("?"));
    for (const auto& t : doc.value("tasks", nlohmann::json::array())) {
      out += fmt::format(" task{}={}", t.value("id", 0), t.value("state", std::string("?")));
    }
    return out;
  }
  std::string debezium_version() const {
    return jar_version(layout_.connect_plugins / "debezium-connector-postgres",
                       "debezium-connector-postgres-");
  }
};

// ---------------------------------------------------------------------------------------------
/// Cassandra 5.0 from cassandra-all on Java 17, single node on loopback.
class CassandraService final : public Service {
 public:
  using Service::Service;
  std::string name() const override { return "cassandra"; }
  int wave() const override { return 0; }
  std::vector<NamedPort> ports() const override {
    return {{"cql", layout_.ports.cassandra},
            {"storage", layout_.ports.cassandra_storage},
            {"jmx", layout_.ports.cassandra_jmx}};
  }

  Result<void> check_installed() const override {
    if (auto r = check_java(); !r) return r;
    if (jar_version(layout_.cassandra_libs, "cassandra-all-").empty()) {
      return missing_jars("Cassandra", layout_.cassandra_libs);
    }
    return {};
  }

  Result<void> prepare() const override {
    if (auto r = base::ensure_owned_dir(layout_.cassandra_data, account()); !r) return r;
    if (auto r =
            base::write_file(layout_.conf_dir / "cassandra.yaml", render_cassandra_yaml(layout_));
        !r)
      return r;
    return base::write_file(layout_.conf_dir / "cassandra-logback.xml",
                            render_cassandra_logback_xml());
  }

  ProgramSpec program() const override {
    auto p = base_program();
    const auto jamm = jar_version(layout_.cassandra_libs, "jamm-");
    p.argv = cassandra_argv(
        layout_, jamm.empty() ? "" : (layout_.cassandra_libs / ("jamm-" + jamm + ".jar")).string());
    return p;
  }
  Probe probe() const override { return probe_cassandra(layout_); }
  std::string version() const override {
    return jar_version(layout_.cassandra_libs, "cassandra-all-");
  }

  /// Opens a CQL session through the bridge (the first real CQL round trip, so an open port
  /// that does not serve CQL fails `up` here) and applies the keyspace's CQL migrations.
  Result<void> after_ready() const override {
    auto session = connect_cql(std::chrono::seconds(layout_.start_timeout_s));
    if (!session) return session.error();
    auto applied =
        cql::apply_migrations(*session, layout_.cql_migrations_dir,
                              {layout_.cassandra_keyspace, layout_.cassandra_replication});
    if (!applied) return applied.error();
    for (const auto& v : *applied)
      std::fprintf(stdout, "  cassandra  applied migration V%s\n", v.c_str());
    return {};
  }

  std::vector<std::pair<std::string, std::string>> facts() const override {
    std::vector<std::pair<std::string, std::string>> out;
    out.emplace_back("keyspace", layout_.cassandra_keyspace);
    auto session = connect_cql(std::chrono::seconds(0));
    auto applied = session ? cql::applied_migrations(*session, layout_.cassandra_keyspace)
                           : Result<std::vector<cql::AppliedMigration>>(session.error());
    out.emplace_back("migrations_applied", applied ? std::to_string(applied->size())
                                                   : "unknown: " + applied.error().message);
    return out;
  }

 private:
  /// A CQL session to the local node. Right after start-up Cassandra may refuse or not answer
  /// yet: such attempts are repeated until `patience` is spent.
  Result<cql::Session> connect_cql(std::chrono::seconds patience) const {
    cql::ConnectOptions options;
    options.contact_point = layout_.cassandra_contact_point();
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (true) {
      auto session = cql::Session::connect(options);
      if (session) return session;
      const auto code = session.error().code;
      if ((code != Errc::unavailable && code != Errc::timeout) ||
          std::chrono::steady_clock::now() >= deadline) {
        return session;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
};

// ---------------------------------------------------------------------------------------------
/// The local randomuser.me-compatible API (`streamflow mock-api`), the default ingest source.
class MockApiService final : public Service {
 public:
  using Service::Service;
  std::string name() const override { return "mock-api"; }
  int wave() const override { return 0; }
  std::vector<NamedPort> ports() const override { return {{"http", layout_.ports.mock_api}}; }
  Result<void> check_installed() const override {
    if (layout_.self_exe.empty() || !fs::exists(layout_.self_exe)) {
      return make_error(Errc::failed_precondition,
                        "cannot find the streamflow binary to run the mock API");
    }
    return {};
  }
  Result<void> prepare() const override { return {}; }
  ProgramSpec program() const override {
    auto p = base_program();
    p.argv = {layout_.self_exe.string(),
              "mock-api",
              "--port",
              std::to_string(layout_.ports.mock_api),
              "--threads",
              std::to_string(layout_.mock_api_threads)};
    return p;
  }
  Probe probe() const override { return probe_mock_api(layout_); }
  std::string version() const override { return "streamflow " STREAMFLOW_VERSION; }
};

/// The PySpark Structured Streaming job (pipeline/spark): CDC topic -> Cassandra. Python runs
/// the driver and launches Spark's JVM as its child; the JVM exits when Python does (it watches
/// its stdin), so the process supervisord sees is the whole job.
class SparkService final : public Service {
 public:
  using Service::Service;
  std::string name() const override { return "spark"; }
  int wave() const override { return 2; }  // needs Kafka, and Cassandra with its tables
  std::vector<NamedPort> ports() const override {
    if (layout_.ports.spark_ui == 0) return {};
    return {{"ui", layout_.ports.spark_ui}};
  }
  Result<void> check_installed() const override {
    if (auto r = check_java(); !r) return r;
    const auto& j = layout_.spark;
    if (!fs::exists(j.python)) {
      return make_error(Errc::failed_precondition,
                        "no Python for the Spark job at " + j.python.string() +
                            ": run `make setup` (creates the venv with pyspark) or set "
                            "STREAMFLOW_SPARK_PYTHON");
    }
    if (!fs::exists(j.job_dir / "streamflow_stream" / "job.py")) {
      return make_error(Errc::failed_precondition,
                        "the Spark job is not in " + j.job_dir.string() +
                            " (streamflow_stream/job.py); set STREAMFLOW_SPARK_JOB_DIR");
    }
    if (jar_version(j.jars_dir, "spark-sql-kafka-0-10_2.12-").empty()) {
      return missing_jars("the Spark connectors", j.jars_dir);
    }
    return {};
  }
  Result<void> prepare() const override {
    // A progress file from an earlier run must not pass for this run's health.
    std::error_code ec;
    fs::remove(layout_.spark_progress_file(), ec);
    return base::ensure_owned_dir(layout_.spark_dir(), account());
  }
  ProgramSpec program() const override {
    const auto& j = layout_.spark;
    auto p = base_program();
    p.directory = j.job_dir.string();
    p.argv = {j.python.string(),
              "-m",
              "streamflow_stream.job",
              "--master",
              j.master,
              "--bootstrap",
              fmt::format("127.0.0.1:{}", layout_.ports.kafka),
              "--topic",
              layout_.cdc_topic(),
              "--dlq-topic",
              j.dlq_topic,
              "--cassandra-host",
              "127.0.0.1",
              "--cassandra-port",
              std::to_string(layout_.ports.cassandra),
              "--keyspace",
              layout_.cassandra_keyspace,
              "--checkpoint-dir",
              layout_.spark_checkpoints().string(),
              "--jars-dir",
              j.jars_dir.string(),
              "--driver-memory",
              j.driver_memory,
              "--ui-port",
              std::to_string(layout_.ports.spark_ui),
              "--trigger",
              j.trigger,
              "--analytics-trigger",
              j.analytics_trigger,
              "--watermark",
              j.watermark,
              "--max-offsets-per-trigger",
              std::to_string(j.max_offsets_per_trigger),
              "--shuffle-partitions",
              std::to_string(j.shuffle_partitions),
              "--write-batch-rows",
              std::to_string(j.write_batch_rows),
              "--write-concurrency",
              std::to_string(j.write_concurrency)};
    // Within supervisord's stopwaitsecs: a stop that hangs ends in the job's own kill.
    p.argv.insert(p.argv.end(),
                  {"--stop-timeout", std::to_string(std::max(5, layout_.stop_timeout_s / 2))});
    p.env = {{"JAVA_HOME", layout_.java.parent_path().parent_path().string()},
             {"PYTHONPATH", j.job_dir.string()},
             {"PYSPARK_PYTHON", j.python.string()},
             {"SPARK_LOCAL_IP", "127.0.0.1"},
             {"PYTHONUNBUFFERED", "1"},
             {"HOME", layout_.spark_dir().string()}};
    // SIGTERM to the driver only: it stops the queries between micro-batches, ends its JVM
    // (killing one that does not exit in time) and exits. A crash or SIGKILL is safe too: the
    // checkpoints replay what was cut short.
    p.stop_as_group = false;
    p.restart_on_exit = true;  // supervised: a crashed or killed job resumes from its checkpoint
    return p;
  }
  Probe probe() const override { return probe_spark(layout_); }
  std::string version() const override { return "pyspark " + pyspark_version(layout_); }
  std::vector<std::pair<std::string, std::string>> facts() const override {
    return spark_facts(layout_);
  }
};

/// `streamflow serve`: the REST API, dashboard and pipeline health (src/serve). Supervised:
/// it holds no state, so a crash is simply restarted.
class ServeService final : public Service {
 public:
  using Service::Service;
  std::string name() const override { return "serve"; }
  int wave() const override { return 3; }  // reports on every other stage
  std::vector<NamedPort> ports() const override { return {{"http", layout_.ports.serve}}; }
  Result<void> check_installed() const override {
    if (layout_.self_exe.empty() || !fs::exists(layout_.self_exe)) {
      return make_error(Errc::failed_precondition, "cannot find the streamflow binary to serve");
    }
    return {};
  }
  /// It reads the pipeline's PostgreSQL password as the service account.
  Result<void> prepare() const override { return share_secrets(); }
  ProgramSpec program() const override {
    auto p = base_program();
    // Its settings from the environment, like an Airflow task: exactly what `up` saw.
    p.argv = {layout_.self_exe.string(), "serve"};
    for (auto& kv : layout_.settings.as_environment(true)) p.env.push_back(std::move(kv));
    p.restart_on_exit = true;
    return p;
  }
  Probe probe() const override { return probe_serve(layout_); }
  std::string version() const override { return "streamflow " STREAMFLOW_VERSION; }
  std::vector<std::pair<std::string, std::string>> facts() const override {
    return {{"dashboard", layout_.serve_url()}};
  }
};

/// One of Airflow 3's four components, each its own supervisord program (the scheduler's
/// LocalExecutor and the api-server fork workers, so each is stopped as a process group).
/// The api-server comes first (wave 2): before it starts, `airflow db migrate` brings the
/// metadata database up to date; the other three follow once it answers (wave 3).
class AirflowService final : public Service {
 public:
  enum class Component { api_server, scheduler, dag_processor, triggerer };
  AirflowService(const Layout& layout, Component component)
      : Service(layout), component_(component) {}

  std::string name() const override {
    switch (component_) {
      case Component::api_server:
        return "airflow-api";
      case Component::scheduler:
        return "airflow-scheduler";
      case Component::dag_processor:
        return "airflow-dags";
      case Component::triggerer:
        return "airflow-triggerer";
    }
    return "airflow";
  }
  int wave() const override { return component_ == Component::api_server ? 2 : 3; }
  std::vector<NamedPort> ports() const override {
    if (component_ != Component::api_server) return {};
    return {{"http", layout_.ports.airflow}};
  }
  Result<void> check_installed() const override {
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
  Result<void> prepare() const override {
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
    auto run = base::run_command(as_service_user(argv), opts);
    if (!run) return run.error();
    if (run->exit_status != 0) {
      return make_error(Errc::unavailable, "airflow db migrate failed:\n" + run->output,
                        "service=airflow");
    }
    return {};
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
    p.restart_on_exit = true;
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

  Component component_;
};

}  // namespace

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

std::vector<std::unique_ptr<Service>> make_services(const Layout& layout) {
  std::vector<std::unique_ptr<Service>> out;
  out.push_back(std::make_unique<PostgresService>(layout));
  out.push_back(std::make_unique<KafkaService>(layout));
  out.push_back(std::make_unique<CassandraService>(layout));
  out.push_back(std::make_unique<ConnectService>(layout));
  if (layout.mock_api_enabled) out.push_back(std::make_unique<MockApiService>(layout));
  if (layout.spark.enabled) out.push_back(std::make_unique<SparkService>(layout));
  if (layout.serve_enabled) out.push_back(std::make_unique<ServeService>(layout));
  if (layout.airflow.enabled) {
    using C = AirflowService::Component;
    for (auto c : {C::api_server, C::scheduler, C::dag_processor, C::triggerer})
      out.push_back(std::make_unique<AirflowService>(layout, c));
  }
  return out;
}

}  // namespace streamflow::stack
