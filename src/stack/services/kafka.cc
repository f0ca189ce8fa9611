#include "io/kafka.h"

#include <fmt/format.h>

#include <ostream>

#include "base/random.h"
#include "stack/detail/service_factories.h"
#include "stack/probes.h"
#include "stack/render.h"

namespace streamflow::stack::detail {

namespace {

/// Kafka in KRaft mode: one process that is both broker and controller.
struct KafkaService final : Service {
  using Service::Service;

  Result<void> prepare(std::ostream& out) const override {
    if (auto r = base::ensure_owned_dir(layout_.kafka_data.parent_path(), account()); !r) return r;
    if (auto r = base::write_file(layout_.conf_dir / "kafka.properties",
                                  render_kafka_properties(layout_));
        !r)
      return r;
    if (auto r = base::write_file(layout_.conf_dir / "log4j2.xml", render_log4j2_xml()); !r)
      return r;
    if (fs::exists(layout_.kafka_data / "meta.properties")) return {};
    // First start only: format the log directory with a fresh cluster id (standalone quorum).
    // Never starting with '-': the format tool's argument parser would take it for an option
    // (Kafka's own Uuid.randomUuid() avoids those ids for the same reason). Seen: 1 start in 64.
    auto cluster_id = base::base64url(base::random_bytes(16));
    while (cluster_id.front() == '-') cluster_id = base::base64url(base::random_bytes(16));
    out << "  kafka      first start: formatting storage (cluster id " << cluster_id << ")"
        << std::endl;
    return run_step(
        "formatting Kafka storage",
        {layout_.java.string(), "-Xmx256m",
         "-Dlog4j2.configurationFile=" + (layout_.conf_dir / "log4j2.xml").string(), "-cp",
         (layout_.kafka_libs / "*").string(), "kafka.tools.StorageTool", "format", "--standalone",
         "-t", cluster_id, "-c", (layout_.conf_dir / "kafka.properties").string()});
  }

  ProgramSpec program() const override {
    auto p = base_program();
    p.argv = kafka_argv(layout_);
    return p;
  }
  Probe probe() const override { return probe_kafka(layout_); }
  std::string version() const override { return jar_version(layout_.kafka_libs, "kafka_2.13-"); }

  /// The pipeline's topics exist before anything consumes them: the CDC topic (otherwise made
  /// by Debezium's first change event) and the dead-letter topic.
  Result<void> after_ready(std::ostream& out) const override {
    std::vector<io::TopicSpec> topics;
    if (layout_.cdc_enabled)
      topics.push_back({layout_.cdc_topic(), layout_.kafka_partitions, 1, {}});
    if (layout_.spark.enabled)
      topics.push_back({layout_.spark.dlq_topic, layout_.kafka_partitions, 1, {}});
    if (topics.empty()) return {};
    auto created = io::ensure_topics(fmt::format("127.0.0.1:{}", layout_.ports.kafka), topics);
    if (!created) return created.error();
    for (const auto& t : *created) {
      out << "  kafka      created topic " << t << " (" << layout_.kafka_partitions
          << " partitions)" << std::endl;
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<Service> make_kafka(const Layout& layout, ServiceSpec spec) {
  return std::make_unique<KafkaService>(layout, std::move(spec));
}

}  // namespace streamflow::stack::detail
