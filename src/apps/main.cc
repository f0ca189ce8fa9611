// streamflow: the one command of StreamFlow. Wiring only: parse arguments, load settings,
// call the module, turn its Result into output and an exit status.

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "base/net.h"
#include "base/result.h"
#include "bench/driver.h"
#include "config/catalog.h"
#include "config/secrets.h"
#include "cql/cql.h"
#include "cql/format.h"
#include "cql/migrations.h"
#include "ingest/ingester.h"
#include "io/http.h"
#include "io/migrations.h"
#include "mockapi/server.h"
#include "ops/housekeeping.h"
#include "ops/reconcile.h"
#include "serve/api.h"
#include "serve/health.h"
#include "serve/server.h"
#include "serve/store.h"
#include "stack/layout.h"
#include "stack/services.h"
#include "stack/stack.h"
#include "stack/watch.h"

namespace sf = streamflow;

namespace {

int report(const sf::base::Error& error) {
  std::cerr << "streamflow: error: " << error.describe() << "\n";
  return sf::base::exit_code(error.code);
}

/// SIGINT/SIGTERM become a flag: blocked in every thread, awaited by one thread of their own.
/// Call before starting any other thread. The waiting thread is detached and may outlive this
/// object (a command that fails fast returns before it even calls sigwait), so it owns copies
/// of everything it touches.
class StopSignal {
 public:
  StopSignal() : stop_(std::make_shared<std::atomic<bool>>(false)) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set, stop = stop_] {
      int sig = 0;
      sigwait(&set, &sig);
      *stop = true;
    }).detach();
  }
  const std::atomic<bool>& flag() const { return *stop_; }
  void wait() const {
    while (!*stop_) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

 private:
  std::shared_ptr<std::atomic<bool>> stop_;
};

