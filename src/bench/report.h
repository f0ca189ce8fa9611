#pragma once
/// The pure half of `streamflow bench`: what a run's samples and rows mean. Stage rates from
/// counter time series, freshness percentiles, per-service memory and CPU, fractions of the
/// baselines, and the JSON document. No I/O; unit-tested.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace streamflow::bench {

/// One service's processes at one sample.
struct ServiceSample {
  std::uint64_t rss_bytes = 0;
  double cpu_seconds = 0;  ///< CPU used so far by the processes alive now
  /// Proportional set size (every shared page counted once over the stack); 0 when this
  /// sample did not read it (the sampler reads it every kPssEverySamples).
  std::uint64_t pss_bytes = 0;
};

/// Everything read at one moment of the run.
struct Sample {
  double t = 0;                                 ///< seconds since the run started
  std::optional<std::int64_t> staging_users;    ///< rows in PostgreSQL staging
  std::optional<std::int64_t> cdc_events;       ///< messages on the CDC topic
  std::optional<std::int64_t> spark_upserted;   ///< rows the Spark job wrote (since it started)
  std::optional<std::int64_t> spark_consumed;   ///< CDC offsets its users query has written
  std::optional<std::int64_t> cassandra_users;  ///< users per Cassandra's analytics
  std::map<std::string, ServiceSample> services;
};

/// How fast one counter moved while it moved.
struct StageRate {
  std::int64_t count = 0;  ///< how much it rose over the run
  double begin = 0;        ///< the run time it is counted from
  double seconds = 0;      ///< from `begin` to its final value (sample resolution)
  double per_s = 0;
};

/// The rate of a counter: its rise over the run divided by the time from the last sample
/// before it first rose to the first sample at its final value (so a stage that finished
/// early is not diluted by the time the others took). Samples where the counter was not
/// answered are skipped.
///
/// `input_began`: when the stage's input began to arrive (the ingest stage's begin); given, the
/// stage is counted from then instead of from its own first rise. A counter that moves in steps
/// (the Spark job's totals, once per progress report) rises for the first time a whole report
/// interval after its rows began to be processed, and a run that fits in one step would otherwise
/// be credited with a rate of rows per sampling period.
StageRate stage_rate(const std::vector<Sample>& samples,
                     std::optional<std::int64_t> Sample::*counter,
                     std::optional<double> input_began = std::nullopt);

struct Percentiles {
  std::size_t n = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
};
/// Nearest-rank percentiles (the value below which p% of the values fall); all 0 when empty.
Percentiles percentiles(std::vector<double> values);

/// One user of the run as Cassandra holds it: the PostgreSQL commit of its change (Debezium's
/// source.ts_ms) and when its row was written (writetime, microseconds).
struct Visible {
  std::int64_t commit_ms = 0;
  std::int64_t written_us = 0;
};

struct EndToEnd {
  std::int64_t users = 0;
  double users_per_s = 0;   ///< users / (last row written - first commit)
  Percentiles freshness_s;  ///< commit -> written, per user
};
EndToEnd end_to_end(const std::vector<Visible>& rows);

/// Freshness over the run, for the chart: per second of commit time (from `start_ms`), the
/// median and the worst.
struct FreshnessPoint {
  double t = 0;
  double p50 = 0, max = 0;
  std::int64_t users = 0;
};
std::vector<FreshnessPoint> freshness_timeline(const std::vector<Visible>& rows,
                                               std::int64_t start_ms);

/// The run minute by minute (from `start_ms`, when the run began): the users whose change was
/// committed in the minute and their freshness, and the users Cassandra wrote in the minute (by
/// writetime). A long run whose later minutes write fewer users, or later, than its first is
/// growing state somewhere. Minutes in which nothing was committed or written are left out.
struct MinuteFigures {
  std::int64_t minute = 0;     ///< 0 = the run's first
  std::int64_t committed = 0;  ///< users committed in the minute
  std::int64_t written = 0;    ///< users written to Cassandra in the minute
  double p50 = 0, p99 = 0;     ///< freshness of the users committed in the minute, seconds
};
std::vector<MinuteFigures> by_minute(const std::vector<Visible>& rows, std::int64_t start_ms);

struct ServiceUsage {
  std::string name;
  double peak_rss_mb = 0;
  double peak_pss_mb = 0;   ///< over the samples that read it
  double avg_cpu_pct = 0;   ///< over the whole run, 100 = one core
  double cpu_seconds = 0;   ///< CPU used over the whole run
  double peak_cpu_pct = 0;  ///< over any one sample interval
};
std::vector<ServiceUsage> service_usage(const std::vector<Sample>& samples);
/// The largest sum over services of resident memory at any one sample, in MB.
double peak_stack_rss_mb(const std::vector<Sample>& samples);
/// The largest sum over services of proportional set size at any sample that read it, in MB
/// (the stack's own resident memory; the RSS sum counts shared pages once per process).
double peak_stack_pss_mb(const std::vector<Sample>& samples);

/// One half of the pipeline measured with the other half held still (`streamflow bench
/// --stages-apart`): its wall time, the users it moved and the CPU each service spent on them.
struct HalfRun {
  std::int64_t users = 0;
  double seconds = 0;                   ///< wall time, at sample resolution
  std::map<std::string, double> cpu_s;  ///< CPU seconds per service over the half
};

/// CPU seconds each service used from sample `from` to sample `to`. A service missing from
/// either, or whose counter went back (a restart), counts 0.
std::map<std::string, double> cpu_between(const Sample& from, const Sample& to);

/// The pipeline has caught up at this sample: Cassandra's analytics count every staged user and
/// the users query has written every change on the CDC topic (the two queries read the topic
/// independently).
bool caught_up(const Sample& s);

/// The first sample at or after `from` (an index) where `done` holds; nullopt if none.
template <typename Pred>
std::optional<std::size_t> first_sample(const std::vector<Sample>& samples, std::size_t from,
                                        Pred done) {
  for (std::size_t i = from; i < samples.size(); ++i) {
    if (done(samples[i])) return i;
  }
  return std::nullopt;
}

/// The figures of a stages-apart run: each half's rate and CPU per user by service, their sum,
/// and the highest sustained rate those costs allow on `cores` cores when both halves share
/// them (every core busy, nothing else running): cores * 1e6 / (CPU µs per user, both halves).
/// `target_users_per_s` is set beside it with the CPU budget per user it leaves.
nlohmann::json stages_apart_json(const HalfRun& capture, const HalfRun& process, unsigned cores,
                                 double target_users_per_s);

/// Baselines measured in the same run: each stage's limit on this machine.
struct Baselines {
  std::optional<double> postgres_copy_rows_per_s;
  std::optional<double> kafka_produce_msgs_per_s;
  std::optional<double> cassandra_writes_per_s;
};

struct RunInfo {
  std::string mode;            ///< "flat out" or "rate"
  double target_rate = 0;      ///< users/s asked for (0: flat out)
  double ingest_seconds = 0;   ///< how long ingest ran
  double catchup_seconds = 0;  ///< from ingest's end until Cassandra had every user
  std::int64_t ingested = 0;   ///< users ingest wrote (inserted)
};

/// The result document: figures, per-stage throughput and fractions of the baselines,
/// freshness, services, and the timelines for the chart (machine and date added by the caller).
nlohmann::json report_json(const RunInfo& run, const std::vector<Sample>& samples,
                           const EndToEnd& e2e, const std::vector<FreshnessPoint>& freshness,
                           const Baselines& baselines,
                           const std::vector<MinuteFigures>& minutes = {});

}  // namespace streamflow::bench
