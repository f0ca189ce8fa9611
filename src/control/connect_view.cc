#include "control/connect_view.h"

#include <algorithm>

namespace streamflow::control {

namespace {

std::string text_or_empty(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

base::Result<nlohmann::json> parse_connectors(const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object())
    return base::make_error(base::Errc::data_error,
                            "Kafka Connect's /connectors?expand=status answer is not an object");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, entry] : doc.items()) {
    if (!entry.is_object()) continue;
    const auto status = entry.value("status", nlohmann::json::object());
    const auto info = entry.value("info", nlohmann::json::object());
    const auto connector = status.value("connector", nlohmann::json::object());
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : status.value("tasks", nlohmann::json::array())) {
      tasks.push_back({{"id", t.value("id", -1)},
                       {"state", text_or_empty(t, "state")},
                       {"worker_id", text_or_empty(t, "worker_id")},
                       {"trace", text_or_empty(t, "trace")}});
    }
    std::sort(tasks.begin(), tasks.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return a["id"].get<int>() < b["id"].get<int>();
    });
    const auto config = info.value("config", nlohmann::json::object());
    std::string type = text_or_empty(status, "type");
    if (type.empty()) type = text_or_empty(info, "type");
    // The config itself is never shown: it may name files of secrets, and its values are the
    // deployment's, not the operator's to read here.
    list.push_back({{"name", name},
                    {"type", type},
                    {"class", text_or_empty(config, "connector.class")},
                    {"state", text_or_empty(connector, "state")},
                    {"worker_id", text_or_empty(connector, "worker_id")},
                    {"trace", text_or_empty(connector, "trace")},
                    {"tasks", tasks}});
  }
  std::sort(list.begin(), list.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["name"].get<std::string>() < b["name"].get<std::string>();
  });
  return nlohmann::json{{"connectors", list}};
}

nlohmann::json workers_json(const std::vector<WorkerProbe>& workers,
                            const nlohmann::json& connectors) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& w : workers) {
    int running_connectors = 0;
    int running_tasks = 0;
    for (const auto& c : connectors.value("connectors", nlohmann::json::array())) {
      if (c.value("worker_id", "") == w.id) ++running_connectors;
      for (const auto& t : c.value("tasks", nlohmann::json::array()))
        if (t.value("worker_id", "") == w.id) ++running_tasks;
    }
    list.push_back(
        {{"id", w.id}, {"up", w.up}, {"connectors", running_connectors}, {"tasks", running_tasks}});
  }
  return list;
}

bool is_plain_connector_name(const std::string& name) {
  if (name.empty() || name.size() > 200) return false;
  // "." and ".." would be path steps, not a name.
  if (name.find_first_not_of('.') == std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace streamflow::control
