// `streamflow reconcile`: staging against Cassandra, ids in both directions.

#include "ops/reconcile.h"

#include <iostream>

#include "apps/command.h"

namespace streamflow::apps {
namespace {

struct Reconcile final : Command {
  std::optional<int> freshness_s;

  int run(const config::Settings& settings) override {
    const int bound =
        freshness_s.value_or(static_cast<int>(settings.get_int("reconcile.freshness_s")));
    auto r = ops::reconcile(settings, bound);
    if (!r) return report(r.error());
    std::cerr << r->to_text();
    std::cout << r->to_json() << std::endl;
    return r->ok() ? 0 : 1;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_option("--freshness", freshness_s,
                   "seconds a staging row may take to reach Cassandra "
                   "(default: reconcile.freshness_s)")
        ->check(CLI::PositiveNumber);
    cmd.footer(R"(Prints lag, rejects and dead letters on stderr, one JSON line on stdout.
Exit status: 0 consistent (rows younger than the freshness bound may be in flight);
1 users missing past the bound or unexpected in Cassandra (named); 69/74 a service is down.)");
  }
};

[[maybe_unused]] const bool kReconcileRegistered = register_command<Reconcile>(
    {100, "reconcile",
     "prove nothing was lost: PostgreSQL staging against Cassandra, ids both ways"});

}  // namespace
}  // namespace streamflow::apps
