#pragma once
/// `streamflow mock-api`: a randomuser.me-compatible HTTP API on loopback, with fault
/// injection for tests. GET /api/ (also /api/1.4/, /api/1.3/ and /api/1.2/), /health, /stats.
/// The server owns its thread pool; start() returns once it accepts connections.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
}

namespace streamflow::mockapi {

/// Faults, each a probability per request (records: per record), for tests.
struct Faults {
  double fail_rate = 0;        ///< answer 500 or 503
  double rate_limit_rate = 0;  ///< answer 429 with Retry-After
  int retry_after_s = 1;
  int latency_ms = 0;          ///< added to every request
  double truncate_rate = 0;    ///< body cut short (still HTTP-complete)
  double malformed_rate = 0;   ///< body that is not JSON
  double error_body_rate = 0;  ///< HTTP 200 with {"error": ...}, as the real API sometimes does
  double bad_record_rate = 0;  ///< records with a missing or mistyped field
  std::uint64_t seed = 0;      ///< 0: from the clock
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8787;
  int threads = 8;
  Faults faults;
};

/// Counters, served at /stats so that tests can check which faults really happened.
struct Stats {
  std::atomic<std::uint64_t> requests{0}, records{0}, failed{0}, rate_limited{0}, truncated{0},
      malformed{0}, error_bodies{0};
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts serving on a background thread. Fails (conflict) when the port is taken:
  /// we check first, because cpp-httplib's SO_REUSEPORT would otherwise share the port silently.
  base::Result<void> start();
  /// Stops accepting, finishes requests in flight, joins the server thread. Idempotent.
  void stop();
  const Stats& stats() const { return stats_; }

 private:
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  Stats stats_;
  std::mutex rng_mu_;
  std::uint64_t rng_state_;
  double roll();
};

}  // namespace streamflow::mockapi
