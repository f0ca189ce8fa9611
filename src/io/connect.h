#pragma once
/// A client of Kafka Connect's REST API (one worker's address): what `up` registers the
/// Debezium connector with, what `status` and serve's health ask it, and what the control room
/// will act through. Each call is one request; an Error only when the worker does not answer
/// (any HTTP status is an answer, for the caller to judge). Not thread-safe: one per thread.

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace httplib {
class Client;
}

namespace streamflow::io {

struct ConnectAnswer {
  int status = 0;
  std::string body;
};

/// A connector's state and its tasks' ("RUNNING", "FAILED", "PAUSED", ...).
struct ConnectorState {
  std::string connector;
  std::vector<std::string> tasks;  ///< by task id
  /// Why the first failed part (the connector, else its first failed task) failed: the root
  /// cause of its trace ("" when nothing failed).
  std::string failure;
  /// "RUNNING task0=RUNNING": the form `status` shows.
  std::string summary() const;
};

class ConnectClient {
 public:
  /// `read_timeout_s`: how long a request may take once connected.
  ConnectClient(const std::string& host, int port, int read_timeout_s = 5);
  ~ConnectClient();
  ConnectClient(ConnectClient&&) noexcept;
  ConnectClient& operator=(ConnectClient&&) noexcept;

  base::Result<ConnectAnswer> get(const std::string& path);
  /// Creates or updates a connector (PUT /connectors/<name>/config, idempotent): 201 created,
  /// 200 updated, 409 while the worker's group rebalances.
  base::Result<ConnectAnswer> put_config(const std::string& name, const std::string& config_json);
  /// Restarts the connector's failed parts (its failed tasks included).
  base::Result<ConnectAnswer> restart_failed(const std::string& name);
  /// Stops the connector and its tasks, keeping its config and offsets (PUT .../stop): 202.
  base::Result<ConnectAnswer> stop(const std::string& name);
  /// Pauses the connector and its tasks (PUT .../pause): 202. They keep their place.
  base::Result<ConnectAnswer> pause(const std::string& name);
  /// Restarts one task (POST .../tasks/<id>/restart): 204, 404 for an unknown task.
  base::Result<ConnectAnswer> restart_task(const std::string& name, int task);
  /// Starts a stopped or paused connector again (PUT .../resume): 202.
  base::Result<ConnectAnswer> resume(const std::string& name);
  /// Replaces offsets of a stopped connector (PATCH .../offsets with {"offsets": [...]}): 200.
  base::Result<ConnectAnswer> patch_offsets(const std::string& name, const std::string& body_json);
  /// GET /connectors/<name>/status: nullopt-like error (not_found) when it is not registered.
  base::Result<ConnectorState> state(const std::string& name);
  /// The worker's own version (GET /), or "" when it does not say.
  std::string version();

 private:
  std::unique_ptr<httplib::Client> client_;
};

/// The root cause in a Java stack trace: its last "Caused by:" line, else its first line
/// (at most 400 characters).
std::string trace_cause(const std::string& trace);

/// What an operator does about a connector failure, when StreamFlow knows ("" otherwise): a
/// schema change the registry refused is reverted, then `streamflow resync`.
std::string failure_advice(const std::string& failure);

/// The state in a GET /connectors/<name>/status body; invalid_argument when it is not one.
base::Result<ConnectorState> parse_connector_state(const std::string& body);

}  // namespace streamflow::io
