#include <fmt/format.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "base/fs.h"
#include "config/secrets.h"
#include "stack/detail/service_factories.h"
#include "stack/probes.h"

namespace streamflow::stack::detail {

namespace {

/// `streamflow serve`: the REST API, dashboard and pipeline health (src/serve). Supervised:
/// it holds no state, so a crash is simply restarted.
struct ServeService final : Service {
  using Service::Service;

  /// It reads the pipeline's PostgreSQL password and the action token (generated here once;
  /// `status` shows it) as the service account, and appends to its audit log.
  Result<void> prepare(std::ostream&) const override {
    if (auto t = config::secret(layout_.settings, "serve.token", "serve.token", true); !t)
      return t.error();
    if (auto r = share_secrets(); !r) return r;
    return base::ensure_owned_dir(layout_.state_dir / "serve", account(), fs::perms(0750));
  }
  ProgramSpec program() const override {
    auto p = base_program();
    // Its settings from the environment, like an Airflow task: exactly what `up` saw.
    p.argv = {layout_.self_exe.string(), "serve"};
    for (auto& kv : layout_.settings.as_environment(true)) p.env.push_back(std::move(kv));
    if (auto who = account()) {
      // Started as the service account, serve could not raise its own priority (serve.nice):
      // it starts as root at the highest priority (nice adds to the inherited value: -39
      // reaches -20 from anywhere), becomes the service account, then lowers it to serve.nice
      // itself, which any account may. With serve.realtime it also starts under SCHED_RR
      // (chrt), which the service account could not enter. chrt, nice and setpriv all exec,
      // so the pid supervisord watches and signals is serve's.
      p.user.clear();
      p.argv.insert(p.argv.begin(),
                    {"nice", "-n", "-39", "setpriv", fmt::format("--reuid={}", who->uid),
                     fmt::format("--regid={}", who->gid), "--init-groups", "--"});
      if (layout_.settings.get_bool("serve.realtime"))
        p.argv.insert(p.argv.begin(), {"chrt", "--rr", "1"});
    }
    return p;
  }
  Probe probe() const override { return probe_serve(layout_); }
  std::string version() const override { return "streamflow " STREAMFLOW_VERSION; }
  std::vector<std::pair<std::string, std::string>> facts() const override {
    std::vector<std::pair<std::string, std::string>> facts = {
        {"dashboard", layout_.serve_url()}, {"control room", layout_.serve_url() + "#control"}};
    // What the control room's actions need (shown here, never logged).
    if (auto t = config::secret(layout_.settings, "serve.token", "serve.token", false); t)
      facts.emplace_back("action token", *t);
    facts.emplace_back("alerts", alerts_summary());
    return facts;
  }

  /// The alerts serve's control room has firing, in one line ("none" when all is well).
  std::string alerts_summary() const {
    httplib::Client client(layout_.single_host(), layout_.ports.serve);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(3, 0);
    httplib::Headers headers;
    if (!layout_.settings.get("serve.token").empty())
      headers.emplace("Authorization", "Bearer " + layout_.settings.get("serve.token"));
    auto res = client.Get("/api/v1/control/alerts", headers);
    if (!res || res->status != 200) return "unknown (serve did not answer)";
    const auto doc = nlohmann::json::parse(res->body, nullptr, false);
    if (!doc.is_object() || !doc.contains("firing") || !doc["firing"].is_array()) return "unknown";
    if (doc["firing"].empty()) return "none firing";
    std::string out = std::to_string(doc["firing"].size()) + " firing:";
    for (const auto& a : doc["firing"]) {
      out += " " + a.value("rule", std::string("?"));
      if (!a.value("subject", std::string()).empty())
        out += "(" + a.value("subject", std::string()) + ")";
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Service> make_serve(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<ServeService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
