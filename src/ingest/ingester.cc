#include "ingest/ingester.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "base/log.h"
#include "base/net.h"
#include "base/random.h"
#include "ingest/pacing.h"
#include "ingest/rows.h"
#include "ingest/writer.h"
#include "io/http.h"
#include "model/decode.h"
#include "model/sanitise.h"

namespace streamflow::ingest {

using base::Errc;
using Clock = std::chrono::steady_clock;

std::string Summary::to_json() const {
  std::string quoted_source, quoted_seed;
  model::append_json_string(quoted_source, source);
  model::append_json_string(quoted_seed, seed);
  return fmt::format(
      R"({{"source":{},"seed":{},"dry_run":{},"batches":{},"failed_batches":{},"fetched":{},"valid":{},)"
      R"("inserted":{},"updated":{},"unchanged":{},"rejected":{},"retries":{},"seconds":{:.3f},"records_per_s":{:.0f}}})",
      quoted_source, quoted_seed, dry_run, batches, failed_batches, fetched, valid, inserted,
      updated, unchanged, rejected, retries, seconds,
      seconds > 0 ? static_cast<double>(fetched) / seconds : 0.0);
}

std::string reject_json(const model::Reject& r) {
  std::string out = fmt::format(R"({{"reject":{},"reason":)", r.index);
  model::append_json_string(out, r.reason);
  out += R"(,"uuid":)";
  if (r.uuid) {
    model::append_json_string(out, *r.uuid);
  } else {
    out += "null";
  }
  out += R"(,"payload":)" + (r.raw.empty() ? std::string("null") : r.raw) + "}";
  return out;
}

namespace {

/// Totals shared by the workers.
struct Shared {
  std::mutex mu;
  Summary summary;
  std::optional<base::Error> error;
  void add(const WriteCounts& c, const model::Batch& batch, int retries) {
    std::lock_guard lock(mu);
    summary.batches++;
    summary.fetched += static_cast<std::int64_t>(batch.records);
    summary.valid += static_cast<std::int64_t>(batch.users.size());
    summary.inserted += c.inserted;
    summary.updated += c.updated;
    summary.unchanged += c.unchanged;
    summary.rejected += c.rejected;
    summary.retries += retries;
  }
  void fail(const base::Error& e, int retries) {
    std::lock_guard lock(mu);
    summary.failed_batches++;
    summary.retries += retries;
    if (!error) error = e;
    if (summary.first_error.empty()) summary.first_error = e.describe();
  }
};

/// Sleeps up to `d`, waking early when asked to stop.
void interruptible_sleep(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + d;
  while (!stop && Clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(50),
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now())));
  }
}

struct Fetched {
  model::Batch batch;
  int retries = 0;
};

/// One page, with bounded retries: transport errors, 429 (Retry-After honoured), 5xx, and
/// bodies that are not a usable response (truncated, malformed, an error object) are retried;
/// other 4xx are not.
base::Result<Fetched> fetch_page(io::HttpClient& http, const std::string& query, const Options& opt,
                                 const model::IdHasher& hasher, RequestPacer& pacer,
                                 BatchWriter* writer, const std::atomic<bool>& stop,
                                 std::mt19937_64& rng) {
  Fetched out;
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  std::string last;
  for (int attempt = 0;; ++attempt) {
    std::optional<int> retry_after;
    if (!pacer.wait(writer, stop)) {
      return base::make_error(Errc::unavailable,
                              last.empty() ? "stopped before the request" : "stopped: " + last);
    }
    auto res = http.get(query);
    if (!res) {
      last = res.error().message;
    } else if (res->status == 200) {
      auto batch = model::decode_response(res->body, hasher);
      if (batch) {
        out.batch = std::move(*batch);
        return out;
      }
      last = "unusable response: " + batch.error().message;
    } else if (res->status == 429 || res->status >= 500) {
      last = fmt::format("HTTP {}", res->status);
      retry_after = res->retry_after_s;
    } else {
      return base::make_error(Errc::unavailable,
                              fmt::format("the API refused the request with HTTP {}: {}",
                                          res->status, res->body.substr(0, 200)));
    }
    if (attempt >= opt.max_retries || stop) {
      return base::make_error(
          Errc::unavailable, fmt::format("gave up after {} attempts; last: {}", attempt + 1, last));
    }
    base::logger("ingest")->info("retry={} reason=\"{}\"", attempt + 1, last);
    out.retries++;
    interruptible_sleep(backoff_delay(attempt, retry_after, jitter(rng)), stop);
    // The retry count travels with the result through the caller's bookkeeping.
    if (stop) return base::make_error(Errc::unavailable, "stopped while retrying: " + last);
  }
}

