// `streamflow serve`: the REST API, the dashboard, pipeline health and /metrics.

#include <iostream>

#include "apps/command.h"
#include "base/process.h"
#include "config/secrets.h"
#include "serve/run.h"
#include "stack/services.h"

namespace streamflow::apps {
namespace {

struct Serve final : Command {
  std::optional<std::string> host;
  std::optional<int> port;

  int run(const config::Settings& settings) override {
    // First, before any thread exists: each thread serve starts inherits it.
    if (auto r = base::set_niceness(static_cast<int>(settings.get_int("serve.nice"))); !r)
      std::cerr << "serve: " << r.error().message << "; keeping the inherited priority\n";
    // Under `up` as root it starts real-time already (chrt); by hand it asks for it itself.
    const bool realtime = settings.get_bool("serve.realtime");
    if (realtime != base::is_realtime()) {
      if (auto r = base::set_realtime(realtime); !r)
        std::cerr << "serve: " << r.error().message << "; keeping the normal policy at nice "
                  << settings.get_int("serve.nice") << "\n";
    }
    auto loaded = deploy::Layout::load(settings);
    if (!loaded) return report(loaded.error());
    const auto layout = std::move(*loaded);
    auto conninfo = config::pipeline_conninfo(settings, "streamflow-serve");
    if (!conninfo) return report(conninfo.error());
    serve::RunOptions options;
    options.pg_conninfo = *conninfo;
    options.refresh_ms = static_cast<int>(settings.get_int("serve.refresh_ms"));
    options.server.host = host.value_or(settings.get("serve.host"));
    options.server.port = port.value_or(static_cast<int>(settings.get_int("serve.port")));
    options.server.threads = static_cast<int>(settings.get_int("serve.threads"));
    options.server.token = settings.get("serve.token");
    options.server.web_dir = settings.get_path("serve.web_dir");
    // The control room's actions need a token even on loopback: serve.token, else the one
    // `up` generated (made here if serve runs by hand before any `up`).
    auto action_token = config::secret(settings, "serve.token", "serve.token", true);
    if (!action_token) return report(action_token.error());
    options.server.action_token = *action_token;
    options.control.pg_conninfo = *conninfo;
    options.control.sample_ms = static_cast<int>(settings.get_int("control.sample_ms"));
    options.control.message_limit = static_cast<int>(settings.get_int("control.message_limit"));
    options.control.thresholds = control::AlertThresholds::from_settings(settings);
    options.control.audit_file = layout.state_dir / "serve" / "audit.log";
    options.control.dlq_topic = settings.get("spark.dlq_topic");
    options.control.watchdog = settings.get_bool("cdc.watchdog");
    options.control.watchdog_options.stall_timeout_ms =
        settings.get_int("cdc.stall_timeout_s") * 1000;
    // The services' health, as the stack's own probes see it (and Connect's facts: the
    // connector and the replication slot).
    serve::ServiceProber prober = [layout] {
      std::vector<serve::ServiceReading> out;
      for (auto& h : stack::probe_services(layout, {"connect"}))
        out.push_back({h.name, h.healthy, h.detail, std::move(h.facts)});
      return out;
    };
    StopSignal stop;
    auto r = serve::run_until(layout, options, std::move(prober), stop.flag(), std::cout);
    return r ? 0 : report(r.error());
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("--host", host, "address (default: serve.host, loopback)");
    cmd.add_option("--port", port, "port (default: serve.port)")->check(CLI::Range(1, 65535));
    cmd.footer(R"(Started by `up`; run it by hand for another port or address. Server-sent
events stream the live figures; the API is described at GET /api/v1/openapi.json. A
non-loopback --host needs STREAMFLOW_SERVE_TOKEN; clients then send
Authorization: Bearer <token>.)");
  }
};

[[maybe_unused]] const bool kServeRegistered = register_command<Serve>(
    {120, "serve", "the REST API, the live dashboard, pipeline health and Prometheus /metrics"});

}  // namespace
}  // namespace streamflow::apps
