#pragma once
/// `streamflow bench`: runs the pipeline of the running stack at a chosen rate (or flat out)
/// for a chosen time and measures it: per-stage throughput from a sample every second (ingest
/// -> PostgreSQL, CDC -> Kafka, Spark -> Cassandra), end-to-end freshness of every user of the
/// run (PostgreSQL commit -> Cassandra writetime), resident memory and CPU of each service's
/// process tree, and, after the run, the baselines of this machine (PostgreSQL COPY, Kafka
/// produce, raw Cassandra writes of the same rows). Writes <out>/<name>.json and, through the
/// plot script, <name>.png.

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "base/result.h"
#include "ingest/ingester.h"
#include "stack/layout.h"

namespace streamflow::bench {

struct Options {
  double seconds = 60;  ///< how long ingest runs
  double rate = 0;      ///< users/s (0: flat out)
  std::string name = "pipeline";
  std::filesystem::path out_dir = "bench/results";
  bool baselines = true;
  std::int64_t baseline_rows = 50000;
  std::filesystem::path plot_script;  ///< empty: no chart
  double catchup_timeout_s = 900;
  /// The two halves of the pipeline one after the other instead of together: the capture half
  /// (ingest -> PostgreSQL -> Debezium -> Kafka) with the Spark job paused (SIGSTOP, so that
  /// its JIT stays warm), then the process half (Spark -> Cassandra) draining what the capture
  /// left on the topic with nothing else moving. Each half's CPU per user, by service, and the
  /// highest sustained rate those costs leave room for on this machine's cores.
  bool stages_apart = false;
  double target_rate = 10000;  ///< users/s the stages-apart figures are set against
};

/// Runs one benchmark against the stack `layout` describes (it must be up) and returns the
/// document it wrote. `ingest` carries the API, batch size and credentials; its count,
/// continuous and rate fields are set here. `stop` (Ctrl-C) ends the ingest phase early.
base::Result<nlohmann::json> run(const stack::Layout& layout, ingest::Options ingest,
                                 const Options& options, const std::atomic<bool>& stop,
                                 std::ostream& progress);

/// "2 cores (model), 24 GiB RAM, Debian ..., kernel ..." as every bench/results file says it.
std::string machine_description();

}  // namespace streamflow::bench
