#include "bench/driver.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "base/process.h"
#include "bench/report.h"
#include "cql/cql.h"
#include "ingest/rows.h"
#include "io/kafka.h"
#include "io/pg.h"
#include "mockapi/generator.h"
#include "model/decode.h"
#include "model/id_hash.h"
#include "stack/stack.h"
#include "stack/watch.h"

namespace streamflow::bench {

using base::Errc;
using base::make_error;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Microseconds since 2000-01-01 (PostgreSQL's epoch, ingest::timestamp_micros) to Unix ms.
constexpr std::int64_t kPgEpochUnixMs = 946684800000LL;

std::string thousands(double v) { return stack::thousands(std::llround(v)); }

/// Samples every stage and every service's processes once a second on its own thread.
class Sampler {
 public:
  Sampler(const stack::Layout& layout, std::string conninfo,
          std::vector<std::pair<std::string, pid_t>> services, std::ostream& progress)
      : reader_(layout, std::move(conninfo)),
        services_(std::move(services)),
        progress_(progress),
        start_(Clock::now()) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Sampler() { stop(); }

  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<Sample> samples() const {
    std::lock_guard lock(mu_);
    return samples_;
  }
  std::optional<Sample> last() const {
    std::lock_guard lock(mu_);
    if (samples_.empty()) return std::nullopt;
    return samples_.back();
  }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  void set_phase(std::string phase) {
    std::lock_guard lock(mu_);
    phase_ = std::move(phase);
  }

 private:
  void loop() {
    auto next = Clock::now();
    int n = 0;
    while (!done_) {
      Sample s;
      const auto counts = reader_.read();
      s.t = std::chrono::duration<double>(Clock::now() - start_).count();
      s.staging_users = counts.staging_users;
      s.cdc_events = counts.cdc_events;
      s.spark_upserted = counts.spark_upserted;
      s.spark_consumed = counts.spark_consumed;
      s.cassandra_users = counts.cassandra_users;
      const auto procs = base::read_proc_stats();
      for (const auto& [name, pid] : services_) {
        const auto u = base::tree_usage(procs, pid);
        if (u.processes > 0) s.services[name] = {u.rss_bytes, u.cpu_seconds};
      }
      std::string phase;
      {
        std::lock_guard lock(mu_);
        samples_.push_back(s);
        phase = phase_;
      }
      if (n++ % 2 == 0) print(s, phase);
      next += std::chrono::seconds(1);
      while (!done_ && Clock::now() < next)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void print(const Sample& s, const std::string& phase) {
    double rss = 0;
    for (const auto& [_, v] : s.services) rss += static_cast<double>(v.rss_bytes);
    std::string cpu = "?";
    {
      std::lock_guard lock(mu_);
      if (samples_.size() >= 3) {
        const auto& a = samples_[samples_.size() - 3];
        double used = 0;
        for (const auto& [name, v] : s.services) {
          auto it = a.services.find(name);
          if (it != a.services.end() && v.cpu_seconds >= it->second.cpu_seconds)
            used += v.cpu_seconds - it->second.cpu_seconds;
        }
        if (s.t > a.t) cpu = fmt::format("{:.0f}%", 100.0 * used / (s.t - a.t));
      }
    }
    progress_ << fmt::format(
                     "bench {:>6.1f} s {:<9} staging {} · cdc {} · spark {} · cassandra {} · "
                     "stack {:.1f} GB, CPU {}\n",
                     s.t, phase, stack::count(s.staging_users), stack::count(s.cdc_events),
                     stack::count(s.spark_upserted), stack::count(s.cassandra_users),
                     rss / 1073741824.0, cpu)
              << std::flush;
  }

  stack::PipelineReader reader_;
  std::vector<std::pair<std::string, pid_t>> services_;
  std::ostream& progress_;
  const Clock::time_point start_;
  mutable std::mutex mu_;
  std::vector<Sample> samples_;
  std::string phase_ = "ingest";
  std::atomic<bool> done_{false};
  std::thread thread_;
};

/// Every user of the run: its commit and its write time, read back from Cassandra.
base::Result<std::vector<Visible>> visible_since(cql::Session& session, const std::string& ks,
                                                 std::int64_t since_ms) {
  auto prepared = session.prepare("SELECT committed_at, writetime(email) FROM " + ks + ".users");
  if (!prepared) return prepared.error();
  std::vector<Visible> out;
  std::string state;
  do {
    auto page = session.execute_page(*prepared, {}, 5000, state);
    if (!page) return page.error();
    for (const auto& row : page->rows.rows) {
      if (!row[0] || !row[1]) continue;
      const std::int64_t commit_ms = ingest::timestamp_micros(*row[0]) / 1000 + kPgEpochUnixMs;
      if (commit_ms >= since_ms) out.push_back({commit_ms, std::stoll(*row[1])});
    }
    state = page->next_paging_state;
  } while (!state.empty());
  return out;
}

struct BaselineInput {
  std::vector<model::User> users;
  std::vector<std::string> records;  ///< each user's API record as JSON (Kafka's messages)
};

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
base::Result<double> kafka_produce_rate(const stack::Layout& l, const BaselineInput& in,
                                        std::ostream& progress) {
  const auto bootstrap = fmt::format("127.0.0.1:{}", l.ports.kafka);
  const auto topic = l.cdc_topic_prefix + ".bench";
  if (auto r = io::ensure_topics(bootstrap, {{topic, l.kafka_partitions, 1, {}}}); !r) {
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
/// a copy of the users table in keyspace streamflow_bench, dropped afterwards.
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

template <typename T>
std::optional<double> measured(const char* what, base::Result<T> r, std::ostream& progress) {
  if (!r) {
    progress << fmt::format("bench: baseline {} failed: {}\n", what, r.error().message);
    return std::nullopt;
  }
  progress << fmt::format("bench: baseline {}: {}/s\n", what, thousands(*r));
  return *r;
}

std::string os_pretty_name() {
  std::ifstream in("/etc/os-release");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      auto v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "?";
}

/// Ingest, continuous, paced at `opt.rate` or flat out, for `opt.seconds` (or until Ctrl-C
/// sets `stop`).
ingest::Outcome ingest_for(ingest::Options ingest_opt, const Options& opt,
                           const std::atomic<bool>& stop) {
  ingest_opt.continuous = true;
  ingest_opt.rate = opt.rate;
  ingest_opt.progress = false;
  std::atomic<bool> ingest_stop{false};
  std::thread timer([&] {
    const auto until = Clock::now() + std::chrono::duration<double>(opt.seconds);
    while (!stop && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ingest_stop = true;
  });
  auto outcome = ingest::run(ingest_opt, ingest_stop);
  ingest_stop = true;
  timer.join();
  return outcome;
}

/// Sends `sig` to a process and every descendant (the PySpark driver and its JVM).
base::Result<void> signal_tree(pid_t root, int sig) {
  for (pid_t p : base::tree_pids(base::read_proc_stats(), root)) {
    if (::kill(p, sig) != 0 && errno != ESRCH) {
      return make_error(Errc::io_error, fmt::format("cannot send signal {} to pid {}: {}", sig, p,
                                                    std::strerror(errno)));
    }
  }
  return {};
}

/// The Spark job held still (SIGSTOP to its process tree) while it lives; resumed (SIGCONT) by
/// resume() or, on any way out, by the destructor, so that a failed run never leaves it frozen.
class PausedJob {
 public:
  explicit PausedJob(pid_t pid) : pid_(pid) {}
  ~PausedJob() { (void)resume(); }
  PausedJob(const PausedJob&) = delete;
  PausedJob& operator=(const PausedJob&) = delete;
  base::Result<void> pause() {
    paused_ = true;
    return signal_tree(pid_, SIGSTOP);
  }
  base::Result<void> resume() {
    if (!paused_) return {};
    paused_ = false;
    return signal_tree(pid_, SIGCONT);
  }

 private:
  pid_t pid_;
  bool paused_ = false;
};

std::string utc_now() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return date;
}

/// The healthy services of the stack with their pids, or why the bench cannot run.
base::Result<std::vector<std::pair<std::string, pid_t>>> healthy_services(
    const stack::Layout& layout) {
  const auto status = stack::Stack(layout).status();
  std::vector<std::pair<std::string, pid_t>> services;
  for (const auto& s : status.services) {
    if (s.state != "healthy") {
      return make_error(Errc::failed_precondition,
                        fmt::format("{} is {}: start the stack first (`streamflow up`, then "
                                    "`streamflow status`)",
                                    s.name, s.state));
    }
    if (s.pid) services.emplace_back(s.name, *s.pid);
  }
  return services;
}

/// Waits until `done` holds for a sample taken after the call; its index, or a timeout error.
template <typename Pred>
base::Result<std::size_t> await_sample(const Sampler& sampler, double timeout_s,
                                       const std::string& what, Pred done) {
  const std::size_t from = sampler.samples().size();
  const auto t0 = Clock::now();
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto samples = sampler.samples();
    if (auto i = first_sample(samples, from, done)) return *i;
    if (std::chrono::duration<double>(Clock::now() - t0).count() > timeout_s) {
      return make_error(Errc::timeout, fmt::format("{} did not happen within {:.0f} s: see "
                                                   "`streamflow status` and `streamflow logs`",
                                                   what, timeout_s));
    }
  }
}

base::Result<nlohmann::json> run_stages_apart(const stack::Layout& layout,
                                              ingest::Options ingest_opt, const Options& opt,
                                              const std::atomic<bool>& stop,
                                              std::ostream& progress) {
  auto services = healthy_services(layout);
  if (!services) return services.error();
  std::optional<pid_t> spark;
  for (const auto& [name, pid] : *services) {
    if (name == "spark") spark = pid;
  }
  if (!spark) {
    return make_error(Errc::failed_precondition,
                      "--stages-apart needs the Spark job running (spark.enabled)");
  }
  // Ingest runs in this process: its CPU is the capture half's too.
  services->emplace_back("ingest", getpid());
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) return make_error(Errc::io_error, "cannot create " + opt.out_dir.string());

  progress << fmt::format(
      "bench: stages apart: capture ({} for {:.0f} s, the Spark job paused), then the Spark job "
      "drains the topic alone\n",
      opt.rate > 0 ? fmt::format("{} users/s", thousands(opt.rate)) : std::string("flat out"),
      opt.seconds);
  Sampler sampler(layout, ingest_opt.pg_conninfo, *services, progress);
  auto answered = [](const Sample& s) {
    return s.staging_users && s.cdc_events && s.cassandra_users;
  };
  auto first = await_sample(sampler, 60, "a first answer from every stage", answered);
  if (!first) return first.error();
  const std::int64_t cdc0 = *sampler.samples()[*first].cdc_events;

  PausedJob job(*spark);
  if (auto r = job.pause(); !r) return r.error();
  sampler.set_phase("capture");
  // From the first sample after the pause, so that none of the job's CPU falls in the capture.
  auto paused = await_sample(sampler, 60, "a sample after the pause", answered);
  if (!paused) return paused.error();
  const std::size_t capture_begin = *paused;

  const auto outcome = ingest_for(ingest_opt, opt, stop);
  if (outcome.error)
    return make_error(outcome.error->code, "ingest failed: " + outcome.error->message);
  const std::int64_t users = outcome.summary.inserted;

  auto captured =
      await_sample(sampler, opt.catchup_timeout_s, "every change on the CDC topic",
                   [&](const Sample& s) { return s.cdc_events && *s.cdc_events >= cdc0 + users; });
  if (!captured) return captured.error();

  sampler.set_phase("process");
  const std::size_t process_begin = sampler.samples().size() - 1;
  if (auto r = job.resume(); !r) return r.error();
  auto processed = await_sample(
      sampler, opt.catchup_timeout_s, "Cassandra holding every user", [](const Sample& s) {
        return s.staging_users && s.cassandra_users && s.cdc_events && s.spark_consumed &&
               *s.cassandra_users >= *s.staging_users && *s.spark_consumed >= *s.cdc_events;
      });
  if (!processed) return processed.error();
  sampler.stop();
  const auto samples = sampler.samples();

  auto half = [&](std::size_t from, std::size_t to) {
    HalfRun h;
    h.users = users;
    h.seconds = samples[to].t - samples[from].t;
    h.cpu_s = cpu_between(samples[from], samples[to]);
    return h;
  };
  auto doc = stages_apart_json(half(capture_begin, *captured), half(process_begin, *processed),
                               std::thread::hardware_concurrency(), opt.target_rate);
  doc["users"] = users;
  doc["machine"] = machine_description();
  doc["date"] = utc_now();
  const auto json_path = opt.out_dir / (opt.name + ".json");
  if (auto r = base::write_file(json_path, doc.dump(2) + "\n"); !r) return r.error();
  progress << "bench: wrote " << json_path.string() << "\n";
  return doc;
}

}  // namespace

std::string machine_description() {
  std::string cpu = "?";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  const double gib = static_cast<double>(sysconf(_SC_PAGESIZE)) *
                     static_cast<double>(sysconf(_SC_PHYS_PAGES)) / 1073741824.0;
  utsname u{};
  uname(&u);
  return fmt::format("{} cores ({}), {:.0f} GiB RAM, {}, kernel {}",
                     std::thread::hardware_concurrency(), cpu, gib, os_pretty_name(), u.release);
}

base::Result<nlohmann::json> run(const stack::Layout& layout, ingest::Options ingest_opt,
                                 const Options& opt, const std::atomic<bool>& stop,
                                 std::ostream& progress) {
  if (opt.stages_apart) return run_stages_apart(layout, std::move(ingest_opt), opt, stop, progress);
  auto healthy = healthy_services(layout);
  if (!healthy) return healthy.error();
  const auto& services = *healthy;
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) return make_error(Errc::io_error, "cannot create " + opt.out_dir.string());

  progress << fmt::format(
      "bench: {} for {:.0f} s into the stack in {} ({} services sampled)\n",
      opt.rate > 0 ? fmt::format("{} users/s", thousands(opt.rate)) : std::string("flat out"),
      opt.seconds, layout.state_dir.string(), services.size());
  const std::int64_t start_ms = epoch_ms();
  Sampler sampler(layout, ingest_opt.pg_conninfo, services, progress);

  const auto t_ingest = Clock::now();
  const auto outcome = ingest_for(ingest_opt, opt, stop);
  const double ingest_seconds = std::chrono::duration<double>(Clock::now() - t_ingest).count();
  const double ingest_end = sampler.elapsed();
  if (outcome.error) {
    sampler.stop();
    return make_error(outcome.error->code, "ingest failed: " + outcome.error->message);
  }

  // Catch-up: until the users query has written every change on the CDC topic and the
  // analytics count every staged user (the two queries read the topic independently).
  sampler.set_phase("catch-up");
  const auto t_catchup = Clock::now();
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto s = sampler.last();
    if (s && s->t > ingest_end && s->staging_users && s->cassandra_users && s->cdc_events &&
        s->spark_consumed && *s->cassandra_users >= *s->staging_users &&
        *s->spark_consumed >= *s->cdc_events) {
      break;
    }
    if (std::chrono::duration<double>(Clock::now() - t_catchup).count() > opt.catchup_timeout_s) {
      sampler.stop();
      return make_error(Errc::timeout,
                        fmt::format("Cassandra did not catch up within {:.0f} s of the end of "
                                    "ingest: see `streamflow status` and `streamflow logs spark`",
                                    opt.catchup_timeout_s));
    }
  }
  const double catchup_seconds = std::chrono::duration<double>(Clock::now() - t_catchup).count();
  sampler.stop();
  const auto samples = sampler.samples();

  cql::ConnectOptions co;
  co.contact_point = layout.cassandra_contact_point();
  co.request_timeout_ms = 60000;
  auto session = cql::Session::connect(co);
  if (!session) return session.error();
  progress << "bench: reading back every user of the run for its freshness\n";
  auto rows = visible_since(*session, layout.cassandra_keyspace, start_ms);
  if (!rows) return rows.error();
  if (static_cast<std::int64_t>(rows->size()) < outcome.summary.inserted) {
    progress << fmt::format(
        "bench: warning: {} users of the run are in Cassandra, ingest inserted {}: the figures "
        "cover the ones there\n",
        thousands(static_cast<double>(rows->size())),
        thousands(static_cast<double>(outcome.summary.inserted)));
  }
  const auto e2e = end_to_end(*rows);

  Baselines b;
  if (opt.baselines) {
    progress << fmt::format("bench: baselines with {} rows (the stack is idle now)\n",
                            thousands(static_cast<double>(opt.baseline_rows)));
    auto in = baseline_input(opt.baseline_rows, ingest_opt.id_hash_key);
    if (!in) return in.error();
    b.postgres_copy_rows_per_s =
        measured("PostgreSQL COPY", postgres_copy_rate(ingest_opt.pg_conninfo, *in), progress);
    b.kafka_produce_msgs_per_s =
        measured("Kafka produce", kafka_produce_rate(layout, *in, progress), progress);
    b.cassandra_writes_per_s = measured(
        "Cassandra writes",
        cassandra_write_rate(*session, layout.cassandra_keyspace, opt.baseline_rows), progress);
  }

  RunInfo info;
  info.mode = opt.rate > 0 ? "rate" : "flat out";
  info.target_rate = opt.rate;
  info.ingest_seconds = ingest_seconds;
  info.catchup_seconds = catchup_seconds;
  info.ingested = outcome.summary.inserted;
  auto doc = report_json(info, samples, e2e, freshness_timeline(*rows, start_ms), b);
  doc["ingested"] = info.ingested;
  doc["machine"] = machine_description();
  doc["date"] = utc_now();

  const auto json_path = opt.out_dir / (opt.name + ".json");
  if (auto r = base::write_file(json_path, doc.dump(2) + "\n"); !r) return r.error();
  progress << "bench: wrote " << json_path.string() << "\n";
  if (!opt.plot_script.empty()) {
    const auto png = opt.out_dir / (opt.name + ".png");
    auto plotted = base::run_command(
        {"/usr/bin/python3", opt.plot_script.string(), json_path.string(), png.string()});
    if (!plotted || plotted->exit_status != 0) {
      progress << "bench: no chart (" << (plotted ? plotted->output : plotted.error().message)
               << "); `make setup` installs python3-matplotlib\n";
    } else {
      progress << "bench: wrote " << png.string() << "\n";
    }
  }
  return doc;
}

}  // namespace streamflow::bench