std::string make_seed() {
  std::string s;
  for (auto b : base::random_bytes(8)) s += fmt::format("{:02x}", b);
  return s;
}

/// Hands each reject of a batch to the caller's callback, one batch at a time.
void report_rejects(const Options& opt, const model::Batch& batch, const std::string& source,
                    std::mutex& mu) {
  if (!opt.on_reject || batch.rejects.empty()) return;
  std::lock_guard lock(mu);
  for (const auto& r : batch.rejects) opt.on_reject(r, source);
}

Outcome run_file(const Options& opt) {
  Outcome outcome;
  const auto t0 = Clock::now();
  const auto path = std::filesystem::absolute(*opt.file);
  outcome.summary.source = "file:" + path.string();
  outcome.summary.dry_run = opt.dry_run;
  auto text = base::read_file(path);
  if (!text) {
    outcome.error = base::make_error(Errc::not_found, "cannot read " + path.string());
    return outcome;
  }
  model::IdHasher hasher(opt.id_hash_key);
  auto batch = model::decode_response(*text, hasher);
  if (!batch) {
    // Whatever the file holds, nothing of it is stored: not a reject, not a batch record.
    outcome.error = base::make_error(
        Errc::data_error, path.string() + ": " + batch.error().message + " (nothing was stored)");
    outcome.summary.failed_batches = 1;
    return outcome;
  }
  std::mutex reject_mu;
  report_rejects(opt, *batch, outcome.summary.source, reject_mu);
  WriteCounts counts;
  if (opt.dry_run) {
    counts.rejected = static_cast<std::int64_t>(batch->rejects.size());
  } else {
    auto writer = BatchWriter::open(opt.pg_conninfo);
    if (!writer) {
      outcome.error = base::make_error(Errc::io_error, writer.error().message);
      return outcome;
    }
    BatchInfo info;
    info.batch_id = derived_uuid("file|" + *text);
    info.source = outcome.summary.source;
    info.seed = batch->seed;
    info.page = batch->page;
    info.requested = static_cast<std::int64_t>(batch->records);
    auto written = writer->write(info, *batch);
    if (!written) {
      outcome.error = base::make_error(Errc::io_error, written.error().message);
      outcome.summary.failed_batches = 1;
      return outcome;
    }
    counts = *written;
  }
  Shared shared;
  shared.add(counts, *batch, 0);
  outcome.summary = shared.summary;
  outcome.summary.source = "file:" + path.string();
  outcome.summary.seed = batch->seed.value_or("");
  outcome.summary.dry_run = opt.dry_run;
  outcome.summary.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return outcome;
}

}  // namespace

