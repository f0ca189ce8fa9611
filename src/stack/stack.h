#pragma once
/// `streamflow up | down | status | logs`: the local stack of real services on one machine.
/// Services start in waves (PostgreSQL, Kafka and Cassandra together, then Kafka Connect),
/// each awaited by a health probe, never by a sleep. A failed start is rolled back.

#include <sys/types.h>

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "deploy/layout.h"

namespace streamflow::stack {

using deploy::Layout;

struct ServiceStatus {
  std::string name;
  std::string state;  ///< "healthy", "starting" (running, probe not yet answering) or "down"
  std::optional<pid_t> pid;
  int port = 0;
  std::string host;    ///< the address it listens on (its node's)
  std::string ports;   ///< all ports, "broker=9092 controller=9093"
  std::string detail;  ///< probe detail or supervisord's word on why it is down
  std::string version;
  std::string log_file;
  std::uint64_t rss_bytes = 0;
  int restarts = 0;  ///< exits supervisord restarted it after, since the stack's log began
  std::vector<std::pair<std::string, std::string>>
      facts;  ///< service-specific (connector state...)
};

struct StackStatus {
  std::string state_dir;
  std::string topology;  ///< "single", or the topology file's name and path
  std::optional<pid_t> supervisor_pid;
  std::vector<ServiceStatus> services;
  bool all_healthy() const;
};

/// Owns nothing but its layout; each call talks to supervisord and the services afresh.
class Stack {
 public:
  explicit Stack(Layout layout) : layout_(std::move(layout)) {}

  /// Starts what is not running, waits until everything is healthy. Harmless when already up.
  base::Result<void> up(std::ostream& out);
  /// Stops every service (stop signal, bounded wait, SIGKILL) and supervisord. Data is kept.
  base::Result<void> down(std::ostream& out);
  StackStatus status() const;
  /// Applies the staging schema migrations to the running PostgreSQL (as the pipeline role) and,
  /// when Cassandra is running, the CQL migrations of the keyspace; says what it applied.
  base::Result<void> migrate(std::ostream& out) const;
  /// Prints the last `lines` of each service log; with follow, replaces this process with
  /// `tail -F` (returns only on error).
  base::Result<void> logs(const std::vector<std::string>& services, int lines, bool follow,
                          std::ostream& out) const;

 private:
  base::Result<void> check_machine(std::ostream& out) const;
  Layout layout_;
};

std::string format_status_table(const StackStatus& status);
std::string format_status_json(const StackStatus& status);

}  // namespace streamflow::stack
