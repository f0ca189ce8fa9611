#include <fmt/format.h>

#include <chrono>
#include <ostream>
#include <thread>

#include "cql/cql.h"
#include "cql/migrations.h"
#include "stack/detail/service_factories.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack::detail {

namespace {

/// Cassandra 5.0 from cassandra-all on Java 17: the single node, or one node of a ring (each
/// joins once the previous one is up: services.cc orders them).
struct CassandraService final : Service {
  using Service::Service;

  Result<void> prepare(std::ostream&) const override {
    if (auto r = base::ensure_owned_dir(layout_.cassandra_data(node()), account()); !r) return r;
    if (auto r = base::write_file(node_config(layout_, "cassandra", node(), ".yaml"),
                                  render_cassandra_yaml(layout_, node()));
        !r)
      return r;
    return base::write_file(layout_.conf_dir / "cassandra-logback.xml",
                            render_logback_xml("Cassandra"));
  }

  ProgramSpec program() const override {
    auto p = base_program();
    const auto jamm = jar_version(layout_.cassandra_libs, "jamm-");
    p.argv = cassandra_argv(
        layout_, node(),
        jamm.empty() ? "" : (layout_.cassandra_libs / ("jamm-" + jamm + ".jar")).string());
    return p;
  }
  Probe probe() const override { return probe_cassandra(layout_, node()); }
  std::string version() const override {
    return jar_version(layout_.cassandra_libs, "cassandra-all-");
  }

  /// Opens a CQL session through the bridge (the first real CQL round trip, so an open port
  /// that does not serve CQL fails `up` here) and applies the keyspace's CQL migrations.
  /// In a ring, the last node does it, once every node has joined.
  Result<void> after_ready(std::ostream& out) const override {
    if (node().id != layout_.topology.cassandra.back().id) return {};
    auto session = connect_cql(std::chrono::seconds(layout_.start_timeout_s));
    if (!session) return session.error();
    auto applied =
        cql::apply_migrations(*session, layout_.cql_migrations_dir,
                              {layout_.cassandra_keyspace, layout_.cassandra_replication});
    if (!applied) return applied.error();
    for (const auto& v : *applied)
      out << "  " << fmt::format("{:<10} ", name()) << "applied migration V" << v << std::endl;
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
  /// A CQL session to the ring (the local node in the single layout). Right after start-up
  /// Cassandra may refuse or not answer yet: such attempts are repeated until `patience` is spent.
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

}  // namespace

std::unique_ptr<Service> make_cassandra(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<CassandraService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
