#pragma once
/// Kafka Connect as the control room shows it: every connector with its state, type, class,
/// worker and tasks (each with its state, worker and failure trace), from one
/// `GET /connectors?expand=status&expand=info`; and the workers the deployment runs. Parsing is
/// pure; the actions (restart a task, pause, resume) go through io::ConnectClient.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"

namespace streamflow::control {

/// A worker the deployment runs and whether its REST API answered.
struct WorkerProbe {
  std::string id;  ///< "host:port", as Connect names its workers
  bool up = false;
};

/// `{"connectors":[{"name","type","class","state","worker_id","trace","tasks":[{"id","state",
/// "worker_id","trace"}]}]}` from the body of GET /connectors?expand=status&expand=info, sorted
/// by name. data_error when the body is not that answer.
base::Result<nlohmann::json> parse_connectors(const std::string& body);

/// The workers, each with the connectors' and tasks' count it runs.
nlohmann::json workers_json(const std::vector<WorkerProbe>& workers,
                            const nlohmann::json& connectors);

/// Whether `name` is a connector name Connect accepts in a URL path as it is (letters, digits,
/// '.', '_', '-'): the control room acts only on such names, so a path can never be rewritten.
bool is_plain_connector_name(const std::string& name);

}  // namespace streamflow::control
