#include <fmt/format.h>

#include <ostream>

#include "stack/detail/service_factories.h"
#include "stack/probes.h"

namespace streamflow::stack::detail {

namespace {

/// `streamflow serve`: the REST API, dashboard and pipeline health (src/serve). Supervised:
/// it holds no state, so a crash is simply restarted.
struct ServeService final : Service {
  using Service::Service;

  /// It reads the pipeline's PostgreSQL password as the service account.
  Result<void> prepare(std::ostream&) const override { return share_secrets(); }
  ProgramSpec program() const override {
    auto p = base_program();
    // Its settings from the environment, like an Airflow task: exactly what `up` saw.
    p.argv = {layout_.self_exe.string(), "serve"};
    for (auto& kv : layout_.settings.as_environment(true)) p.env.push_back(std::move(kv));
    return p;
  }
  Probe probe() const override { return probe_serve(layout_); }
  std::string version() const override { return "streamflow " STREAMFLOW_VERSION; }
  std::vector<std::pair<std::string, std::string>> facts() const override {
    return {{"dashboard", layout_.serve_url()}};
  }
};

}  // namespace

std::unique_ptr<Service> make_serve(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<ServeService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
