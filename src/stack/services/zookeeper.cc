#include <fmt/format.h>

#include <ostream>

#include "stack/detail/service_factories.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack::detail {

namespace {

/// One node of the ZooKeeper ensemble (cluster layout): where the Spark masters elect their
/// leader and keep what a standby recovers from.
struct ZooKeeperService final : Service {
  using Service::Service;

  Result<void> prepare(std::ostream&) const override {
    const auto data = layout_.node_dir("zookeeper", node()) / "data";
    if (auto r = base::ensure_owned_dir(data, account()); !r) return r;
    if (auto r = base::write_file(node_config(layout_, "zookeeper", node(), ".cfg"),
                                  render_zookeeper_cfg(layout_, node()));
        !r)
      return r;
    if (auto r = base::write_file(data / "myid", std::to_string(node().id) + "\n"); !r) return r;
    return base::write_file(layout_.conf_dir / "zookeeper-logback.xml",
                            render_logback_xml("ZooKeeper"));
  }

  ProgramSpec program() const override {
    auto p = base_program();
    p.argv = zookeeper_argv(layout_, node());
    return p;
  }
  Probe probe() const override { return probe_zookeeper(layout_, node()); }
  std::string version() const override { return jar_version(layout_.zookeeper_libs, "zookeeper-"); }
};

}  // namespace

std::unique_ptr<Service> make_zookeeper(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<ZooKeeperService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
