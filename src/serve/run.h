#pragma once
/// `streamflow serve` as a whole: the Cassandra store (its aggregates cached for a refresh
/// period), the health monitor, the API handlers and the HTTP server, run until asked to stop.

#include <atomic>
#include <ostream>
#include <string>

#include "base/result.h"
#include "control/room.h"
#include "deploy/layout.h"
#include "serve/health.h"
#include "serve/server.h"

namespace streamflow::serve {

struct RunOptions {
  ServeOptions server;
  std::string pg_conninfo;  ///< the pipeline's PostgreSQL (staging counts, rejects)
  int refresh_ms = 1000;    ///< health sampling period and aggregate cache lifetime
  control::ControlOptions control;
};

/// Starts everything, says where it listens on `out`, and serves until `stop` becomes true;
/// an error when the server cannot start (a bad address, a taken port, a missing token).
base::Result<void> run_until(const deploy::Layout& layout, const RunOptions& options,
                             ServiceProber prober, const std::atomic<bool>& stop,
                             std::ostream& out);

}  // namespace streamflow::serve
