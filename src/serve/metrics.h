#pragma once
/// Prometheus `/metrics` for serve, written with prometheus-cpp: the pipeline's health (stages,
/// services, freshness, errors), the control room's looks at Kafka (brokers, partitions,
/// consumer lag, messages per second), the last reconcile, the alerts firing, and the server's
/// own requests. The alerting rules `streamflow alerts --rules` writes read these names.

#include <memory>
#include <string>
#include <vector>

#include "control/room.h"
#include "serve/health.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace streamflow::serve {

/// Requests by route and status, and per route two histograms: the latency (from the parsed
/// request to the answer written) and the wait before it (from the request's bytes being
/// ready to read to its handler: a worker, then the read and parse). Thread-safe (the
/// prometheus-cpp metrics are).
class RequestStats {
 public:
  RequestStats();
  ~RequestStats();
  static const std::vector<double>& buckets_s();
  /// `waited_s` below 0: not known (the request did not come through a KeepAliveServer).
  void record(const std::string& route, int status, double seconds, double waited_s = -1);
  const prometheus::Registry& registry() const { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Family<prometheus::Histogram>* wait_;
};

/// The text exposition (format 0.0.4) of one health snapshot, the control room's figures and
/// the requests so far.
std::string render_metrics(const HealthSnapshot& health, const control::ControlMetrics& control,
                           const RequestStats& requests);

}  // namespace streamflow::serve
