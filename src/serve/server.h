#pragma once
/// `streamflow serve`: the HTTP front of the pipeline. REST JSON API (api.h), pipeline health,
/// Prometheus /metrics, server-sent events for live updates, the OpenAPI description and the
/// dashboard's static files, on cpp-httplib. Binds loopback by default; any other address
/// needs an access token, asked for on every request but /healthz.

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"
#include "control/room.h"
#include "serve/api.h"
#include "serve/health.h"
#include "serve/metrics.h"

namespace httplib {
class Server;
}

namespace streamflow::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8090;
  int threads = 16;   ///< each open event stream holds one
  std::string token;  ///< empty: no token (loopback only)
  /// What the control room's actions need (serve.token, else the one `up` generates into the
  /// state's secrets); empty: actions are refused.
  std::string action_token;
  std::filesystem::path web_dir;  ///< the built dashboard (index.html and assets)
};

/// The route name a path is counted under in /metrics ("/api/v1/users/{id}").
std::string route_of(const std::string& path);
/// The OpenAPI 3 description of the API (compiled in from openapi.json).
const std::string& openapi_document();

/// Owns the HTTP server and its listening thread. start() once, stop() once (or destroy).
class Server {
 public:
  Server(ServeOptions options, Api& api, HealthMonitor& monitor, RequestStats& stats,
         control::ControlRoom& control);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// conflict when the port is taken; invalid_argument for a non-loopback bind without token.
  base::Result<void> start();
  void stop();

 private:
  ServeOptions options_;
  Api& api_;
  HealthMonitor& monitor_;
  RequestStats& stats_;
  control::ControlRoom& control_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace streamflow::serve
