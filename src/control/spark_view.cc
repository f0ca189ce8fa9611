#include "control/spark_view.h"

#include <initializer_list>
#include <utility>

namespace streamflow::control {

using nlohmann::json;

namespace {

/// obj[key] when it is of the kind wanted, else null: what Spark left out or wrote otherwise
/// shows as unknown, never as a misleading zero.
json number_at(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? *it : json(nullptr);
}

json string_at(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? *it : json(nullptr);
}

json bool_at(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() ? *it : json(nullptr);
}

/// The kind a member must be to be taken as it is.
enum class Kind { number, string, boolean };

/// One member of the view: `to` taken from Spark's `from`, when it is of kind `kind`.
struct Rename {
  const char* to;
  const char* from;
  Kind kind;
};

/// The members `fields` names, renamed, from one object (null for those it lacks).
json renamed(const json& obj, std::initializer_list<Rename> fields) {
  json out = json::object();
  for (const auto& f : fields) {
    switch (f.kind) {
      case Kind::number:
        out[f.to] = number_at(obj, f.from);
        break;
      case Kind::string:
        out[f.to] = string_at(obj, f.from);
        break;
      case Kind::boolean:
        out[f.to] = bool_at(obj, f.from);
        break;
    }
  }
  return out;
}

/// Each object of `list` renamed; anything else in it, and a `list` that is none, skipped.
json objects_of(const json& list, std::initializer_list<Rename> fields) {
  json out = json::array();
  if (!list.is_array()) return out;
  for (const auto& item : list) {
    if (item.is_object()) out.push_back(renamed(item, fields));
  }
  return out;
}

json parse_list(const std::string& body) {
  auto doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  return doc.is_array() ? doc : json::array();
}

}  // namespace

json parse_master_json(const std::string& body) {
  const auto doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("status")) {
    return {{"url", nullptr},
            {"status", "UNKNOWN"},
            {"workers", json::array()},
            {"active_apps", json::array()},
            {"error", "not a Spark master's /json/ answer: " + body.substr(0, 200)}};
  }
  const auto empty = json::array();
  return {{"url", string_at(doc, "url")},
          {"status", string_at(doc, "status")},
          {"workers", objects_of(doc.value("workers", empty),
                                 {{"id", "id", Kind::string},
                                  {"host", "host", Kind::string},
                                  {"port", "port", Kind::number},
                                  {"state", "state", Kind::string},
                                  {"cores", "cores", Kind::number},
                                  {"cores_used", "coresused", Kind::number},
                                  {"memory_mb", "memory", Kind::number},
                                  {"memory_used_mb", "memoryused", Kind::number}})},
          {"active_apps",
           objects_of(doc.value("activeapps", empty), {{"id", "id", Kind::string},
                                                       {"name", "name", Kind::string},
                                                       {"state", "state", Kind::string},
                                                       {"cores", "cores", Kind::number}})}};
}

json parse_applications(const std::string& body) {
  return objects_of(parse_list(body), {{"id", "id", Kind::string}, {"name", "name", Kind::string}});
}

json parse_executors(const std::string& body) {
  return objects_of(parse_list(body), {{"id", "id", Kind::string},
                                       {"host_port", "hostPort", Kind::string},
                                       {"active", "isActive", Kind::boolean},
                                       {"active_tasks", "activeTasks", Kind::number},
                                       {"completed_tasks", "completedTasks", Kind::number},
                                       {"failed_tasks", "failedTasks", Kind::number},
                                       {"memory_used", "memoryUsed", Kind::number},
                                       {"max_memory", "maxMemory", Kind::number},
                                       {"total_cores", "totalCores", Kind::number}});
}

json parse_queries(const json& progress) {
  json out = json::array();
  if (!progress.is_object() || !progress.contains("queries") || !progress["queries"].is_object()) {
    return out;
  }
  for (const auto& [name, entry] : progress["queries"].items()) {
    if (!entry.is_object()) continue;
    json q = renamed(entry, {{"active", "active", Kind::boolean},
                             {"batch_id", "batch_id", Kind::number},
                             {"input_rows_per_s", "input_rows_per_s", Kind::number},
                             {"processed_rows_per_s", "processed_rows_per_s", Kind::number},
                             {"batch_ms", "batch_ms", Kind::number}});
    q["name"] = name;
    q["batches"] = objects_of(entry.value("recent", json::array()),
                              {{"batch_id", "batch_id", Kind::number},
                               {"timestamp", "timestamp", Kind::string},
                               {"batch_ms", "batch_ms", Kind::number},
                               {"input_rows", "input_rows", Kind::number},
                               {"input_rows_per_s", "input_rows_per_s", Kind::number},
                               {"processed_rows_per_s", "processed_rows_per_s", Kind::number}});
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace streamflow::control
