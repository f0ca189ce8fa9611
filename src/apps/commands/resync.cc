// `streamflow resync`: gets the CDC connector past change events it cannot send (a schema
// change the registry refused, then reverted) and sends what Cassandra lacks again.

#include "ops/resync.h"

#include <iostream>

#include "apps/command.h"

namespace streamflow::apps {
namespace {

struct Resync final : Command {
  bool force = false;
  int catch_up_s = 180;

  int run(const config::Settings& settings) override {
    ops::ResyncOptions o;
    o.force = force;
    o.catch_up_timeout = std::chrono::seconds(catch_up_s);
    o.progress = [](const std::string& line) { std::cerr << "resync: " << line << std::endl; };
    auto r = ops::resync(settings, o);
    if (!r) return report(r.error());
    if (!r->ok()) {
      std::cerr << "resync: the connector's task failed again: " << r->failure
                << "\n  a schema change the registry refuses is still in place: revert it "
                   "(a new staging migration), then run `streamflow resync` again\n";
    } else if (r->resynced) {
      std::cerr << "resync: done; `streamflow reconcile` shows when the users sent again are "
                   "in Cassandra\n";
    }
    std::cout << r->to_json() << std::endl;
    return r->ok() ? 0 : 1;
  }
  void add_options(CLI::App& cmd) override {
    cmd.add_flag("--force", force, "resync even when the connector's task is running");
    cmd.add_option("--catch-up-timeout", catch_up_s,
                   "seconds to wait for the streaming job to read the whole CDC topic")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd.footer(
        R"(When: Connect's task failed on change events it cannot send, and keeps failing on them
after a restart. The usual cause is a staging migration the schema registry refused (say, a
column's type changed): PostgreSQL keeps the changes made since in that shape. Revert the
change with a new migration, then run resync. It
  1. stops the connector and waits until the streaming job has read the whole CDC topic;
  2. moves the replication slot to the current WAL position, skipping the events it could not
     send, and sends again what Cassandra lacks: staging rows it does not hold (as inserts,
     so the analytics count them as signups), rows it holds an older version of (as
     updates), and users deleted from staging meanwhile (as deletes);
  3. moves the connector's offset there, resumes it and watches its task.
Prints its steps on stderr, one JSON line on stdout.
Exit status: 0 done (or nothing to do: the task runs); 1 the task failed again (the change is
still in place); 69/74 a service is down.)");
  }
};

[[maybe_unused]] const bool kResyncRegistered = register_command<Resync>(
    {105, "resync",
     "get the CDC connector past changes it cannot send (a refused schema change, reverted); "
     "send what Cassandra lacks"});

}  // namespace
}  // namespace streamflow::apps
