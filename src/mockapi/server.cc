#include "mockapi/server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <map>

#include "base/log.h"
#include "io/http_server.h"
#include "mockapi/generator.h"

namespace streamflow::mockapi {

Server::Server(ServerOptions options) : options_(std::move(options)) {
  rng_state_ =
      options_.faults.seed
          ? options_.faults.seed
          : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

Server::~Server() { stop(); }

double Server::roll() {
  std::lock_guard lock(rng_mu_);
  std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

base::Result<void> Server::start() {
  http_ = io::make_http_server(options_.threads);
  http_->set_payload_max_length(1 << 20);

  auto api = [this](const httplib::Request& req, httplib::Response& res,
                    const std::string& version) {
    stats_.requests++;
    const Faults& f = options_.faults;
    if (f.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(f.latency_ms));
    if (roll() < f.rate_limit_rate) {
      stats_.rate_limited++;
      res.status = 429;
      res.set_header("Retry-After", std::to_string(f.retry_after_s));
      res.set_content(R"({"error":"Too many requests"})", "application/json");
      return;
    }
    if (roll() < f.fail_rate) {
      stats_.failed++;
      res.status = (stats_.failed % 2) ? 503 : 500;
      res.set_content("<html><body>Service temporarily unavailable</body></html>", "text/html");
      return;
    }
    if (roll() < f.error_body_rate) {
      stats_.error_bodies++;
      res.set_content(
          R"({"error":"Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."})",
          "application/json");
      return;
    }
    std::multimap<std::string, std::string> params(req.params.begin(), req.params.end());
    auto query = Query::from_params(params);
    if (!query) {
      res.status = 400;
      res.set_content(fmt::format(R"({{"error":"{}"}})", query.error().message),
                      "application/json");
      return;
    }
    query->version = version;
    query->bad_record_rate = f.bad_record_rate;
    std::string body = generate(*query);
    stats_.records += static_cast<std::uint64_t>(query->results);
    if (roll() < f.malformed_rate) {
      stats_.malformed++;
      // Structural garbage right after the opening of the results array: never inside a string,
      // so the body is never accidentally still valid JSON.
      body.insert(std::min(body.size(), std::string_view("{\"results\":[").size()),
                  "<<not json>>,");
    } else if (roll() < f.truncate_rate) {
      stats_.truncated++;
      body.resize(body.size() / 3);
    }
    res.set_content(std::move(body), "application/json; charset=utf-8");
  };
  http_->Get("/api", [api](const auto& req, auto& res) { api(req, res, "1.4"); });
  http_->Get("/api/", [api](const auto& req, auto& res) { api(req, res, "1.4"); });
  http_->Get("/api/1.4/", [api](const auto& req, auto& res) { api(req, res, "1.4"); });
  http_->Get("/api/1.3/", [api](const auto& req, auto& res) { api(req, res, "1.3"); });
  http_->Get("/api/1.2/", [api](const auto& req, auto& res) { api(req, res, "1.2"); });
  http_->Get("/health", [](const auto&, auto& res) { res.set_content("ok\n", "text/plain"); });
  http_->Get("/stats", [this](const auto&, auto& res) {
    res.set_content(
        fmt::format(R"({{"requests":{},"records":{},"failed":{},"rate_limited":{},"truncated":{},)"
                    R"("malformed":{},"error_bodies":{}}})",
                    stats_.requests.load(), stats_.records.load(), stats_.failed.load(),
                    stats_.rate_limited.load(), stats_.truncated.load(), stats_.malformed.load(),
                    stats_.error_bodies.load()),
        "application/json");
  });
  http_->Get("/", [](const auto&, auto& res) {
    res.set_content(
        "StreamFlow mock randomuser API. GET /api/?results=5000&seed=abc&page=1&nat=us,gb\n",
        "text/plain");
  });

  return io::listen_in_background(*http_, options_.host, options_.port, thread_);
}

void Server::stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace streamflow::mockapi
