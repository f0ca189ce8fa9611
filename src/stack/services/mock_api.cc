#include <fmt/format.h>

#include <ostream>

#include "stack/detail/service_factories.h"
#include "stack/probes.h"

namespace streamflow::stack::detail {

namespace {

/// The local randomuser.me-compatible API (`streamflow mock-api`), the default ingest source.
struct MockApiService final : Service {
  using Service::Service;

  Result<void> prepare(std::ostream&) const override { return {}; }
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

}  // namespace

std::unique_ptr<Service> make_mock_api(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<MockApiService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