Outcome run(const Options& opt, const std::atomic<bool>& stop) {
  if (opt.file) return run_file(opt);
  Outcome outcome;
  auto url = io::Url::parse(opt.url);
  if (!url) {
    outcome.error = url.error();
    return outcome;
  }
  if (opt.batch_size < 1 || opt.batch_size > 5000) {
    outcome.error =
        base::make_error(Errc::invalid_argument, "batch size must be 1..5000 (the API's limit)");
    return outcome;
  }
  Shared shared;
  const std::string seed = opt.seed.empty() ? make_seed() : opt.seed;
  shared.summary.source = url->without_query();
  shared.summary.seed = seed;
  shared.summary.dry_run = opt.dry_run;
  // Politeness: one clock per API host (scheme://host:port), shared through PostgreSQL.
  RequestPacer pacer(fmt::format("{}://{}:{}", url->scheme, url->host, url->port),
                     opt.requests_per_s);
  std::mutex reject_mu;
  const std::int64_t pages =
      opt.continuous ? -1 : (opt.count + opt.batch_size - 1) / opt.batch_size;
  std::atomic<std::int64_t> next_page{1};
  const auto t0 = Clock::now();
  model::IdHasher hasher(opt.id_hash_key);
  std::atomic<bool> sink_down{false};

  auto worker = [&](int worker_index) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) +
                        worker_index);
    io::HttpClient http(*url, opt.timeout_s);
    std::optional<BatchWriter> writer;
    if (!opt.dry_run) {
      auto opened = BatchWriter::open(opt.pg_conninfo);
      if (!opened) {
        shared.fail(base::make_error(Errc::io_error, opened.error().message), 0);
        sink_down = true;
        return;
      }
      writer.emplace(std::move(*opened));
    }
    BatchWriter* db = writer ? &*writer : nullptr;
    while (!stop && !sink_down) {
      const std::int64_t page = next_page.fetch_add(1);
      if (pages >= 0 && page > pages) break;
      // Pages beyond the API's 10000 continue under a derived seed.
      const std::string page_seed =
          page <= 10000 ? seed : fmt::format("{}-{}", seed, (page - 1) / 10000);
      const std::int64_t api_page = (page - 1) % 10000 + 1;
      const std::int64_t results =
          pages >= 0 && page == pages ? opt.count - (pages - 1) * opt.batch_size : opt.batch_size;
      if (opt.rate > 0) {
        // Pace: page p is due at t0 + (p-1) * batch / rate.
        const auto due =
            t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                     static_cast<double>((page - 1) * opt.batch_size) / opt.rate));
        if (due > Clock::now()) {
          interruptible_sleep(
              std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()), stop);
        }
        if (stop) break;
      }
      std::string query = fmt::format("results={}&page={}&seed={}", results, api_page, page_seed);
      if (!opt.nat.empty()) query += "&nat=" + opt.nat;
      BatchInfo info;
      info.batch_id = derived_uuid(url->without_query() + "|" + url->query + "|" + query);
      info.source = url->without_query();
      info.seed = page_seed;
      info.page = api_page;
      info.requested = results;
      auto fetched = fetch_page(http, query, opt, hasher, pacer, db, stop, rng);
      if (!fetched) {
        info.retries = opt.max_retries;
        if (db) (void)db->record_failure(info, fetched.error().message);
        shared.fail(fetched.error(), opt.max_retries);
        continue;
      }
      info.retries = fetched->retries;
      report_rejects(opt, fetched->batch, info.source, reject_mu);
      if (!db) {
        WriteCounts counts;
        counts.rejected = static_cast<std::int64_t>(fetched->batch.rejects.size());
        shared.add(counts, fetched->batch, fetched->retries);
        continue;
      }
      auto counts = db->write(info, fetched->batch);
      if (!counts) {
        shared.fail(base::make_error(Errc::io_error, "writing batch " + info.batch_id +
                                                         " failed: " + counts.error().message),
                    fetched->retries);
        if (counts.error().code == Errc::unavailable) sink_down = true;
        continue;
      }
      shared.add(*counts, fetched->batch, fetched->retries);
    }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, opt.concurrency); ++i) threads.emplace_back(worker, i);

  // Progress every 2 s on stderr while workers run.
  std::thread progress([&] {
    auto last = Clock::now();
    std::int64_t last_fetched = 0;
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      bool done;
      {
        std::lock_guard lock(shared.mu);
        done = shared.summary.batches + shared.summary.failed_batches >=
                   (pages < 0 ? INT64_MAX : pages) ||
               stop || sink_down;
      }
      if (done && !opt.continuous) break;
      if (stop || sink_down) break;
      if (!opt.progress || Clock::now() - last < std::chrono::seconds(2)) continue;
      std::lock_guard lock(shared.mu);
      const double dt = std::chrono::duration<double>(Clock::now() - last).count();
      const auto& s = shared.summary;
      std::fprintf(
          stderr,
          "ingest: %lld%s records, %.0f rec/s, %lld inserted, %lld rejected, %lld retries%s\n",
          static_cast<long long>(s.fetched), pages < 0 ? "" : fmt::format("/{}", opt.count).c_str(),
          static_cast<double>(s.fetched - last_fetched) / dt, static_cast<long long>(s.inserted),
          static_cast<long long>(s.rejected), static_cast<long long>(s.retries),
          s.failed_batches ? fmt::format(", {} FAILED batches", s.failed_batches).c_str() : "");
      last = Clock::now();
      last_fetched = s.fetched;
    }
  });
  for (auto& t : threads) t.join();
  progress.join();

  outcome.summary = shared.summary;
  outcome.summary.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  outcome.error = shared.error;
  return outcome;
}

}  // namespace streamflow::ingest
