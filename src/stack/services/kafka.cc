#include "io/kafka.h"

#include <fmt/format.h>

#include <chrono>
#include <ostream>
#include <thread>

#include "base/random.h"
#include "stack/detail/service_factories.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack::detail {

namespace {

/// A Kafka cluster id: 16 random bytes, base64url. Never starting with '-': the format tool's
/// argument parser would take it for an option (Kafka's own Uuid.randomUuid() avoids those ids
/// for the same reason). Seen: 1 start in 64.
std::string new_cluster_id() {
  auto id = base::base64url(base::random_bytes(16));
  while (id.front() == '-') id = base::base64url(base::random_bytes(16));
  return id;
}

/// One Kafka node in KRaft mode, both broker and controller: the single layout's one, or one of
/// a cluster's, every node a voter of one static quorum.
struct KafkaService final : Service {
  using Service::Service;

  Result<void> prepare(std::ostream& out) const override {
    const auto data = layout_.kafka_data(node());
    if (auto r = base::ensure_owned_dir(data.parent_path(), account()); !r) return r;
    const auto config = node_config(layout_, "kafka", node(), ".properties");
    if (auto r = base::write_file(config, render_kafka_properties(layout_, node())); !r) return r;
    if (auto r = base::write_file(layout_.conf_dir / "log4j2.xml", render_log4j2_xml()); !r)
      return r;
    if (fs::exists(data / "meta.properties")) return {};
    // First start only: format the log directory. One node formats a standalone quorum with a
    // fresh cluster id; the nodes of a cluster share one id (kept beside their directories)
    // and the static voters of their config.
    std::vector<std::string> argv = {
        layout_.java.string(),
        "-Xmx256m",
        "-Dlog4j2.configurationFile=" + (layout_.conf_dir / "log4j2.xml").string(),
        "-cp",
        (layout_.kafka_libs / "*").string(),
        "kafka.tools.StorageTool",
        "format"};
    std::string cluster_id;
    if (layout_.topology.kafka.size() == 1) {
      cluster_id = new_cluster_id();
      argv.push_back("--standalone");
    } else {
      const auto id_file = layout_.state_dir / "kafka-cluster.id";
      auto kept = base::read_file(id_file);
      if (kept && !kept->empty()) {
        cluster_id = kept->substr(0, kept->find_first_of("\r\n"));
      } else {
        cluster_id = new_cluster_id();
        if (auto r = base::write_file(id_file, cluster_id + "\n"); !r) return r;
      }
    }
    out << "  " << fmt::format("{:<10} ", name()) << "first start: formatting storage (cluster id "
        << cluster_id << ")" << std::endl;
    argv.insert(argv.end(), {"-t", cluster_id, "-c", config.string()});
    return run_step("formatting Kafka storage", argv);
  }

  ProgramSpec program() const override {
    auto p = base_program();
    p.argv = kafka_argv(layout_, node());
    return p;
  }
  Probe probe() const override { return probe_kafka(layout_, node()); }
  std::string version() const override { return jar_version(layout_.kafka_libs, "kafka_2.13-"); }

  /// The pipeline's topics exist before anything consumes them: the CDC topic (otherwise made
  /// by Debezium's first change event) and the dead-letter topic, replicated as the topology
  /// says. In a cluster the last node makes them, once every broker has joined.
  Result<void> after_ready(std::ostream& out) const override {
    const auto& t = layout_.topology;
    if (node().id != t.kafka.back().id) return {};
    std::vector<io::TopicSpec> topics;
    const auto isr = std::to_string(t.kafka_min_insync_replicas);
    for (const auto& [wanted, topic] :
         {std::pair{layout_.cdc_enabled, layout_.cdc_topic()},
          std::pair{layout_.spark.enabled, layout_.spark.dlq_topic}}) {
      if (!wanted) continue;
      topics.push_back({topic,
                        layout_.kafka_partitions,
                        t.kafka_replication_factor,
                        {{"min.insync.replicas", isr}}});
    }
    if (topics.empty()) return {};
    // A topic of replication 3 cannot be made until three brokers have registered.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(layout_.start_timeout_s);
    auto created = io::ensure_topics(layout_.kafka_bootstrap(), topics);
    while (!created && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      created = io::ensure_topics(layout_.kafka_bootstrap(), topics);
    }
    if (!created) return created.error();
    for (const auto& topic : *created) {
      out << "  " << fmt::format("{:<10} ", name()) << "created topic " << topic << " ("
          << layout_.kafka_partitions << " partitions, replication " << t.kafka_replication_factor
          << ")" << std::endl;
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<Service> make_kafka(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<KafkaService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
