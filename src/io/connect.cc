#include "io/connect.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace streamflow::io {

using base::Errc;

std::string ConnectorState::summary() const {
  std::string out = connector;
  for (std::size_t i = 0; i < tasks.size(); ++i) out += fmt::format(" task{}={}", i, tasks[i]);
  return out;
}

std::string trace_cause(const std::string& trace) {
  std::string cause;
  std::size_t start = 0;
  while (start < trace.size()) {
    auto end = trace.find('\n', start);
    if (end == std::string::npos) end = trace.size();
    const auto line = trace.substr(start, end - start);
    if (start == 0) cause = line;
    if (line.rfind("Caused by: ", 0) == 0) cause = line.substr(11);
    start = end + 1;
  }
  return cause.substr(0, 400);
}

std::string failure_advice(const std::string& failure) {
  if (failure.find("RuleViolationException") != std::string::npos ||
      failure.find("Incompatible artifact") != std::string::npos) {
    return "the schema registry refused a staging change: revert it with a new migration, "
           "then run `streamflow resync`";
  }
  return "";
}

base::Result<ConnectorState> parse_connector_state(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return base::make_error(Errc::invalid_argument,
                            "not a connector status: " + body.substr(0, 200));
  }
  ConnectorState out;
  out.connector = doc.value("/connector/state"_json_pointer, std::string("?"));
  if (out.connector == "FAILED") {
    out.failure = trace_cause(doc.value("/connector/trace"_json_pointer, std::string()));
  }
  std::vector<std::pair<int, std::string>> tasks;
  std::vector<std::pair<int, std::string>> failures;
  for (const auto& t : doc.value("tasks", nlohmann::json::array())) {
    tasks.emplace_back(t.value("id", 0), t.value("state", std::string("?")));
    if (tasks.back().second == "FAILED")
      failures.emplace_back(tasks.back().first, t.value("trace", std::string()));
  }
  std::sort(tasks.begin(), tasks.end());
  std::sort(failures.begin(), failures.end());
  if (out.failure.empty() && !failures.empty()) out.failure = trace_cause(failures.front().second);
  for (auto& [id, task_state] : tasks) out.tasks.push_back(std::move(task_state));
  return out;
}

ConnectClient::ConnectClient(const std::string& host, int port, int read_timeout_s)
    : client_(std::make_unique<httplib::Client>(host, port)) {
  client_->set_connection_timeout(2, 0);
  client_->set_read_timeout(read_timeout_s, 0);
}
ConnectClient::~ConnectClient() = default;
ConnectClient::ConnectClient(ConnectClient&&) noexcept = default;
ConnectClient& ConnectClient::operator=(ConnectClient&&) noexcept = default;

namespace {

base::Result<ConnectAnswer> answer(const httplib::Result& res, const std::string& what) {
  if (!res) {
    return base::make_error(Errc::unavailable, "Kafka Connect did not answer " + what + ": " +
                                                   httplib::to_string(res.error()));
  }
  return ConnectAnswer{res->status, res->body};
}

}  // namespace

base::Result<ConnectAnswer> ConnectClient::get(const std::string& path) {
  return answer(client_->Get(path), "GET " + path);
}

base::Result<ConnectAnswer> ConnectClient::put_config(const std::string& name,
                                                      const std::string& config_json) {
  const auto path = "/connectors/" + name + "/config";
  return answer(client_->Put(path, config_json, "application/json"), "PUT " + path);
}

base::Result<ConnectAnswer> ConnectClient::restart_failed(const std::string& name) {
  const auto path = "/connectors/" + name + "/restart?includeTasks=true&onlyFailed=true";
  return answer(client_->Post(path), "POST " + path);
}

base::Result<ConnectAnswer> ConnectClient::stop(const std::string& name) {
  const auto path = "/connectors/" + name + "/stop";
  return answer(client_->Put(path), "PUT " + path);
}

base::Result<ConnectAnswer> ConnectClient::pause(const std::string& name) {
  const auto path = "/connectors/" + name + "/pause";
  return answer(client_->Put(path), "PUT " + path);
}

base::Result<ConnectAnswer> ConnectClient::restart_task(const std::string& name, int task) {
  const auto path = "/connectors/" + name + "/tasks/" + std::to_string(task) + "/restart";
  return answer(client_->Post(path), "POST " + path);
}

base::Result<ConnectAnswer> ConnectClient::resume(const std::string& name) {
  const auto path = "/connectors/" + name + "/resume";
  return answer(client_->Put(path), "PUT " + path);
}

base::Result<ConnectAnswer> ConnectClient::patch_offsets(const std::string& name,
                                                         const std::string& body_json) {
  const auto path = "/connectors/" + name + "/offsets";
  return answer(client_->Patch(path, body_json, "application/json"), "PATCH " + path);
}

base::Result<ConnectorState> ConnectClient::state(const std::string& name) {
  auto res = get("/connectors/" + name + "/status");
  if (!res) return res.error();
  if (res->status == 404) return base::make_error(Errc::not_found, "no connector " + name);
  if (res->status != 200) {
    return base::make_error(
        Errc::unavailable, fmt::format("GET /connectors/{}/status answered {}", name, res->status));
  }
  return parse_connector_state(res->body);
}

std::string ConnectClient::version() {
  auto res = get("/");
  if (!res || res->status != 200) return "";
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (body.is_discarded() || !body.contains("version") || !body["version"].is_string()) return "";
  return body["version"].get<std::string>();
}

}  // namespace streamflow::io
