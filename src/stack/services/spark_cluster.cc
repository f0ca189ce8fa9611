#include <fmt/format.h>

#include <ostream>

#include "stack/detail/service_factories.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack::detail {

namespace {

/// A Spark standalone daemon of the cluster layout, run from pyspark's own jars: a master (one
/// leads, the other stands by, through ZooKeeper) or a worker (the job's executors run on it).
struct SparkDaemonService final : Service {
  SparkDaemonService(const Layout& layout, ServiceSpec spec, bool master)
      : Service(layout, std::move(spec)), master_(master) {}

  Result<void> check_files() const override {
    if (spark_home(layout_).empty()) {
      return make_error(Errc::failed_precondition,
                        "no pyspark in the venv of " + layout_.spark.python.string() +
                            ": run `make setup` (the Spark daemons run from pyspark's jars)");
    }
    return {};
  }

  Result<void> prepare(std::ostream&) const override {
    const auto dir = layout_.node_dir(master_ ? "spark-master" : "spark-worker", node());
    if (auto r = base::ensure_owned_dir(dir, account()); !r) return r;
    if (master_) return {};
    return base::ensure_owned_dir(dir / "work", account());
  }

  ProgramSpec program() const override {
    auto p = base_program();
    const auto home = spark_home(layout_);
    p.argv = master_ ? spark_master_argv(layout_, node(), home)
                     : spark_worker_argv(layout_, node(), home);
    p.directory = layout_.node_dir(master_ ? "spark-master" : "spark-worker", node()).string();
    // A worker starts the executors with SPARK_HOME's jars and binds them to its own address;
    // their Python workers are the job's venv. Spark's launcher looks for a source build's
    // directories to learn its Scala version unless it is told (pyspark's jars are 2.12).
    p.env = {
        {"SPARK_HOME", home.string()},
        {"SPARK_SCALA_VERSION", "2.12"},
        {"SPARK_LOCAL_IP", node().host},
        {"JAVA_HOME", layout_.java.parent_path().parent_path().string()},
        {"PYSPARK_PYTHON", layout_.spark.python.string()},
        {"HOME", layout_.node_dir(master_ ? "spark-master" : "spark-worker", node()).string()}};
    return p;
  }
  Probe probe() const override {
    return master_ ? probe_spark_master(layout_, node()) : probe_spark_worker(layout_, node());
  }
  std::string version() const override { return "pyspark " + pyspark_version(layout_); }

 private:
  bool master_;
};

}  // namespace

std::unique_ptr<Service> make_spark_master(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<SparkDaemonService>(layout, std::move(spec), true);
}

std::unique_ptr<Service> make_spark_worker(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<SparkDaemonService>(layout, std::move(spec), false);
}

}  // namespace streamflow::stack::detail
