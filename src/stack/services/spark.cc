#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "stack/detail/service_factories.h"
#include "stack/probes.h"

namespace streamflow::stack::detail {

namespace {

/// The PySpark Structured Streaming job (pipeline/spark): CDC topic -> Cassandra. Python runs
/// the driver and launches Spark's JVM as its child; the JVM exits when Python does (it watches
/// its stdin), so the process supervisord sees is the whole job.
struct SparkService final : Service {
  using Service::Service;

  Result<void> check_files() const override {
    const auto& j = layout_.spark;
    if (!fs::exists(j.python)) {
      return make_error(Errc::failed_precondition,
                        "no Python for the Spark job at " + j.python.string() +
                            ": run `make setup` (creates the venv with pyspark) or set "
                            "STREAMFLOW_SPARK_PYTHON");
    }
    if (!fs::exists(j.job_dir / "streamflow_stream" / "job.py")) {
      return make_error(Errc::failed_precondition,
                        "the Spark job is not in " + j.job_dir.string() +
                            " (streamflow_stream/job.py); set STREAMFLOW_SPARK_JOB_DIR");
    }
    return {};
  }
  Result<void> prepare(std::ostream&) const override {
    // A progress file from an earlier run must not pass for this run's health.
    std::error_code ec;
    fs::remove(layout_.spark_progress_file(), ec);
    return base::ensure_owned_dir(layout_.spark_dir(), account());
  }
  ProgramSpec program() const override {
    const auto& j = layout_.spark;
    auto p = base_program();
    p.directory = j.job_dir.string();
    p.argv = {j.python.string(),
              "-m",
              "streamflow_stream.job",
              "--master",
              layout_.spark_master_url(),
              "--bootstrap",
              layout_.kafka_bootstrap(),
              "--topic",
              layout_.cdc_topic(),
              "--dlq-topic",
              j.dlq_topic,
              "--format",
              layout_.cdc_format,
              "--registry-url",
              layout_.registry_url(),
              "--cassandra-host",
              cassandra_hosts(),
              "--cassandra-port",
              std::to_string(layout_.ports.cassandra),
              "--keyspace",
              layout_.cassandra_keyspace,
              "--checkpoint-dir",
              layout_.spark_checkpoints().string(),
              "--jars-dir",
              j.jars_dir.string(),
              "--driver-memory",
              j.driver_memory,
              "--ui-port",
              std::to_string(layout_.ports.spark_ui),
              "--trigger",
              j.trigger,
              "--analytics-trigger",
              j.analytics_trigger,
              "--watermark",
              j.watermark,
              "--max-offsets-per-trigger",
              std::to_string(j.max_offsets_per_trigger),
              "--shuffle-partitions",
              std::to_string(j.shuffle_partitions),
              "--write-batch-rows",
              std::to_string(j.write_batch_rows),
              "--write-concurrency",
              std::to_string(j.write_concurrency),
              "--stall-timeout",
              std::to_string(j.stall_timeout_s)};
    const auto& t = layout_.topology;
    if (!t.spark_masters.empty()) {
      // On the cluster's workers: one executor per worker, each with the worker's cores; their
      // Python workers import the job's package (its UDFs) from the same directory.
      const auto cores = t.spark_worker_cores;
      for (const auto& conf :
           {fmt::format("spark.executor.memory={}m", t.spark_executor_memory_mb),
            fmt::format("spark.executor.cores={}", cores),
            fmt::format("spark.cores.max={}", cores * static_cast<int>(t.spark_workers.size())),
            "spark.executorEnv.PYTHONPATH=" + j.job_dir.string(),
            "spark.executorEnv.PYSPARK_PYTHON=" + j.python.string()}) {
        p.argv.insert(p.argv.end(), {"--conf", conf});
      }
    }
    // Within supervisord's stopwaitsecs: a stop that hangs ends in the job's own kill.
    p.argv.insert(p.argv.end(),
                  {"--stop-timeout", std::to_string(std::max(5, layout_.stop_timeout_s / 2))});
    p.env = {{"JAVA_HOME", layout_.java.parent_path().parent_path().string()},
             {"PYTHONPATH", j.job_dir.string()},
             {"PYSPARK_PYTHON", j.python.string()},
             {"SPARK_LOCAL_IP", "127.0.0.1"},
             {"PYTHONUNBUFFERED", "1"},
             {"HOME", layout_.spark_dir().string()}};
    // SIGTERM to the driver only: it stops the queries between micro-batches, ends its JVM
    // (killing one that does not exit in time) and exits. A crash or SIGKILL is safe too: the
    // checkpoints replay what was cut short.
    p.stop_as_group = false;
    return p;
  }
  Probe probe() const override { return probe_spark(layout_); }

 private:
  /// Every Cassandra node's address (they share the CQL port).
  std::string cassandra_hosts() const {
    std::string out;
    for (const auto& n : layout_.topology.cassandra) out += (out.empty() ? "" : ",") + n.host;
    return out;
  }

 public:
  std::string version() const override { return "pyspark " + pyspark_version(layout_); }
  std::vector<std::pair<std::string, std::string>> facts() const override {
    return spark_facts(layout_);
  }
};

}  // namespace

std::unique_ptr<Service> make_spark(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<SparkService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
