#include "bench/driver.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "base/fs.h"
#include "base/process.h"
#include "bench/baselines.h"
#include "bench/detail/run.h"
#include "bench/report.h"
#include "bench/sampler.h"
#include "bench/stages_apart.h"
#include "cql/cql.h"
#include "ingest/rows.h"
#include "observe/pipeline.h"

namespace streamflow::bench {

using base::Errc;
using base::make_error;
using Clock = std::chrono::steady_clock;

namespace {

/// Microseconds since 2000-01-01 (PostgreSQL's epoch, ingest::timestamp_micros) to Unix ms.
constexpr std::int64_t kPgEpochUnixMs = 946684800000LL;

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

}  // namespace

namespace detail {

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return date;
}

base::Result<std::vector<std::pair<std::string, pid_t>>> healthy_services(
    const ServiceLister& lister) {
  std::vector<std::pair<std::string, pid_t>> services;
  for (const auto& s : lister()) {
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

base::Result<std::filesystem::path> write_result(const Options& opt, const nlohmann::json& doc,
                                                 std::ostream& progress) {
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) return make_error(Errc::io_error, "cannot create " + opt.out_dir.string());
  const auto path = opt.out_dir / (opt.name + ".json");
  if (auto r = base::write_file(path, doc.dump(2) + "\n"); !r) return r.error();
  progress << "bench: wrote " << path.string() << "\n";
  return path;
}

}  // namespace detail

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

base::Result<nlohmann::json> run(const deploy::Layout& layout, ingest::Options ingest_opt,
                                 const Options& opt, const ServiceLister& lister,
                                 const std::atomic<bool>& stop, std::ostream& progress) {
  if (opt.stages_apart) {
    return run_stages_apart(layout, std::move(ingest_opt), opt, lister, stop, progress);
  }
  auto healthy = detail::healthy_services(lister);
  if (!healthy) return healthy.error();
  const auto& services = *healthy;

  progress << fmt::format(
      "bench: {} for {:.0f} s into the stack in {} ({} services sampled)\n",
      opt.rate > 0 ? fmt::format("{} users/s", observe::thousands(std::llround(opt.rate)))
                   : std::string("flat out"),
      opt.seconds, layout.state_dir.string(), services.size());
  const std::int64_t start_ms = detail::epoch_ms();
  Sampler sampler(layout, ingest_opt.pg_conninfo, services, progress);

  const auto t_ingest = Clock::now();
  const auto outcome = detail::ingest_for(ingest_opt, opt, stop);
  const double ingest_seconds = std::chrono::duration<double>(Clock::now() - t_ingest).count();
  if (outcome.error) {
    sampler.stop();
    return make_error(outcome.error->code, "ingest failed: " + outcome.error->message);
  }

  // Catch-up: until the users query has written every change on the CDC topic and the
  // analytics count every staged user, at a sample taken after ingest ended.
  sampler.set_phase("catch-up");
  const auto t_catchup = Clock::now();
  auto caught = await_sample(sampler, opt.catchup_timeout_s, stop,
                             "Cassandra catching up after the end of ingest", caught_up);
  const double catchup_seconds = std::chrono::duration<double>(Clock::now() - t_catchup).count();
  sampler.stop();
  if (!caught) return caught.error();
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
        observe::thousands(static_cast<std::int64_t>(rows->size())),
        observe::thousands(outcome.summary.inserted));
  }
  const auto e2e = end_to_end(*rows);

  Baselines b;
  if (opt.baselines) {
    auto measured = measure_baselines(layout, ingest_opt.pg_conninfo, ingest_opt.id_hash_key,
                                      *session, opt.baseline_rows, progress);
    if (!measured) return measured.error();
    b = *measured;
  }

  RunInfo info;
  info.mode = opt.rate > 0 ? "rate" : "flat out";
  info.target_rate = opt.rate;
  info.ingest_seconds = ingest_seconds;
  info.catchup_seconds = catchup_seconds;
  info.ingested = outcome.summary.inserted;
  auto doc = report_json(info, samples, e2e, freshness_timeline(*rows, start_ms), b,
                         by_minute(*rows, start_ms));
  doc["ingested"] = info.ingested;
  doc["machine"] = machine_description();
  doc["date"] = detail::utc_now();

  auto json_path = detail::write_result(opt, doc, progress);
  if (!json_path) return json_path.error();
  if (!opt.plot_script.empty()) {
    const auto png = opt.out_dir / (opt.name + ".png");
    auto plotted = base::run_command(
        {"/usr/bin/python3", opt.plot_script.string(), json_path->string(), png.string()});
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
