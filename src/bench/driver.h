#pragma once
/// `streamflow bench`: runs the pipeline of the running stack at a chosen rate (or flat out)
/// for a chosen time and measures it: per-stage throughput from a sample every second (ingest
/// -> PostgreSQL, CDC -> Kafka, Spark -> Cassandra), end-to-end freshness of every user of the
/// run (PostgreSQL commit -> Cassandra writetime), resident memory and CPU of each service's
/// process tree, and, after the run, the baselines of this machine (PostgreSQL COPY, Kafka
/// produce, raw Cassandra writes of the same rows). Writes <out>/<name>.json and, through the
/// plot script, <name>.png.

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"
#include "deploy/layout.h"
#include "ingest/ingester.h"

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

/// A service of the running stack as the bench sees it: its state ("healthy", ...) and the root
/// of its process tree, whose memory and CPU are sampled.
struct ServiceProcess {
  std::string name;
  std::string state;
  std::optional<pid_t> pid;
};
/// The stack's services now (what `streamflow status` reports), handed in by the caller.
using ServiceLister = std::function<std::vector<ServiceProcess>()>;

/// Runs one benchmark against the stack `layout` describes (every service of `services` must be
/// healthy) and returns the document it wrote. `ingest` carries the API, batch size and
/// credentials; its count, continuous and rate fields are set here. `stop` (Ctrl-C) ends the
/// ingest phase early.
base::Result<nlohmann::json> run(const deploy::Layout& layout, ingest::Options ingest,
                                 const Options& options, const ServiceLister& services,
                                 const std::atomic<bool>& stop, std::ostream& progress);

/// "2 cores (model), 24 GiB RAM, Debian ..., kernel ..." as every bench/results file says it.
std::string machine_description();

}  // namespace streamflow::bench
