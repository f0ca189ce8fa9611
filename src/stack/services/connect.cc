#include "io/connect.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ostream>
#include <thread>

#include "config/secrets.h"
#include "io/pg.h"
#include "io/registry.h"
#include "stack/detail/service_factories.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack::detail {

namespace {

/// Kafka Connect in distributed mode with the Debezium PostgreSQL plugin; registers the
/// connector that captures staging.users.
struct ConnectService final : Service {
  using Service::Service;

  /// How long a stop may take before supervisord kills the worker (seconds; at most
  /// stack.stop_timeout_s).
  static constexpr int kStopWaitS = 15;

  /// cdc.format says which converter the connector writes with; Avro needs the registry.
  Result<void> check_files() const override {
    if (!layout_.cdc_enabled) return {};
    if (layout_.cdc_format != "avro" && layout_.cdc_format != "json") {
      return make_error(Errc::invalid_argument,
                        "cdc.format must be avro or json, not '" + layout_.cdc_format + "'");
    }
    if (!layout_.cdc_avro()) return {};
    if (!layout_.registry.enabled) {
      return make_error(Errc::invalid_argument,
                        "cdc.format=avro needs the schema registry, and registry.enabled is "
                        "false: enable the registry, or set cdc.format=json");
    }
    const auto converter = layout_.connect_plugins / "apicurio-avro-converter";
    if (!fs::exists(converter)) {
      return make_error(Errc::failed_precondition,
                        "Connect's Avro converter is missing: no " + converter.string() +
                            ". Run `make setup` to resolve it from Maven Central");
    }
    return {};
  }

  Result<void> prepare(std::ostream&) const override {
    if (auto r = base::write_file(node_config(layout_, "connect", node(), ".properties"),
                                  render_connect_properties(layout_, node()));
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
    p.argv = connect_argv(layout_, node());
    // A worker's REST server is stopped twice at shutdown, by the worker's own hook and by
    // Jetty's, and when the two race the worker waits out the server's graceful-stop timeout
    // (60 s, fixed in Connect) before it stops its tasks. A clean stop takes 2-3 s (a task
    // gets task.shutdown.graceful.timeout.ms, 5 s): past kStopWaitS it is that race, and the
    // SIGKILL that ends it loses nothing (a change's offset commits in its transaction).
    p.stop_wait_s = std::min(p.stop_wait_s, kStopWaitS);
    return p;
  }
  Probe probe() const override { return probe_connect(layout_, node()); }

  /// Creates or updates the Debezium connector (PUT is idempotent: the same config twice is
  /// harmless, a changed one is applied) and waits until it and its task run, restarting a
  /// failed task. Both can take a while after an unclean stop: a restarted worker answers 409
  /// until its group has rebalanced (the dead member's session must expire first), and a new
  /// task fails while PostgreSQL still holds the replication slot for the killed one.
  /// Workers of one group share the connector: the last of them registers it.
  Result<void> after_ready(std::ostream& out) const override {
    if (!layout_.cdc_enabled || node().id != layout_.topology.connect.back().id) return {};
    auto client = rest();
    const auto& name = layout_.cdc_connector;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(layout_.start_timeout_s);
    const auto config = render_debezium_config(layout_);
    if (layout_.cdc_avro()) {
      // The converter registers the schemas when the first event goes out: a registry that
      // is still starting would fail the task.
      io::RegistryClient registry("127.0.0.1", layout_.ports.registry);
      auto level = registry.compatibility();
      while (!level && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        level = registry.compatibility();
      }
      if (!level) {
        return make_error(Errc::unavailable,
                          "the connector writes Avro, and the schema registry "
                          "does not answer at " +
                              layout_.registry_url() + ": " + level.error().message);
      }
    }
    auto res = client.put_config(name, config);
    while ((!res || res->status == 409 || res->status >= 500) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      res = client.put_config(name, config);
    }
    if (!res) return res.error();
    if (res->status != 200 && res->status != 201) {
      return make_error(Errc::unavailable,
                        fmt::format("registering connector {} failed: HTTP {} {}", name,
                                    res->status, res->body.substr(0, 500)));
    }
    out << "  " << fmt::format("{:<10} ", this->name()) << "connector " << name
        << (res->status == 201 ? " registered" : " up to date") << " (topic " << layout_.cdc_topic()
        << ")" << std::endl;
    // Capture works once the connector and its one task run (the task creates the slot).
    std::string states = connector_states(client);
    auto next_restart = std::chrono::steady_clock::now();
    auto backoff = std::chrono::seconds(2);
    int restarts = 0;  // a failure that outlives 5 restarts (~1 min) is not transient
    while (states != "RUNNING task0=RUNNING") {
      const auto now = std::chrono::steady_clock::now();
      if (states.find("FAILED") != std::string::npos) {
        if (now > deadline || (restarts == 5 && now >= next_restart)) {
          auto detail = client.get("/connectors/" + name + "/status");
          return make_error(
              Errc::unavailable,
              "connector " + name + " failed: " + (detail ? detail->body.substr(0, 1500) : states));
        }
        if (now >= next_restart) {
          (void)client.restart_failed(name);
          out << "  " << fmt::format("{:<10} ", this->name())
              << "restarted failed connector tasks (" << states << ")" << std::endl;
          ++restarts;
          next_restart = now + backoff;
          backoff = std::min(backoff * 2, std::chrono::seconds(30));
        }
      } else if (now > deadline) {
        return make_error(Errc::timeout, "connector " + name + " is not running: " + states);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      states = connector_states(client);
    }
    return {};
  }

  std::string version() const override {
    auto client = rest();
    auto v = client.version();
    if (v.empty()) v = jar_version(layout_.kafka_libs, "connect-runtime-");
    return v + " + debezium " + debezium_version();
  }

  std::vector<std::pair<std::string, std::string>> facts() const override {
    if (!layout_.cdc_enabled) return {};
    std::vector<std::pair<std::string, std::string>> out;
    auto client = rest();
    auto state = client.state(layout_.cdc_connector);
    out.emplace_back("connector", state ? state->summary() : "not registered");
    // A refused schema (Avro), a lost slot: why, without reading Connect's log.
    if (state && !state->failure.empty()) {
      out.emplace_back("failure", state->failure);
      if (auto advice = io::failure_advice(state->failure); !advice.empty())
        out.emplace_back("next", advice);
    }
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
  io::ConnectClient rest() const {
    return io::ConnectClient(node().host, layout_.ports.connect, 30);
  }
  /// "RUNNING task0=RUNNING", or "" when the connector is not registered or Connect is away.
  std::string connector_states(io::ConnectClient& client) const {
    auto state = client.state(layout_.cdc_connector);
    return state ? state->summary() : "";
  }
  std::string debezium_version() const {
    return jar_version(layout_.connect_plugins / "debezium-connector-postgres",
                       "debezium-connector-postgres-");
  }
};

}  // namespace

std::unique_ptr<Service> make_connect(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<ConnectService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
