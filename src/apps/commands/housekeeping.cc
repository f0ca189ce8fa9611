// `streamflow housekeeping`: keeps the pipeline's disk use bounded.

#include "ops/housekeeping.h"

#include <algorithm>
#include <iostream>

#include "apps/command.h"

namespace streamflow::apps {
namespace {

struct Housekeeping final : Command {
  std::vector<std::string> only;
  std::optional<int> staging_retention_h, reject_retention_days, log_retention_h;
  bool dry_run = false;

  int run(const config::Settings& settings) override {
    auto options = ops::housekeeping_options(settings);
    if (!only.empty()) {
      auto has = [&](const char* s) {
        return std::find(only.begin(), only.end(), s) != only.end();
      };
      options.purge = has("purge");
      options.rejects = has("rejects");
      options.vacuum = has("vacuum");
      options.prune = has("prune");
    }
    options.staging_retention_h = staging_retention_h.value_or(options.staging_retention_h);
    options.reject_retention_days = reject_retention_days.value_or(options.reject_retention_days);
    options.log_retention_h = log_retention_h.value_or(options.log_retention_h);
    options.dry_run = dry_run;
    auto r = ops::housekeeping(settings, options);
    if (!r) return report(r.error());
    std::cerr << r->to_text(options);
    std::cout << r->to_json() << std::endl;
    return 0;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("--only", only, "run only these steps: purge, rejects, vacuum, prune")
        ->check(CLI::IsMember({"purge", "rejects", "vacuum", "prune"}));
    cmd.add_option("--staging-retention-h", staging_retention_h,
                   "hours (default: housekeeping.staging_retention_h)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--reject-retention-days", reject_retention_days,
                   "days (default: housekeeping.reject_retention_days)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--log-retention-h", log_retention_h,
                   "hours (default: housekeeping.log_retention_h)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_flag("--dry-run", dry_run, "report what would go; change nothing");
    cmd.footer(R"(Purges staging rows already confirmed in Cassandra and older than the
retention (Cassandra keeps them), deletes rejected records older than their retention,
vacuums the staging tables and prunes old Airflow logs and Spark checkpoint files. Prints
one JSON line on stdout.)");
  }
};

[[maybe_unused]] const bool kHousekeepingRegistered = register_command<Housekeeping>(
    {110, "housekeeping",
     "keep disk use bounded: old staging rows, rejects, logs and checkpoints"});

}  // namespace
}  // namespace streamflow::apps
