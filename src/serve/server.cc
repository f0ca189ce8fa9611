#include "serve/server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <regex>

#include "base/net.h"
#include "io/http_server.h"
#include "serve/control_routes.h"
#include "serve/http_glue.h"
#include "serve/openapi_json.h"

namespace streamflow::serve {

namespace {

thread_local std::chrono::steady_clock::time_point request_start;
thread_local double request_waited_s = -1;  ///< before its handler; below 0: not known

}  // namespace

const std::string& openapi_document() {
  static const std::string kDoc = kOpenApiJson;
  return kDoc;
}

std::string route_of(const std::string& path) {
  static const std::vector<std::string> kExact = {"/api/v1/users",
                                                  "/api/v1/totals",
                                                  "/api/v1/signups",
                                                  "/api/v1/countries/top",
                                                  "/api/v1/coordinates",
                                                  "/api/v1/health",
                                                  "/api/v1/stream",
                                                  "/api/v1/openapi.json",
                                                  "/metrics",
                                                  "/healthz"};
  for (const auto& r : kExact)
    if (path == r) return r;
  if (path.rfind("/api/v1/users/", 0) == 0) return "/api/v1/users/{id}";
  if (path.rfind("/api/v1/control/", 0) == 0) {
    // Names and numbers in the path are one route each, so /metrics stays small.
    static const std::vector<std::pair<std::regex, std::string>> kPatterns = {
        {std::regex(R"(/api/v1/control/connect/connectors/[^/]+/tasks/[^/]+/restart)"),
         "/api/v1/control/connect/connectors/{name}/tasks/{task}/restart"},
        {std::regex(R"(/api/v1/control/connect/connectors/[^/]+/(pause|resume))"),
         "/api/v1/control/connect/connectors/{name}/$1"},
        {std::regex(R"(/api/v1/control/schemas/[^/]+/versions/[^/]+)"),
         "/api/v1/control/schemas/{subject}/versions/{version}"},
        {std::regex(R"(/api/v1/control/schemas/[^/]+/diff)"),
         "/api/v1/control/schemas/{subject}/diff"},
        {std::regex(R"(/api/v1/control/(kafka/brokers|kafka/topics|kafka/messages|consumers|)"
                    R"(connect|schemas|spark|cassandra|postgres|alerts|audit))"),
         "/api/v1/control/$1"}};
    for (const auto& [re, route] : kPatterns) {
      std::smatch m;
      if (std::regex_match(path, m, re)) return m.format(route);
    }
    return "/api/(unknown)";
  }
  if (path.rfind("/api/", 0) == 0) return "/api/(unknown)";
  return "/(static)";
}

Server::Server(ServeOptions options, Api& api, HealthMonitor& monitor, RequestStats& stats,
               control::ControlRoom& control)
    : options_(std::move(options)),
      api_(api),
      monitor_(monitor),
      stats_(stats),
      control_(control) {}

Server::~Server() { stop(); }

base::Result<void> Server::start() {
  if (!base::is_loopback_host(options_.host) && options_.token.empty()) {
    return base::make_error(base::Errc::invalid_argument,
                            "serving on " + options_.host +
                                " (not loopback) needs an access token: set "
                                "STREAMFLOW_SERVE_TOKEN",
                            "serve.host");
  }
  http_ = io::make_http_server(options_.threads);
  http_->set_payload_max_length(1 << 16);

  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = std::chrono::steady_clock::now();
    const auto ready = io::request_ready_at();
    request_waited_s = ready == std::chrono::steady_clock::time_point{}
                           ? -1
                           : std::chrono::duration<double>(request_start - ready).count();
    if (options_.token.empty() || req.path == "/healthz")
      return httplib::Server::HandlerResponse::Unhandled;
    // The control room's actions check the token themselves (it is then this one) and record
    // a refusal in the audit log: a refusal here would go unrecorded.
    if (req.method == "POST" && req.path.rfind("/api/v1/control/connect/connectors/", 0) == 0)
      return httplib::Server::HandlerResponse::Unhandled;
    std::string given;
    const auto auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
    if (given.empty() && req.has_param("access_token")) given = req.get_param_value("access_token");
    if (is_action_token(given, options_.token)) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(
        R"json({"error":"an access token is required (Authorization: Bearer <token>)"})json",
        "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Route, status and latency only: never a query string (it may carry the token).
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request_start).count();
    stats_.record(route_of(req.path), res.status, s, request_waited_s);
  });

  auto& api = api_;
  http_->Get("/healthz", [](const auto&, auto& res) { res.set_content("ok\n", "text/plain"); });
  // Read-only: any other method on any path is a 405 (the error handler says why).
  // The control room's reads, and its actions (the only writes, each with the action token).
  add_control_routes(*http_, control_, options_.action_token);
  const auto read_only = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET");
  };
  http_->Post(".*", read_only);
  http_->Put(".*", read_only);
  http_->Patch(".*", read_only);
  http_->Delete(".*", read_only);
  http_->Get(R"(/api/v1/users/([^/]+))",
             [&api](const auto& req, auto& res) { send(res, api.user(req.matches[1])); });
  http_->Get("/api/v1/users",
             [&api](const auto& req, auto& res) { send(res, api.users(query_of(req))); });
  http_->Get("/api/v1/totals", [&api](const auto&, auto& res) { send(res, api.totals()); });
  http_->Get("/api/v1/signups",
             [&api](const auto& req, auto& res) { send(res, api.signups(query_of(req))); });
  http_->Get("/api/v1/countries/top",
             [&api](const auto& req, auto& res) { send(res, api.top_countries(query_of(req))); });
  http_->Get("/api/v1/coordinates",
             [&api](const auto& req, auto& res) { send(res, api.coordinates(query_of(req))); });
  http_->Get("/api/v1/health", [&api](const auto&, auto& res) { send(res, api.health()); });
  http_->Get("/api/v1/openapi.json", [](const auto&, auto& res) {
    res.set_content(openapi_document(), "application/json");
  });
  http_->Get("/metrics", [this](const auto&, auto& res) {
    res.set_content(render_metrics(monitor_.latest().first, control_.metrics(), stats_),
                    "text/plain; version=0.0.4");
  });
  // Live updates: one `snapshot` event per health sample (about every second), carrying the
  // health and the totals, and a comment line every 15 s of silence to keep proxies open.
  http_->Get("/api/v1/stream", [this](const auto&, auto& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, seen = std::uint64_t{0}](std::size_t, httplib::DataSink& sink) mutable {
          if (stopping_) {
            sink.done();
            return false;
          }
          const auto seq = monitor_.wait_newer(seen, 15000);
          if (stopping_ || monitor_.stopped()) {
            sink.done();
            return false;
          }
          std::string msg;
          if (seq == seen) {
            msg = ": keep-alive\n\n";
          } else {
            seen = seq;
            nlohmann::json payload = {{"health", monitor_.latest().first.to_json()}};
            const auto totals = api_.totals();
            payload["totals"] =
                totals.status == 200 ? nlohmann::json::parse(totals.body) : nlohmann::json(nullptr);
            msg = "event: snapshot\ndata: " + payload.dump() + "\n\n";
          }
          return sink.write(msg.data(), msg.size());
        });
  });
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already said what went wrong
    if (res.status == 404 && req.path.rfind("/api/", 0) == 0) {
      res.set_content(R"({"error":"no such endpoint; see /api/v1/openapi.json"})",
                      "application/json");
    } else if (res.status == 405) {
      res.set_content(
          R"json({"error":"method not allowed: the API is read-only (GET), but for the control room's actions (POST)"})json",
          "application/json");
    } else if (res.status == 404) {
      res.set_content(R"({"error":"not found"})", "application/json");
    }
  });
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(nlohmann::json({{"error", what}}).dump(), "application/json");
      });
  if (!options_.web_dir.empty() && std::filesystem::exists(options_.web_dir / "index.html")) {
    http_->set_mount_point("/", options_.web_dir.string());
  } else {
    const auto where = options_.web_dir.string();
    http_->Get("/", [where](const auto&, auto& res) {
      res.set_content("StreamFlow serve: the dashboard is not built (no " + where +
                          "/index.html). Run `make build`. The API is at /api/v1/ "
                          "(/api/v1/openapi.json).\n",
                      "text/plain");
    });
  }

  return io::listen_in_background(*http_, options_.host, options_.port, thread_);
}

void Server::stop() {
  stopping_ = true;
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace streamflow::serve
