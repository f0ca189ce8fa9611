// `streamflow alerts`: the control room's alerts, as serve evaluates them, or its rules as a
// Prometheus alerting-rules file.

#include "control/alerts.h"

#include <httplib.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "deploy/layout.h"

namespace streamflow::apps {
namespace {

struct Alerts final : Command {
  bool rules = false;
  bool json = false;

  int run(const config::Settings& settings) override {
    const auto thresholds = control::AlertThresholds::from_settings(settings);
    if (rules) {
      std::cout << control::prometheus_rules(thresholds);
      return 0;
    }
    auto layout = deploy::Layout::load(settings);
    if (!layout) return report(layout.error());
    httplib::Client client(layout->single_host(), layout->ports.serve);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(5, 0);
    httplib::Headers headers;
    if (!settings.get("serve.token").empty())
      headers.emplace("Authorization", "Bearer " + settings.get("serve.token"));
    auto res = client.Get("/api/v1/control/alerts", headers);
    if (!res || res->status != 200) {
      return report({base::Errc::unavailable,
                     "serve does not answer on " + layout->serve_url() +
                         ": start the stack (`streamflow up`), or see `streamflow logs serve`",
                     "service=serve"});
    }
    const auto doc = nlohmann::json::parse(res->body, nullptr, false);
    if (json) {
      std::cout << doc.dump() << std::endl;
    } else if (doc.value("firing", nlohmann::json::array()).empty()) {
      std::cout << "no alert firing\n";
    } else {
      for (const auto& a : doc["firing"])
        std::cout << a.value("severity", "") << "  " << a.value("rule", "")
                  << (a.value("subject", "").empty() ? "" : " (" + a.value("subject", "") + ")")
                  << ": " << a.value("summary", "") << "\n";
    }
    return doc.value("firing", nlohmann::json::array()).empty() ? 0 : 1;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_flag("--rules", rules,
                 "print the rules as a Prometheus alerting-rules file (thresholds from the "
                 "alerts.* settings) instead of asking serve");
    cmd.add_flag("--json", json, "print serve's answer as one JSON document");
    cmd.footer(R"(Exit status: 0 nothing firing, 1 an alert fires, 69 serve does not answer.
The rules file shipped in deploy/prometheus/streamflow-alerts.yml is `--rules` with the
default settings: load it into a Prometheus that scrapes serve's /metrics.)");
  }
};

[[maybe_unused]] const bool kAlertsRegistered = register_command<Alerts>(
    {125, "alerts", "the control room's alerts firing now, or their Prometheus rules (--rules)"});

}  // namespace
}  // namespace streamflow::apps
