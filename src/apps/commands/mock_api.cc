// `streamflow mock-api`: the local randomuser.me-compatible API, until stopped.

#include <cstdio>
#include <tuple>

#include "apps/command.h"
#include "base/net.h"
#include "mockapi/server.h"

namespace streamflow::apps {
namespace {

struct MockApi final : Command {
  mockapi::ServerOptions options;
  std::optional<int> port;
  std::optional<int> threads;

  int run(const config::Settings& settings) override {
    if (!base::is_loopback_host(options.host)) {
      return report(base::make_error(base::Errc::invalid_argument,
                                     "the mock API listens on loopback only, not " + options.host));
    }
    options.port = port.value_or(static_cast<int>(settings.get_int("mock_api.port")));
    options.threads = threads.value_or(static_cast<int>(settings.get_int("mock_api.threads")));
    StopSignal stop;
    mockapi::Server server(options);
    if (auto r = server.start(); !r) return report(r.error());
    std::printf("mock-api listening on http://%s:%d/api/ (Ctrl-C stops it)\n", options.host.c_str(),
                options.port);
    std::fflush(stdout);
    stop.wait();
    server.stop();
    return 0;
  }
  void add_options(CLI::App& cmd) override {
    auto& f = options.faults;
    cmd.add_option("--host", options.host, "address to listen on (loopback only)")
        ->capture_default_str();
    cmd.add_option("--port", port, "port (default: setting mock_api.port)");
    cmd.add_option("--threads", threads, "worker threads (default: setting mock_api.threads)");
    cmd.add_option("--retry-after", f.retry_after_s, "Retry-After seconds on 429")
        ->check(CLI::Range(0, 600));
    cmd.add_option("--latency-ms", f.latency_ms, "latency added to every request")
        ->check(CLI::Range(0, 600000));
    // The faults that strike a fraction of requests or records.
    const std::tuple<const char*, double*, const char*> rates[] = {
        {"--fail-rate", &f.fail_rate, "fraction of requests answered 500/503"},
        {"--rate-limit-rate", &f.rate_limit_rate, "fraction answered 429 with Retry-After"},
        {"--truncate-rate", &f.truncate_rate, "fraction of bodies cut short"},
        {"--malformed-rate", &f.malformed_rate, "fraction of bodies that are not JSON"},
        {"--error-body-rate", &f.error_body_rate, "fraction answered 200 with {\"error\": ...}"},
        {"--bad-record-rate", &f.bad_record_rate,
         "fraction of records with a mistyped or malformed field, or no uuid"},
    };
    for (const auto& [flag, rate, help] : rates)
      cmd.add_option(flag, *rate, help)->check(CLI::Range(0.0, 1.0));
    cmd.add_option("--fault-seed", f.seed, "seed of the fault dice (0: from the clock)");
    cmd.footer(R"(Serves /api/, /api/1.4/, /api/1.3/ and /api/1.2/, with results, seed, page,
nat, gender, inc, exc and noinfo. The fault options inject failures for tests.)");
  }
};

[[maybe_unused]] const bool kMockApiRegistered = register_command<MockApi>(
    {80, "mock-api", "serve a randomuser.me-compatible API on loopback until stopped"});

}  // namespace
}  // namespace streamflow::apps
