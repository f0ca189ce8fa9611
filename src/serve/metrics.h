#pragma once
/// Prometheus text exposition (format 0.0.4) of the pipeline's health and of the server's own
/// requests. Rendering is pure; RequestStats is the thread-safe tally the server keeps.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "serve/health.h"

namespace streamflow::serve {

/// Requests by route and status, and a latency histogram per route. Thread-safe.
class RequestStats {
 public:
  static const std::vector<double>& buckets_s();
  void record(const std::string& route, int status, double seconds);

  struct Route {
    std::map<int, std::uint64_t> by_status;
    std::vector<std::uint64_t> buckets;  ///< cumulative counts per bucket bound
    std::uint64_t count = 0;
    double sum_s = 0;
  };
  std::map<std::string, Route> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Route> routes_;
};

/// Escapes a label value (backslash, quote, newline).
std::string label_value(const std::string& v);

std::string render_metrics(const HealthSnapshot& health,
                           const std::map<std::string, RequestStats::Route>& requests);

}  // namespace streamflow::serve
