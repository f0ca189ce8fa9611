#include "observe/pipeline.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "cql/cql.h"
#include "io/kafka.h"
#include "io/pg.h"

namespace streamflow::observe {

std::string thousands(std::int64_t v) {
  const auto digits = std::to_string(v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string count(const std::optional<std::int64_t>& v) { return v ? thousands(*v) : "?"; }

namespace {

std::optional<std::int64_t> pg_count(io::Connection& conn, const std::string& sql) {
  auto r = conn.exec(sql);
  if (!r || r->size() == 0 || r->is_null(0, 0)) return std::nullopt;
  return std::stoll(r->text(0, 0));
}

std::string rate(const std::optional<std::int64_t>& now,
                 const std::optional<PipelineCounts>& before,
                 std::optional<std::int64_t> PipelineCounts::*field, double seconds) {
  if (!now || !before || !((*before).*field) || seconds <= 0) return "";
  const double r = static_cast<double>(*now - *((*before).*field)) / seconds;
  return fmt::format(" (+{}/s)", thousands(static_cast<std::int64_t>(r + 0.5)));
}

}  // namespace

struct PipelineReader::Handles {
  std::optional<io::Connection> pg;
  std::optional<cql::Session> cql;
};

PipelineReader::PipelineReader(const Layout& layout, std::string pg_conninfo)
    : layout_(layout),
      pg_conninfo_(std::move(pg_conninfo)),
      handles_(std::make_unique<Handles>()) {}

PipelineReader::~PipelineReader() = default;

PipelineCounts PipelineReader::read() {
  const Layout& l = layout_;
  PipelineCounts c;
  if (!handles_->pg) {
    if (auto conn = io::Connection::open(pg_conninfo_)) handles_->pg.emplace(std::move(*conn));
  }
  if (handles_->pg) {
    // Kept by triggers (migration V006): count(*) over a million rows every second cost a third
    // of a core.
    c.staging_users = pg_count(*handles_->pg, "SELECT staging.users_count()");
    c.staging_rejects = pg_count(*handles_->pg, "SELECT count(*) FROM staging.user_rejects");
    c.failed_batches = pg_count(
        *handles_->pg, "SELECT count(*) FROM staging.ingest_batches WHERE status = 'failed'");
    if (!c.staging_users) handles_->pg.reset();  // reconnect next time
  }
  const auto bootstrap = l.kafka_bootstrap();
  if (auto e = io::topic_end_offsets(bootstrap, l.cdc_topic())) c.cdc_events = *e;
  if (l.spark.enabled) {
    if (auto e = io::topic_end_offsets(bootstrap, l.spark.dlq_topic)) c.dead_letters = *e;
    std::ifstream in(l.spark_progress_file());
    auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded() && doc.contains("queries") && doc["queries"].contains("users")) {
      const auto& q = doc["queries"]["users"];
      const auto& t = q["totals"];
      if (t.contains("upserted")) c.spark_upserted = t["upserted"].get<std::int64_t>();
      if (t.contains("deleted")) c.spark_deleted = t["deleted"].get<std::int64_t>();
      if (q.contains("batch_ms") && q["batch_ms"].is_number())
        c.spark_batch_ms = q["batch_ms"].get<std::int64_t>();
      if (t.contains("last_commit_ms") && t["last_commit_ms"].is_number())
        c.spark_last_commit_ms = t["last_commit_ms"].get<std::int64_t>();
      if (t.contains("last_written_ms") && t["last_written_ms"].is_number())
        c.spark_last_written_ms = t["last_written_ms"].get<std::int64_t>();
      if (q.contains("end_offsets") && q["end_offsets"].is_array()) {
        std::int64_t sum = 0;
        for (const auto& source : q["end_offsets"])
          for (const auto& [topic, partitions] : source.items())
            for (const auto& [p, off] : partitions.items())
              if (off.is_number()) sum += off.get<std::int64_t>();
        c.spark_consumed = sum;
      }
    }
  }
  if (!handles_->cql) {
    cql::ConnectOptions options;
    options.contact_point = l.cassandra_contact_point();
    options.connect_timeout_ms = 2000;
    options.request_timeout_ms = 3000;
    if (auto session = cql::Session::connect(options)) handles_->cql.emplace(std::move(*session));
  }
  if (handles_->cql) {
    auto rows = handles_->cql->query("SELECT sum(users) FROM " + l.cassandra_keyspace +
                                     ".users_per_country WHERE scope = 'all'");
    if (!rows) {
      handles_->cql.reset();  // reconnect next time
    } else if (!rows->rows.empty() && rows->rows[0][0]) {
      c.cassandra_users = std::stoll(*rows->rows[0][0]);
    } else {
      c.cassandra_users = 0;
    }
  }
  return c;
}

std::string format_pipeline_counts(const PipelineCounts& c, const std::optional<PipelineCounts>& b,
                                   double s) {
  std::string out;
  out += fmt::format(
      "  ingest     {} users in PostgreSQL staging{} · {} rejected\n", count(c.staging_users),
      rate(c.staging_users, b, &PipelineCounts::staging_users, s), count(c.staging_rejects));
  out += fmt::format("  cdc        {} change events on the CDC topic{}\n", count(c.cdc_events),
                     rate(c.cdc_events, b, &PipelineCounts::cdc_events, s));
  out += fmt::format(
      "  spark      {} users written since the job started{} · {} deleted · last batch {} · {} "
      "dead letters\n",
      count(c.spark_upserted), rate(c.spark_upserted, b, &PipelineCounts::spark_upserted, s),
      count(c.spark_deleted), c.spark_batch_ms ? thousands(*c.spark_batch_ms) + " ms" : "?",
      count(c.dead_letters));
  out += fmt::format("  cassandra  {} users{}\n", count(c.cassandra_users),
                     rate(c.cassandra_users, b, &PipelineCounts::cassandra_users, s));
  return out;
}

void watch_pipeline(const Layout& layout, const std::string& pg_conninfo, double interval_s,
                    int ticks, const std::atomic<bool>& stop, std::ostream& out) {
  PipelineReader reader(layout, pg_conninfo);
  std::optional<PipelineCounts> before;
  auto last = std::chrono::steady_clock::now();
  for (int tick = 0; !stop && (ticks == 0 || tick < ticks); ++tick) {
    if (tick > 0) {
      const auto until = last + std::chrono::duration<double>(interval_s);
      while (!stop && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (stop) break;
    }
    const auto now = std::chrono::steady_clock::now();
    auto counts = reader.read();
    const double seconds = std::chrono::duration<double>(now - last).count();
    const std::time_t wall = std::time(nullptr);
    char stamp[16];
    std::strftime(stamp, sizeof(stamp), "%H:%M:%S", std::localtime(&wall));
    out << stamp << '\n' << format_pipeline_counts(counts, before, seconds) << std::flush;
    before = counts;
    last = now;
  }
}

}  // namespace streamflow::observe
