#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace streamflow::bench {

StageRate stage_rate(const std::vector<Sample>& samples,
                     std::optional<std::int64_t> Sample::*counter,
                     std::optional<double> input_began) {
  std::vector<std::pair<double, std::int64_t>> s;
  for (const auto& x : samples) {
    if (x.*counter) s.emplace_back(x.t, *(x.*counter));
  }
  StageRate out;
  if (s.size() < 2) return out;
  const std::int64_t first = s.front().second;
  std::int64_t last = first;
  for (const auto& [t, v] : s) last = std::max(last, v);
  out.count = last - first;
  if (out.count <= 0) return out;
  double begin = s.front().first, end = s.back().first;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i].second > first) {
      begin = s[i - 1].first;
      break;
    }
  }
  for (const auto& [t, v] : s) {
    if (v >= last) {
      end = t;
      break;
    }
  }
  if (input_began) begin = *input_began;
  out.begin = begin;
  out.seconds = end - begin;
  out.per_s = out.seconds > 0 ? static_cast<double>(out.count) / out.seconds : 0;
  return out;
}

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  p.n = values.size();
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  auto rank = [&](double q) {
    const auto k = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(p.n)));
    return values[std::clamp<std::size_t>(k, 1, p.n) - 1];
  };
  p.p50 = rank(50);
  p.p95 = rank(95);
  p.p99 = rank(99);
  p.max = values.back();
  return p;
}

EndToEnd end_to_end(const std::vector<Visible>& rows) {
  EndToEnd e;
  e.users = static_cast<std::int64_t>(rows.size());
  if (rows.empty()) return e;
  std::vector<double> lat;
  lat.reserve(rows.size());
  std::int64_t first_commit = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_written = 0;
  for (const auto& r : rows) {
    lat.push_back(static_cast<double>(r.written_us) / 1e6 - static_cast<double>(r.commit_ms) / 1e3);
    first_commit = std::min(first_commit, r.commit_ms);
    last_written = std::max(last_written, r.written_us);
  }
  const double span =
      static_cast<double>(last_written) / 1e6 - static_cast<double>(first_commit) / 1e3;
  e.users_per_s = span > 0 ? static_cast<double>(e.users) / span : 0;
  e.freshness_s = percentiles(std::move(lat));
  return e;
}

std::vector<FreshnessPoint> freshness_timeline(const std::vector<Visible>& rows,
                                               std::int64_t start_ms) {
  std::map<std::int64_t, std::vector<double>> by_second;
  for (const auto& r : rows) {
    const std::int64_t second = (r.commit_ms - start_ms) / 1000;
    by_second[second].push_back(static_cast<double>(r.written_us) / 1e6 -
                                static_cast<double>(r.commit_ms) / 1e3);
  }
  std::vector<FreshnessPoint> out;
  for (auto& [second, lat] : by_second) {
    const auto p = percentiles(std::move(lat));
    out.push_back({static_cast<double>(second), p.p50, p.max, static_cast<std::int64_t>(p.n)});
  }
  return out;
}

std::vector<MinuteFigures> by_minute(const std::vector<Visible>& rows, std::int64_t start_ms) {
  std::map<std::int64_t, std::vector<double>> committed;
  std::map<std::int64_t, std::int64_t> written;
  const auto minute_of = [start_ms](double ms) {
    return static_cast<std::int64_t>(std::floor((ms - static_cast<double>(start_ms)) / 60000.0));
  };
  for (const auto& r : rows) {
    const double written_ms = static_cast<double>(r.written_us) / 1e3;
    committed[minute_of(static_cast<double>(r.commit_ms))].push_back(
        (written_ms - static_cast<double>(r.commit_ms)) / 1e3);
    ++written[minute_of(written_ms)];
  }
  std::set<std::int64_t> minutes;
  for (const auto& [m, _] : committed) minutes.insert(m);
  for (const auto& [m, _] : written) minutes.insert(m);
  std::vector<MinuteFigures> out;
  for (const auto m : minutes) {
    MinuteFigures f;
    f.minute = m;
    if (auto it = written.find(m); it != written.end()) f.written = it->second;
    if (auto it = committed.find(m); it != committed.end()) {
      const auto p = percentiles(std::move(it->second));
      f.committed = static_cast<std::int64_t>(p.n);
      f.p50 = p.p50;
      f.p99 = p.p99;
    }
    out.push_back(f);
  }
  return out;
}

