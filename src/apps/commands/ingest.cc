// `streamflow ingest`: the randomuser-compatible API (or a saved file) into PostgreSQL staging.

#include <iostream>

#include "apps/command.h"
#include "ingest/configure.h"
#include "ingest/ingester.h"

namespace streamflow::apps {
namespace {

struct Ingest final : Command {
  ingest::Options options;
  ingest::Overrides overrides;
  std::optional<std::string> file;
  bool show_rejects = false;
  bool quiet = false;

  int run(const config::Settings& settings) override {
    if (file) options.file = *file;
    options.progress = !quiet;
    if (auto r = ingest::configure(options, settings, overrides); !r) return report(r.error());
    if (show_rejects) {
      options.on_reject = [](const model::Reject& r, const std::string&) {
        std::cout << ingest::reject_json(r) << '\n';
      };
    }
    StopSignal stop;
    auto outcome = ingest::run(options, stop.flag());
    std::cout << outcome.summary.to_json() << std::endl;
    if (outcome.error) return report(*outcome.error);
    return 0;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("-n,--count", options.count, "number of users to fetch")
        ->check(CLI::Range(1LL, 1000000000LL))
        ->capture_default_str();
    cmd.add_flag("--continuous", options.continuous,
                 "keep fetching until stopped (Ctrl-C / SIGTERM)");
    cmd.add_option("--rate", options.rate, "target records per second (0: flat out)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--url", overrides.url,
                   "API URL (default: setting ingest.url, else the local mock)");
    cmd.add_option("--batch-size", overrides.batch_size,
                   "records per request, 1..5000 (default: ingest.batch_size)");
    cmd.add_option("--concurrency", overrides.concurrency,
                   "requests in flight (default: ingest.concurrency)");
    cmd.add_option("--seed", options.seed,
                   "API seed; the same seed and count land the same users (default: random)");
    cmd.add_option("--nat", overrides.nat, "nationalities, comma-separated (default: ingest.nat)");
    cmd.add_option("--max-retries", overrides.max_retries,
                   "retries per request (default: ingest.max_retries)");
    cmd.add_option("--timeout", overrides.timeout_s,
                   "seconds per request (default: ingest.timeout_s)");
    cmd.add_option(
        "--file", file,
        "ingest this saved API response instead of calling the API: the API's envelope, a bare "
        "JSON array of result objects, or JSON Lines (one result object per line), with or "
        "without a byte-order mark; anything else fails (exit 65) and stores nothing");
    cmd.add_flag("--dry-run", options.dry_run,
                 "decode and validate only: no PostgreSQL, nothing stored; prints the usual "
                 "summary (\"valid\" and \"rejected\" say what a real run would land)");
    cmd.add_flag("--show-rejects", show_rejects,
                 "print each rejected record on stdout as a JSON line, before the summary: "
                 "{\"reject\": index, \"reason\", \"uuid\", \"payload\"} (the payload as stored: "
                 "credentials dropped, national ids hashed)");
    cmd.add_flag("-q,--quiet", quiet, "no progress lines");
    cmd.footer(R"(Prints progress on stderr and a one-line JSON summary on stdout.
Exit status: 0 all batches landed (rejected records are normal); 64 bad arguments; 65
unusable --file; 66 --file missing; 69 the API kept failing for some batch; 74 PostgreSQL
failed; 78 not set up (run `streamflow up`).)");
  }
};

[[maybe_unused]] const bool kIngestRegistered = register_command<Ingest>(
    {90, "ingest",
     "fetch users from the randomuser-compatible API (or --file) into PostgreSQL staging"});

}  // namespace
}  // namespace streamflow::apps
