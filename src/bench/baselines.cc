#include "bench/baselines.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ingest/rows.h"
#include "io/kafka.h"
#include "io/pg.h"
#include "mockapi/generator.h"
#include "model/decode.h"
#include "model/id_hash.h"
#include "observe/pipeline.h"

namespace streamflow::bench {

using base::Errc;
using base::make_error;
using Clock = std::chrono::steady_clock;

base::Result<BaselineInput> baseline_input(std::int64_t rows, const std::string& id_hash_key) {
  BaselineInput in;
  model::IdHasher hasher(id_hash_key);
  for (int page = 1; static_cast<std::int64_t>(in.users.size()) < rows; ++page) {
    mockapi::Query q;
    q.results = static_cast<int>(std::min<std::int64_t>(5000, rows - in.users.size()));
    q.seed = "streamflow-bench-baseline";
    q.page = page;
    q.trap_rate = 0;
    const auto& fields = mockapi::all_fields();
    q.fields.insert(fields.begin(), fields.end());
    const auto body = mockapi::generate(q);
    auto batch = model::decode_response(body, hasher);
    if (!batch) return batch.error();
    if (batch->users.empty()) {
      return make_error(Errc::internal, "the generator's page had no valid user for the baseline");
    }
    for (auto& u : batch->users) in.users.push_back(std::move(u));
    const auto doc = nlohmann::json::parse(body);
    for (const auto& r : doc["results"]) in.records.push_back(r.dump());
  }
  return in;
}

base::Result<double> postgres_copy_rate(const std::string& conninfo, const BaselineInput& in) {
  auto conn = io::Connection::open(conninfo);
  if (!conn) return conn.error();
  if (auto r = conn->exec("CREATE TEMP TABLE bench_copy (LIKE staging.users INCLUDING DEFAULTS)");
      !r) {
    return r.error();
  }
  // Built first, so that only PostgreSQL is timed: one COPY per 5,000 rows, as ingest does.
  std::vector<std::string> chunks;
  const auto batch_id = ingest::derived_uuid("streamflow-bench-baseline");
  for (std::size_t i = 0; i < in.users.size(); i += 5000) {
    std::string buf;
    ingest::copy_binary_header(buf);
    for (std::size_t j = i; j < std::min(in.users.size(), i + 5000); ++j) {
      ingest::append_user_row_binary(buf, in.users[j], batch_id);
    }
    ingest::copy_binary_trailer(buf);
    chunks.push_back(std::move(buf));
  }
  const auto sql =
      fmt::format("COPY bench_copy ({}) FROM STDIN (FORMAT binary)", ingest::kUserColumns);
  const auto t0 = Clock::now();
  for (const auto& c : chunks) {
    if (auto r = conn->copy_in(sql, c); !r) return r.error();
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(in.users.size()) / s;
}

/// The run's records sent to a topic of their own, deleted afterwards: each run would otherwise
/// leave its whole input (hundreds of MB in a full run) on the broker until retention.
base::Result<double> kafka_produce_rate(const deploy::Layout& l, const BaselineInput& in,
                                        std::ostream& progress) {
  const auto bootstrap = l.kafka_bootstrap();
  const auto topic = l.cdc_topic_prefix + ".bench";
  // One replica, as the topic's own setting: a cluster's brokers default to two in sync.
  if (auto r = io::ensure_topics(bootstrap,
                                 {{topic, l.kafka_partitions, 1, {{"min.insync.replicas", "1"}}}});
      !r) {
    return r.error();
  }
  auto r = io::produce_all(bootstrap, topic, in.records);
  if (auto d = io::delete_topics(bootstrap, {topic}); !d) {
    progress << fmt::format("bench: warning: topic {} is left on the broker: {}\n", topic,
                            d.error().describe());
  }
  if (!r) return r.error();
  return static_cast<double>(r->messages) / r->seconds;
}

/// The run's users, read back, written again by one client (prepared INSERTs, 64 in flight) to
/// a copy of the users table in keyspace streamflow_bench, dropped afterwards. The copy has the
/// table's secondary indexes too (the SAI index on country_code): like for like with what the
/// pipeline's writes cost Cassandra. (Until the cost issue, it had none.)
base::Result<double> cassandra_write_rate(cql::Session& session, const std::string& ks,
                                          std::int64_t rows) {
  auto cols =
      session.query("SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = '" +
                    ks + "' AND table_name = 'users'");
  if (!cols) return cols.error();
  std::string ddl, names, markers;
  for (const auto& r : cols->rows) {
    ddl += fmt::format("{} {}, ", *r[0], *r[1]);
    names += (names.empty() ? "" : ", ") + *r[0];
    markers += markers.empty() ? "?" : ", ?";
  }
  for (const auto& stmt :
       {std::string("CREATE KEYSPACE IF NOT EXISTS streamflow_bench WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
        "CREATE TABLE IF NOT EXISTS streamflow_bench.users (" + ddl + "PRIMARY KEY (user_id))"}) {
    if (auto r = session.execute(stmt); !r) return r.error();
  }
  auto indexes = session.query(
      "SELECT index_name, kind, options['class_name'], options['target'] FROM "
      "system_schema.indexes WHERE keyspace_name = '" +
      ks + "' AND table_name = 'users'");
  if (!indexes) return indexes.error();
  for (const auto& r : indexes->rows) {
    if (!r[0] || !r[3]) continue;
    const std::string stmt =
        r[1] && *r[1] == "CUSTOM" && r[2]
            ? fmt::format(
                  "CREATE CUSTOM INDEX IF NOT EXISTS {} ON streamflow_bench.users ({}) "
                  "USING '{}'",
                  *r[0], *r[3], *r[2])
            : fmt::format("CREATE INDEX IF NOT EXISTS {} ON streamflow_bench.users ({})", *r[0],
                          *r[3]);
    if (auto made = session.execute(stmt); !made) return made.error();
  }
  auto select = session.prepare("SELECT " + names + " FROM " + ks + ".users");
  if (!select) return select.error();
  std::vector<cql::Params> input;
  std::string state;
  do {
    auto page = session.execute_page(*select, {}, 5000, state);
    if (!page) return page.error();
    for (auto& row : page->rows.rows) {
      if (static_cast<std::int64_t>(input.size()) >= rows) break;
      input.push_back(std::move(row));
    }
    state = page->next_paging_state;
  } while (!state.empty() && static_cast<std::int64_t>(input.size()) < rows);
  auto insert = session.prepare("INSERT INTO streamflow_bench.users (" + names + ") VALUES (" +
                                markers + ")");
  if (!insert) return insert.error();
  const auto t0 = Clock::now();
  auto written = session.execute_batch(*insert, input, 64);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  (void)session.execute("DROP KEYSPACE IF EXISTS streamflow_bench");
  if (!written) return written.error();
  return static_cast<double>(*written) / s;
}

namespace {

template <typename T>
std::optional<double> measured(const char* what, base::Result<T> r, std::ostream& progress) {
  if (!r) {
    progress << fmt::format("bench: baseline {} failed: {}\n", what, r.error().message);
    return std::nullopt;
  }
  progress << fmt::format("bench: baseline {}: {}/s\n", what, observe::thousands(std::llround(*r)));
  return *r;
}

}  // namespace

base::Result<Baselines> measure_baselines(const deploy::Layout& layout, const std::string& conninfo,
                                          const std::string& id_hash_key, cql::Session& session,
                                          std::int64_t rows, std::ostream& progress) {
  Baselines b;
  progress << fmt::format("bench: baselines with {} rows (the stack is idle now)\n",
                          observe::thousands(rows));
  auto in = baseline_input(rows, id_hash_key);
  if (!in) return in.error();
  b.postgres_copy_rows_per_s =
      measured("PostgreSQL COPY", postgres_copy_rate(conninfo, *in), progress);
  b.kafka_produce_msgs_per_s =
      measured("Kafka produce", kafka_produce_rate(layout, *in, progress), progress);
  b.cassandra_writes_per_s = measured(
      "Cassandra writes", cassandra_write_rate(session, layout.cassandra_keyspace, rows), progress);
  return b;
}

}  // namespace streamflow::bench