std::vector<ServiceUsage> service_usage(const std::vector<Sample>& samples) {
  std::set<std::string> names;
  for (const auto& s : samples) {
    for (const auto& [name, _] : s.services) names.insert(name);
  }
  std::vector<ServiceUsage> out;
  for (const auto& name : names) {
    ServiceUsage u;
    u.name = name;
    const Sample* prev = nullptr;
    double cpu = 0, busy_time = 0;
    for (const auto& s : samples) {
      auto it = s.services.find(name);
      if (it == s.services.end()) continue;
      u.peak_rss_mb =
          std::max(u.peak_rss_mb, static_cast<double>(it->second.rss_bytes) / 1048576.0);
      u.peak_pss_mb =
          std::max(u.peak_pss_mb, static_cast<double>(it->second.pss_bytes) / 1048576.0);
      if (prev != nullptr && s.t > prev->t) {
        // A restart resets the processes' CPU counters: such an interval counts as idle.
        const double d = it->second.cpu_seconds - prev->services.at(name).cpu_seconds;
        if (d >= 0) {
          cpu += d;
          u.peak_cpu_pct = std::max(u.peak_cpu_pct, 100.0 * d / (s.t - prev->t));
        }
        busy_time += s.t - prev->t;
      }
      prev = &s;
    }
    u.avg_cpu_pct = busy_time > 0 ? 100.0 * cpu / busy_time : 0;
    u.cpu_seconds = cpu;
    out.push_back(u);
  }
  return out;
}

namespace {
/// The largest sum over services of one of their figures at any sample, in MB.
double peak_stack_mb(const std::vector<Sample>& samples, std::uint64_t ServiceSample::*bytes) {
  double peak = 0;
  for (const auto& s : samples) {
    double total = 0;
    for (const auto& [_, v] : s.services) total += static_cast<double>(v.*bytes);
    peak = std::max(peak, total / 1048576.0);
  }
  return peak;
}
}  // namespace

double peak_stack_pss_mb(const std::vector<Sample>& samples) {
  return peak_stack_mb(samples, &ServiceSample::pss_bytes);
}

double peak_stack_rss_mb(const std::vector<Sample>& samples) {
  return peak_stack_mb(samples, &ServiceSample::rss_bytes);
}