sf::cql::ConnectOptions cql_options(const sf::stack::Layout& layout) {
  sf::cql::ConnectOptions options;
  options.contact_point = layout.cassandra_contact_point();
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "StreamFlow: a real-time user-data pipeline (randomuser API -> PostgreSQL -> Debezium -> "
      "Kafka -> Spark -> Cassandra).\n"
      "Settings: defaults < streamflow.yaml < STREAMFLOW_* environment < --set name=value."};
  app.require_subcommand(0, 1);
  std::optional<std::string> config_file;
  std::vector<std::string> overrides;
  bool print_config = false;
  app.add_option("--config", config_file,
                 "YAML config file (default: $STREAMFLOW_CONFIG or ./streamflow.yaml)");
  app.add_option("--set", overrides, "override one setting, name=value (repeatable)");
  app.add_flag("--print-config", print_config,
               "print every setting with its value and origin, then exit");

  auto* up =
      app.add_subcommand("up",
                         "start the local stack (PostgreSQL, Kafka, Connect + Debezium, Cassandra) "
                         "and wait until every service is healthy");
  auto* down = app.add_subcommand("down", "stop the local stack cleanly; all data is kept");
  auto* status = app.add_subcommand("status",
                                    "show each service with pid, port, health and version "
                                    "(exit 0 when all are healthy, 3 otherwise)");
  bool json = false;
  status->add_flag("--json", json, "machine-readable output");
  auto* watch = app.add_subcommand(
      "watch",
      "follow records through the running pipeline: every few seconds, one line per stage "
      "(PostgreSQL staging, the CDC topic, the Spark job, Cassandra) with counts and rates, "
      "until Ctrl-C");
  double watch_interval = 2.0;
  int watch_ticks = 0;
  watch->add_option("-i,--interval", watch_interval, "seconds between updates")
      ->check(CLI::Range(0.2, 3600.0));
  watch->add_option("-n,--count", watch_ticks, "stop after this many updates (0: until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  auto* logs = app.add_subcommand("logs", "print the last lines of service logs");
  std::vector<std::string> log_services;
  int log_lines = 50;
  bool follow = false;
  logs->add_option("service", log_services,
                   "postgres, kafka, connect, cassandra or supervisord (default: all)");
  logs->add_option("-n,--lines", log_lines, "how many lines")->check(CLI::PositiveNumber);
  logs->add_flag("-f,--follow", follow, "keep printing new lines (tail -F)");

  auto* migrate = app.add_subcommand(
      "migrate",
      "apply the staging schema migrations to the running PostgreSQL, and the CQL migrations "
      "(cassandra.migrations_dir) to Cassandra when it is running");

  auto* cql_cmd = app.add_subcommand(
      "cql",
      "run one CQL statement against the local stack's Cassandra and print its rows: a header "
      "line of column names, then one tab-separated line per row (null is \\N; backslash, tab "
      "and newline are escaped as \\\\, \\t, \\n), or a JSON array with --json");
  std::string cql_statement;
  std::optional<std::string> cql_keyspace;
  std::vector<std::string> cql_params;
  bool cql_json = false;
  cql_cmd->add_option("statement", cql_statement, "e.g. \"SELECT * FROM users LIMIT 5\"")
      ->required();
  cql_cmd->add_option("-k,--keyspace", cql_keyspace,
                      "keyspace of unqualified table names (default: setting cassandra.keyspace; "
                      "\"\" for none)");
  cql_cmd->add_option("-p,--param", cql_params,
                      "value of the next ? marker, as text converted to its column's type "
                      "(repeatable)");
  cql_cmd->add_flag("--json", cql_json, "print a JSON array of objects, one per row");
  std::optional<std::string> cql_rows_from;
  int cql_concurrency = 64;
  cql_cmd->add_option("--rows-from", cql_rows_from,
                      "run the statement (with ? markers) once per row of this TSV file, in the "
                      "format the command prints (header line, \\N for null; '-' for stdin), "
                      "and print a JSON summary with the write rate");
  cql_cmd->add_option("--concurrency", cql_concurrency, "with --rows-from: requests in flight")
      ->check(CLI::Range(1, 4096));

  auto* mock = app.add_subcommand(
      "mock-api", "serve a randomuser.me-compatible API on loopback (runs until stopped)");
  sf::mockapi::ServerOptions mock_opts;
  std::optional<int> mock_port;
  std::optional<int> mock_threads;
  mock->add_option("--host", mock_opts.host, "address to listen on (loopback only)")
      ->capture_default_str();
  mock->add_option("--port", mock_port, "port (default: setting mock_api.port)");
  mock->add_option("--threads", mock_threads, "worker threads (default: setting mock_api.threads)");
  mock->add_option("--fail-rate", mock_opts.faults.fail_rate,
                   "fraction of requests answered 500/503")
      ->check(CLI::Range(0.0, 1.0));
  mock->add_option("--rate-limit-rate", mock_opts.faults.rate_limit_rate,
                   "fraction answered 429 with Retry-After")
      ->check(CLI::Range(0.0, 1.0));
  mock->add_option("--retry-after", mock_opts.faults.retry_after_s, "Retry-After seconds on 429")
      ->check(CLI::Range(0, 600));
  mock->add_option("--latency-ms", mock_opts.faults.latency_ms, "latency added to every request")
      ->check(CLI::Range(0, 600000));
  mock->add_option("--truncate-rate", mock_opts.faults.truncate_rate,
                   "fraction of bodies cut short")
      ->check(CLI::Range(0.0, 1.0));
  mock->add_option("--malformed-rate", mock_opts.faults.malformed_rate,
                   "fraction of bodies that are not JSON")
      ->check(CLI::Range(0.0, 1.0));
  mock->add_option("--error-body-rate", mock_opts.faults.error_body_rate,
                   "fraction answered 200 with {\"error\": ...}")
      ->check(CLI::Range(0.0, 1.0));
  mock->add_option("--bad-record-rate", mock_opts.faults.bad_record_rate,
                   "fraction of records with a missing or mistyped field")
      ->check(CLI::Range(0.0, 1.0));
  mock->add_option("--fault-seed", mock_opts.faults.seed,
                   "seed of the fault dice (0: from the clock)");

  auto* ingest_cmd = app.add_subcommand(
      "ingest",
      "fetch users from the randomuser-compatible API (or --file) into PostgreSQL staging.\n"
      "Prints progress on stderr and a one-line JSON summary on stdout.\n"
      "Exit status: 0 all batches landed (rejected records are normal); 64 bad arguments; "
      "65 unusable --file; 66 --file missing; 69 the API kept failing for some batch; "
      "74 PostgreSQL failed; 78 not set up (run `streamflow up`).");
  sf::ingest::Options iopt;
  std::optional<std::string> url;
  std::optional<int> batch_size, concurrency, max_retries, timeout_s;
  std::optional<std::string> nat;
  std::optional<std::string> file;
  ingest_cmd->add_option("-n,--count", iopt.count, "number of users to fetch")
      ->check(CLI::Range(1LL, 1000000000LL))
      ->capture_default_str();
  ingest_cmd->add_flag("--continuous", iopt.continuous,
                       "keep fetching until stopped (Ctrl-C / SIGTERM)");
  ingest_cmd->add_option("--rate", iopt.rate, "target records per second (0: flat out)")
      ->check(CLI::NonNegativeNumber);
  ingest_cmd->add_option("--url", url,
                         "API URL (default: setting ingest.url, else the local mock)");
  ingest_cmd->add_option("--batch-size", batch_size,
                         "records per request, 1..5000 (default: ingest.batch_size)");
  ingest_cmd->add_option("--concurrency", concurrency,
                         "requests in flight (default: ingest.concurrency)");
  ingest_cmd->add_option("--seed", iopt.seed,
                         "API seed; the same seed and count land the same users (default: random)");
  ingest_cmd->add_option("--nat", nat, "nationalities, comma-separated (default: ingest.nat)");
  ingest_cmd->add_option("--max-retries", max_retries,
                         "retries per request (default: ingest.max_retries)");
  ingest_cmd->add_option("--timeout", timeout_s, "seconds per request (default: ingest.timeout_s)");
  ingest_cmd->add_option(
      "--file", file,
      "ingest this saved API response instead of calling the API: the API's envelope, a bare "
      "JSON array of result objects, or JSON Lines (one result object per line), with or "
      "without a byte-order mark; anything else fails (exit 65) and stores nothing");
  ingest_cmd->add_flag("--dry-run", iopt.dry_run,
                       "decode and validate only: no PostgreSQL, nothing stored; prints the "
                       "usual summary (\"valid\" and \"rejected\" say what a real run would land)");
  bool show_rejects = false;
  ingest_cmd->add_flag("--show-rejects", show_rejects,
                       "print each rejected record on stdout as a JSON line, before the summary: "
                       "{\"reject\": index, \"reason\", \"uuid\", \"payload\"} (the payload as "
                       "stored: credentials dropped, national ids hashed)");
  bool quiet = false;
  ingest_cmd->add_flag("-q,--quiet", quiet, "no progress lines");

  auto* reconcile_cmd = app.add_subcommand(
      "reconcile",
      "prove nothing was lost: compare PostgreSQL staging with Cassandra users (ids in both "
      "directions), report lag, rejects and dead letters.\n"
      "Prints a report on stderr and one JSON line on stdout. Exit status: 0 consistent (rows "
      "younger than the freshness bound may be in flight); 1 users missing past the bound or "
      "unexpected in Cassandra (named); 69/74 a service is down.");
  std::optional<int> freshness_s;
  reconcile_cmd
      ->add_option("--freshness", freshness_s,
                   "seconds a staging row may take to reach Cassandra "
                   "(default: reconcile.freshness_s)")
      ->check(CLI::PositiveNumber);

  auto* housekeeping_cmd = app.add_subcommand(
      "housekeeping",
      "purge staging rows already confirmed in Cassandra and older than the retention (Cassandra "
      "keeps them), delete rejected records older than their retention, vacuum the staging "
      "tables, prune old Airflow logs and Spark checkpoint files. Prints one JSON line on "
      "stdout.");
  sf::ops::HousekeepingOptions hk;
  std::optional<int> staging_retention_h, log_retention_h, reject_retention_days;
  std::vector<std::string> hk_only;
  housekeeping_cmd
      ->add_option("--only", hk_only, "run only these steps: purge, rejects, vacuum, prune")
      ->check(CLI::IsMember({"purge", "rejects", "vacuum", "prune"}));
  housekeeping_cmd
      ->add_option("--reject-retention-days", reject_retention_days,
                   "days (default: housekeeping.reject_retention_days)")
      ->check(CLI::NonNegativeNumber);
  housekeeping_cmd
      ->add_option("--staging-retention-h", staging_retention_h,
                   "hours (default: housekeeping.staging_retention_h)")
      ->check(CLI::NonNegativeNumber);
  housekeeping_cmd
      ->add_option("--log-retention-h", log_retention_h,
                   "hours (default: housekeeping.log_retention_h)")
      ->check(CLI::NonNegativeNumber);
  housekeeping_cmd->add_flag("--dry-run", hk.dry_run, "report what would go; change nothing");

  auto* serve_cmd = app.add_subcommand(
      "serve",
      "the REST API over Cassandra, the live dashboard, pipeline health, Prometheus /metrics "
      "and server-sent events (started by `up`; run by hand for another port or address).\n"
      "API description: GET /api/v1/openapi.json. A non-loopback --host needs "
      "STREAMFLOW_SERVE_TOKEN; clients then send Authorization: Bearer <token>.");
  std::optional<std::string> serve_host;
  std::optional<int> serve_port;
  serve_cmd->add_option("--host", serve_host, "address (default: serve.host, loopback)");
  serve_cmd->add_option("--port", serve_port, "port (default: serve.port)")
      ->check(CLI::Range(1, 65535));

  auto* airflow_cmd = app.add_subcommand(
      "airflow",
      "run Airflow's CLI against the stack's Airflow, as the service account, e.g.\n"
      "  streamflow airflow dags list\n  streamflow airflow dags unpause streamflow_ingest\n"
      "  streamflow airflow dags test streamflow_reconcile");
  std::vector<std::string> airflow_args;
  bool airflow_python = false;
  airflow_cmd->add_flag("--python", airflow_python,
                        "run Airflow's venv Python (a script and its arguments) instead");
  airflow_cmd->add_option("args", airflow_args, "arguments for the airflow command")
      ->expected(0, -1);
  airflow_cmd->prefix_command();

  auto* bench_cmd = app.add_subcommand(
      "bench",
      "measure the running pipeline: ingest at --rate users/s (or flat out) for --seconds, wait "
      "until Cassandra has every user, then report per-stage throughput (ingest -> PostgreSQL, "
      "CDC -> Kafka, Spark -> Cassandra), end-to-end freshness (p50/p95/p99/max), memory and CPU "
      "of every service, and this machine's baselines (PostgreSQL COPY, Kafka produce, raw "
      "Cassandra writes) with each stage as a fraction of its baseline. Writes "
      "<out-dir>/<name>.json and <name>.png (bench/plot.py); a progress line every 2 s on "
      "stderr. Run it on a stack of its own: `make bench` does.");
  sf::bench::Options bopt;
  bench_cmd->add_option("--seconds", bopt.seconds, "how long ingest runs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bench_cmd->add_option("--rate", bopt.rate, "users/s to ingest (0: flat out)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  bench_cmd->add_option("--name", bopt.name, "result file name, without extension")
      ->capture_default_str();
  bench_cmd->add_option("--out-dir", bopt.out_dir, "where the JSON and the PNG go")
      ->capture_default_str();
  bench_cmd->add_option("--baseline-rows", bopt.baseline_rows, "rows each baseline writes")
      ->check(CLI::Range(1000LL, 1000000LL))
      ->capture_default_str();
  bool no_baselines = false;
  bench_cmd->add_flag("--no-baselines", no_baselines, "skip the baselines");
  bench_cmd->add_flag(
      "--stages-apart", bopt.stages_apart,
      "measure the two halves one after the other: ingest -> PostgreSQL -> Debezium -> Kafka "
      "with the Spark job paused, then Spark -> Cassandra draining the topic alone; reports each "
      "half's CPU per user by service and the highest sustained rate they leave room for on "
      "this machine (no baselines, no chart)");
  bench_cmd
      ->add_option("--target-rate", bopt.target_rate,
                   "users/s the --stages-apart figures are set against")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  std::string plot_script = "bench/plot.py";
  bench_cmd->add_option("--plot", plot_script, "chart script (JSON in, PNG out; empty: no chart)")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  std::optional<std::filesystem::path> config_path;
  if (config_file) config_path = *config_file;
  auto settings = sf::config::load_settings(config_path, overrides);
  if (!settings) return report(settings.error());
  if (print_config) {
    std::cout << settings->describe();
    return 0;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 0;
  }

  if (mock->parsed()) {
    if (!sf::base::is_loopback_host(mock_opts.host)) {
      return report(
          sf::base::make_error(sf::base::Errc::invalid_argument,
                               "the mock API listens on loopback only, not " + mock_opts.host));
    }
    mock_opts.port = mock_port.value_or(static_cast<int>(settings->get_int("mock_api.port")));
    mock_opts.threads =
        mock_threads.value_or(static_cast<int>(settings->get_int("mock_api.threads")));
    StopSignal stop;
    sf::mockapi::Server server(mock_opts);
    if (auto r = server.start(); !r) return report(r.error());
    std::printf("mock-api listening on http://%s:%d/api/ (Ctrl-C stops it)\n",
                mock_opts.host.c_str(), mock_opts.port);
    std::fflush(stdout);
    stop.wait();
    server.stop();
    return 0;
  }

  if (migrate->parsed()) {
    auto conninfo = sf::config::pipeline_conninfo(*settings, "streamflow-migrate");
    if (!conninfo) return report(conninfo.error());
    auto conn = sf::io::Connection::open(*conninfo);
    if (!conn) return report(conn.error());
    auto applied = sf::io::apply_migrations(*conn, settings->get_path("postgres.migrations_dir"));
    if (!applied) return report(applied.error());
    std::printf("%zu migration(s) applied\n", applied->size());
    const auto layout = sf::stack::Layout::from_settings(*settings);
    if (!sf::base::tcp_port_open("127.0.0.1", layout.ports.cassandra,
                                 std::chrono::milliseconds(1000))) {
      std::printf("Cassandra is not running on %s: CQL migrations not applied\n",
                  layout.cassandra_contact_point().c_str());
      return 0;
    }
    auto session = sf::cql::Session::connect(cql_options(layout));
    if (!session) return report(session.error());
    auto cql_applied =
        sf::cql::apply_migrations(*session, layout.cql_migrations_dir,
                                  {layout.cassandra_keyspace, layout.cassandra_replication});
    if (!cql_applied) return report(cql_applied.error());
    for (const auto& v : *cql_applied)
      std::printf("  cassandra  applied migration V%s\n", v.c_str());
    std::printf("%zu CQL migration(s) applied (keyspace %s)\n", cql_applied->size(),
                layout.cassandra_keyspace.c_str());
    return 0;
  }

  if (cql_cmd->parsed()) {
    const auto layout = sf::stack::Layout::from_settings(*settings);
    auto session = sf::cql::Session::connect(cql_options(layout));
    if (!session) return report(session.error());
    const auto keyspace = cql_keyspace.value_or(layout.cassandra_keyspace);
    if (!keyspace.empty()) {
      if (auto r = session->use_keyspace(keyspace); !r) return report(r.error());
    }
    if (cql_rows_from) {
      std::string text;
      if (*cql_rows_from == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      } else {
        auto content = sf::base::read_file(*cql_rows_from);
        if (!content) return report(content.error());
        text = std::move(*content);
      }
      auto input = sf::cql::parse_tsv(text);
      if (!input) return report(input.error());
      auto prepared = session->prepare(cql_statement);
      if (!prepared) return report(prepared.error());
      if (prepared->columns().size() != input->columns.size()) {
        return report(sf::base::make_error(
            sf::base::Errc::invalid_argument,
            fmt::format("the statement has {} ? markers, the rows have {} columns",
                        prepared->columns().size(), input->columns.size())));
      }
      const auto start = std::chrono::steady_clock::now();
      auto written = session->execute_batch(*prepared, input->rows, cql_concurrency);
      if (!written) return report(written.error());
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("{\"rows\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"concurrency\":%d}\n",
                  static_cast<unsigned long long>(*written), seconds,
                  seconds > 0 ? static_cast<double>(*written) / seconds : 0.0, cql_concurrency);
      return 0;
    }
    auto rows =
        session->query(cql_statement, sf::cql::Params(cql_params.begin(), cql_params.end()));
    if (!rows) return report(rows.error());
    std::cout << (cql_json ? sf::cql::format_json(*rows) : sf::cql::format_tsv(*rows));
    return 0;
  }

  // Ingest's settings (the API, batch size, PostgreSQL, the id hash key), with the command
  // line's overrides: for `ingest` and `bench`.
  auto ingest_options = [&]() -> sf::base::Result<sf::ingest::Options> {
    iopt.url = url.value_or(settings->get("ingest.url"));
    if (iopt.url.empty()) iopt.url = "http://127.0.0.1:" + settings->get("mock_api.port") + "/api/";
    iopt.batch_size = batch_size.value_or(static_cast<int>(settings->get_int("ingest.batch_size")));
    iopt.concurrency =
        concurrency.value_or(static_cast<int>(settings->get_int("ingest.concurrency")));
    iopt.max_retries =
        max_retries.value_or(static_cast<int>(settings->get_int("ingest.max_retries")));
    iopt.timeout_s = timeout_s.value_or(static_cast<int>(settings->get_int("ingest.timeout_s")));
    iopt.nat = nat.value_or(settings->get("ingest.nat"));
    if (file) iopt.file = *file;
    iopt.progress = !quiet;
    // Politeness: the local mock may be asked flat out; any other host gets the low default.
    auto api = sf::io::Url::parse(iopt.url);
    const bool local_api = api && sf::base::is_loopback_host(api->host);
    iopt.requests_per_s =
        settings->get_double(local_api ? "ingest.local_requests_per_s" : "ingest.requests_per_s");
    if (!iopt.dry_run) {
      auto conninfo = sf::config::pipeline_conninfo(*settings, "streamflow-ingest");
      if (!conninfo) return conninfo.error();
      iopt.pg_conninfo = *conninfo;
    }
    auto key = sf::config::secret(*settings, "ingest.id_hash_key", "id_hash.key", true);
    if (!key) return key.error();
    iopt.id_hash_key = *key;
    return iopt;
  };

  if (bench_cmd->parsed()) {
    auto io = ingest_options();
    if (!io) return report(io.error());
    bopt.baselines = !no_baselines;
    bopt.plot_script = plot_script;
    if (!bopt.plot_script.empty() && !std::filesystem::exists(bopt.plot_script)) {
      std::cerr << "bench: no " << plot_script << " here: no chart (run from the repository)\n";
      bopt.plot_script.clear();
    }
    StopSignal stop;
    auto doc = sf::bench::run(sf::stack::Layout::from_settings(*settings), *io, bopt, stop.flag(),
                              std::cerr);
    if (!doc) return report(doc.error());
    std::cout << fmt::format(
                     "{{\"users\":{},\"users_per_s\":{},\"freshness_p99_s\":{},"
                     "\"peak_stack_rss_mb\":{}}}",
                     (*doc)["users"].dump(), (*doc)["users_per_s"].dump(),
                     (*doc)["freshness_p99_s"].dump(), (*doc)["peak_stack_rss_mb"].dump())
              << std::endl;
    return 0;
  }

  if (ingest_cmd->parsed()) {
    if (auto r = ingest_options(); !r) return report(r.error());
    if (show_rejects) {
      iopt.on_reject = [](const sf::model::Reject& r, const std::string&) {
        std::cout << sf::ingest::reject_json(r) << '\n';
      };
    }
    StopSignal stop;
    auto outcome = sf::ingest::run(iopt, stop.flag());
    std::cout << outcome.summary.to_json() << std::endl;
    if (outcome.error) return report(*outcome.error);
    return 0;
  }

  if (reconcile_cmd->parsed()) {
    const int bound =
        freshness_s.value_or(static_cast<int>(settings->get_int("reconcile.freshness_s")));
    auto r = sf::ops::reconcile(*settings, bound);
    if (!r) return report(r.error());
    std::cerr << r->to_text();
    std::cout << r->to_json() << std::endl;
    return r->ok() ? 0 : 1;
  }

  if (housekeeping_cmd->parsed()) {
    if (!hk_only.empty()) {
      auto has = [&](const char* s) {
        return std::find(hk_only.begin(), hk_only.end(), s) != hk_only.end();
      };
      hk.purge = has("purge");
      hk.rejects = has("rejects");
      hk.vacuum = has("vacuum");
      hk.prune = has("prune");
    }
    hk.staging_retention_h = staging_retention_h.value_or(
        static_cast<int>(settings->get_int("housekeeping.staging_retention_h")));
    hk.log_retention_h = log_retention_h.value_or(
        static_cast<int>(settings->get_int("housekeeping.log_retention_h")));
    hk.reject_retention_days = reject_retention_days.value_or(
        static_cast<int>(settings->get_int("housekeeping.reject_retention_days")));
    auto r = sf::ops::housekeeping(*settings, hk);
    if (!r) return report(r.error());
    std::cerr << fmt::format(
        "housekeeping{}: purged {} of {} staging rows older than {} h ({} not yet confirmed in "
        "Cassandra); {} {} rejects older than {} days; vacuumed {} table(s); pruned {} file(s), "
        "{} bytes\n",
        hk.dry_run ? " (dry run)" : "", r->purged, r->purge_candidates, hk.staging_retention_h,
        r->unconfirmed, hk.dry_run ? "would delete" : "deleted", r->rejects_purged,
        hk.reject_retention_days, r->vacuumed.size(), r->pruned_files, r->pruned_bytes);
    std::cout << r->to_json() << std::endl;
    return 0;
  }

  if (serve_cmd->parsed()) {
    const auto layout = sf::stack::Layout::from_settings(*settings);
    auto conninfo = sf::config::pipeline_conninfo(*settings, "streamflow-serve");
    if (!conninfo) return report(conninfo.error());
    sf::serve::ServeOptions so;
    so.host = serve_host.value_or(settings->get("serve.host"));
    so.port = serve_port.value_or(static_cast<int>(settings->get_int("serve.port")));
    so.threads = static_cast<int>(settings->get_int("serve.threads"));
    so.token = settings->get("serve.token");
    so.web_dir = settings->get_path("serve.web_dir");
    StopSignal stop;
    sf::serve::HealthMonitor monitor(layout, *conninfo,
                                     static_cast<int>(settings->get_int("serve.refresh_ms")));
    const auto clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    sf::serve::CqlStore cassandra(cql_options(layout), layout.cassandra_keyspace);
    sf::serve::CachingStore store(cassandra, settings->get_int("serve.refresh_ms"), clock);
    sf::serve::Api api(
        store, [&monitor] { return monitor.latest().first; }, clock);
    sf::serve::RequestStats stats;
    sf::serve::Server server(so, api, monitor, stats);
    monitor.start();
    if (auto r = server.start(); !r) {
      monitor.stop();
      return report(r.error());
    }
    std::printf(
        "serve listening on http://%s:%d/ (dashboard), /api/v1/ (API), /metrics; "
        "Ctrl-C stops it\n",
        so.host.c_str(), so.port);
    std::fflush(stdout);
    stop.wait();
    monitor.stop();  // first: it releases the live-update streams
    server.stop();
    return 0;
  }

  if (airflow_cmd->parsed()) {
    const auto layout = sf::stack::Layout::from_settings(*settings);
    auto cmd = sf::stack::airflow_command(layout, airflow_args, airflow_python);
    std::vector<char*> cargv;
    for (auto& a : cmd) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::fflush(nullptr);
    execvp(cargv[0], cargv.data());
    return report(sf::base::make_error(sf::base::Errc::failed_precondition,
                                       "cannot run " + cmd[0] + ": " + std::strerror(errno)));
  }

  sf::stack::Stack stack(sf::stack::Layout::from_settings(*settings));
  if (up->parsed()) {
    auto r = stack.up(std::cout);
    return r ? 0 : report(r.error());
  }
  if (down->parsed()) {
    auto r = stack.down(std::cout);
    return r ? 0 : report(r.error());
  }
  if (status->parsed()) {
    auto st = stack.status();
    std::cout << (json ? sf::stack::format_status_json(st) : sf::stack::format_status_table(st));
    return st.all_healthy() ? 0 : 3;
  }
  if (watch->parsed()) {
    auto conninfo = sf::config::pipeline_conninfo(*settings, "streamflow-watch");
    if (!conninfo) return report(conninfo.error());
    StopSignal stop;
    sf::stack::watch_pipeline(sf::stack::Layout::from_settings(*settings), *conninfo,
                              watch_interval, watch_ticks, stop.flag(), std::cout);
    return 0;
  }
  if (logs->parsed()) {
    auto r = stack.logs(log_services, log_lines, follow, std::cout);
    return r ? 0 : report(r.error());
  }
  return 0;
}