namespace {

double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

nlohmann::json optional_number(const std::optional<double>& v, int digits = 0) {
  return v ? nlohmann::json(round_to(*v, digits)) : nlohmann::json(nullptr);
}

/// A proportional set size in MB, or null when none was read (a process this one may not
/// inspect, such as the service account's when the bench does not run as root or as it).
nlohmann::json pss_or_null(double mb) {
  return mb > 0 ? nlohmann::json(round_to(mb, 0)) : nlohmann::json(nullptr);
}

nlohmann::json fraction(double rate, const std::optional<double>& limit) {
  return limit && *limit > 0 ? nlohmann::json(round_to(rate / *limit, 3)) : nlohmann::json(nullptr);
}

nlohmann::json counter(const std::optional<std::int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

bool caught_up(const Sample& s) {
  return s.staging_users && s.cassandra_users && s.cdc_events && s.spark_consumed &&
         *s.cassandra_users >= *s.staging_users && *s.spark_consumed >= *s.cdc_events;
}

std::map<std::string, double> cpu_between(const Sample& from, const Sample& to) {
  std::map<std::string, double> out;
  for (const auto& [name, v] : to.services) {
    auto it = from.services.find(name);
    const double d = it == from.services.end() ? 0 : v.cpu_seconds - it->second.cpu_seconds;
    out[name] = std::max(d, 0.0);
  }
  return out;
}

nlohmann::json stages_apart_json(const HalfRun& capture, const HalfRun& process, unsigned cores,
                                 double target_users_per_s) {
  using nlohmann::json;
  double total_us = 0;
  auto half = [&total_us](const HalfRun& h) {
    json per_service = json::object();
    double us = 0;
    for (const auto& [name, cpu] : h.cpu_s) {
      const double v = h.users > 0 ? cpu * 1e6 / static_cast<double>(h.users) : 0;
      per_service[name] = round_to(v, 1);
      us += v;
    }
    total_us += us;
    json j;
    j["users"] = h.users;
    j["seconds"] = round_to(h.seconds, 1);
    j["users_per_s"] = h.seconds > 0 ? round_to(static_cast<double>(h.users) / h.seconds, 0) : 0;
    j["cpu_us_per_user"] = round_to(us, 1);
    j["cpu_us_per_user_by_service"] = per_service;
    return j;
  };
  json doc;
  doc["capture"] = half(capture);
  doc["process"] = half(process);
  doc["cores"] = cores;
  doc["cpu_us_per_user"] = round_to(total_us, 1);
  doc["ceiling_users_per_s"] = total_us > 0 ? round_to(cores * 1e6 / total_us, 0) : 0;
  doc["target_users_per_s"] = target_users_per_s;
  doc["cpu_us_per_user_at_target"] =
      target_users_per_s > 0 ? round_to(cores * 1e6 / target_users_per_s, 1) : 0;
  return doc;
}

nlohmann::json report_json(const RunInfo& run, const std::vector<Sample>& samples,
                           const EndToEnd& e2e, const std::vector<FreshnessPoint>& freshness,
                           const Baselines& baselines, const std::vector<MinuteFigures>& minutes) {
  using nlohmann::json;
  const auto ingest = stage_rate(samples, &Sample::staging_users);
  // Downstream stages from the moment ingest began: what flowed through each of them.
  const std::optional<double> began =
      ingest.count > 0 ? std::optional<double>(ingest.begin) : std::nullopt;
  const auto cdc = stage_rate(samples, &Sample::cdc_events, began);
  const auto spark = stage_rate(samples, &Sample::spark_upserted, began);
  json doc;
  doc["mode"] = run.mode;
  doc["target_rate_users_per_s"] = run.target_rate;
  doc["ingest_seconds"] = round_to(run.ingest_seconds, 1);
  doc["catchup_seconds"] = round_to(run.catchup_seconds, 1);
  doc["users"] = e2e.users;
  doc["users_per_s"] = round_to(e2e.users_per_s, 0);
  doc["freshness_p50_s"] = round_to(e2e.freshness_s.p50, 3);
  doc["freshness_p95_s"] = round_to(e2e.freshness_s.p95, 3);
  doc["freshness_p99_s"] = round_to(e2e.freshness_s.p99, 3);
  doc["freshness_max_s"] = round_to(e2e.freshness_s.max, 3);
  auto stage = [](const StageRate& r, const std::optional<double>& limit, const char* unit) {
    json s;
    s["count"] = r.count;
    s["seconds"] = round_to(r.seconds, 1);
    s[std::string(unit) + "_per_s"] = round_to(r.per_s, 0);
    s["fraction_of_baseline"] = fraction(r.per_s, limit);
    return s;
  };
  doc["stages"] = {
      {"ingest_to_postgres", stage(ingest, baselines.postgres_copy_rows_per_s, "rows")},
      {"cdc_to_kafka", stage(cdc, baselines.kafka_produce_msgs_per_s, "messages")},
      {"spark_to_cassandra", stage(spark, baselines.cassandra_writes_per_s, "rows")},
  };
  doc["baselines"] = {
      {"postgres_copy_rows_per_s", optional_number(baselines.postgres_copy_rows_per_s)},
      {"kafka_produce_msgs_per_s", optional_number(baselines.kafka_produce_msgs_per_s)},
      {"cassandra_writes_per_s", optional_number(baselines.cassandra_writes_per_s)},
  };
  json services = json::object();
  for (const auto& u : service_usage(samples)) {
    services[u.name] = {{"peak_rss_mb", round_to(u.peak_rss_mb, 0)},
                        {"peak_pss_mb", pss_or_null(u.peak_pss_mb)},
                        {"avg_cpu_pct", round_to(u.avg_cpu_pct, 1)},
                        {"cpu_s", round_to(u.cpu_seconds, 2)},
                        {"peak_cpu_pct", round_to(u.peak_cpu_pct, 1)}};
  }
  doc["services"] = services;
  doc["peak_stack_rss_mb"] = round_to(peak_stack_rss_mb(samples), 0);
  doc["peak_stack_pss_mb"] = pss_or_null(peak_stack_pss_mb(samples));
  json timeline = json::array();
  for (const auto& s : samples) {
    double cpu_total = 0, rss_total = 0;
    for (const auto& [_, v] : s.services) {
      cpu_total += v.cpu_seconds;
      rss_total += static_cast<double>(v.rss_bytes);
    }
    timeline.push_back({{"t", round_to(s.t, 2)},
                        {"staging_users", counter(s.staging_users)},
                        {"cdc_events", counter(s.cdc_events)},
                        {"spark_upserted", counter(s.spark_upserted)},
                        {"cassandra_users", counter(s.cassandra_users)},
                        {"stack_rss_mb", round_to(rss_total / 1048576.0, 0)},
                        {"stack_cpu_s", round_to(cpu_total, 2)}});
  }
  doc["timeline"] = timeline;
  json fresh = json::array();
  for (const auto& f : freshness) {
    fresh.push_back({{"t", f.t},
                     {"p50_s", round_to(f.p50, 3)},
                     {"max_s", round_to(f.max, 3)},
                     {"users", f.users}});
  }
  doc["freshness_timeline"] = fresh;
  json per_minute = json::array();
  for (const auto& m : minutes) {
    per_minute.push_back({{"minute", m.minute},
                          {"committed", m.committed},
                          {"written", m.written},
                          {"written_per_s", round_to(static_cast<double>(m.written) / 60.0, 1)},
                          // No commit in the minute: no freshness to report.
                          {"freshness_p50_s", m.committed ? json(round_to(m.p50, 3)) : json()},
                          {"freshness_p99_s", m.committed ? json(round_to(m.p99, 3)) : json()}});
  }
  doc["by_minute"] = per_minute;
  return doc;
}

}  // namespace streamflow::bench
