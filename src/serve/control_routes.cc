#include "serve/control_routes.h"

#include <httplib.h>

#include <regex>

#include "serve/http_glue.h"

namespace streamflow::serve {

namespace {

/// Like error_response, but a 503 names the engine's own words (not Cassandra's).
Response control_error(const base::Error& e) {
  if (e.code == base::Errc::unavailable || e.code == base::Errc::timeout)
    return json_response(503, {{"error", e.message}});
  return error_response(e);
}

Response from(const base::Result<nlohmann::json>& r) {
  return r ? json_response(200, *r) : control_error(r.error());
}

/// Kafka's own rule for a topic's name: what is not one is a 400 before any broker is asked.
bool is_topic_name(const std::string& name) {
  static const std::regex kTopic("[A-Za-z0-9._-]{1,249}");
  return std::regex_match(name, kTopic);
}

}  // namespace

bool is_action_token(const std::string& given, const std::string& token) {
  if (token.empty() || given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

Response control_read(control::ControlRoom& room, const std::string& path, const Query& q) {
  static const std::string kBase = "/api/v1/control/";
  if (path.rfind(kBase, 0) != 0) return json_response(404, {{"error", "not found"}});
  const auto rest = path.substr(kBase.size());
  if (rest == "kafka/brokers") return from(room.brokers());
  if (rest == "kafka/topics") return from(room.topics());
  if (rest == "kafka/messages") {
    const auto topic = q.find("topic");
    if (topic == q.end() || topic->second.empty())
      return error_response({base::Errc::invalid_argument, "topic is required", "topic"});
    if (!is_topic_name(topic->second))
      return error_response({base::Errc::invalid_argument,
                             "not a Kafka topic name (letters, digits, '.', '_', '-')", "topic"});
    auto partition = int_param(q, "partition", 0, 0, 100000);
    if (!partition) return error_response(partition.error());
    auto limit = int_param(q, "limit", 20, 1, 500);
    if (!limit) return error_response(limit.error());
    return from(
        room.messages(topic->second, static_cast<int>(*partition), static_cast<int>(*limit)));
  }
  if (rest == "consumers") return from(room.consumers());
  if (rest == "connect") return from(room.connect());
  if (rest == "schemas") return from(room.schemas());
  if (rest == "spark") return from(room.spark());
  if (rest == "cassandra") return from(room.cassandra());
  if (rest == "postgres") return from(room.postgres());
  if (rest == "alerts") return json_response(200, room.alerts());
  if (rest == "audit") {
    auto limit = int_param(q, "limit", 50, 1, 1000);
    if (!limit) return error_response(limit.error());
    return json_response(200, room.audit(static_cast<std::size_t>(*limit)));
  }
  static const std::regex kVersion(R"(schemas/([^/]+)/versions/([0-9]{1,9}))");
  static const std::regex kDiff(R"(schemas/([^/]+)/diff)");
  std::smatch m;
  if (std::regex_match(rest, m, kVersion))
    return from(room.schema_version(m[1].str(), std::stoi(m[2].str())));
  if (std::regex_match(rest, m, kDiff)) {
    auto a = int_param(q, "from", 0, 1, 1000000000);
    if (!a) return error_response(a.error());
    auto b = int_param(q, "to", 0, 1, 1000000000);
    if (!b) return error_response(b.error());
    if (!q.count("from") || !q.count("to"))
      return error_response({base::Errc::invalid_argument, "from and to (versions) are required",
                             q.count("from") ? "to" : "from"});
    return from(room.schema_diff(m[1].str(), static_cast<int>(*a), static_cast<int>(*b)));
  }
  return json_response(404, {{"error", "no such endpoint; see /api/v1/openapi.json"}});
}

void add_control_routes(httplib::Server& http, control::ControlRoom& room,
                        const std::string& action_token) {
  http.Get(R"(/api/v1/control/.*)", [&room](const httplib::Request& req, httplib::Response& res) {
    send(res, control_read(room, req.path, query_of(req)));
  });
  // Actions: POST, with the action token whatever the address serve listens on.
  const auto action = [&room, action_token](const httplib::Request& req, httplib::Response& res,
                                            const std::string& what, const std::string& connector,
                                            int task) {
    const auto target = what == "restart_task" ? connector + "/" + std::to_string(task) : connector;
    const auto auth = req.get_header_value("Authorization");
    const std::string given = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
    if (action_token.empty()) {
      room.refuse(what, target, req.remote_addr, 403, "serve has no action token");
      send(res, json_response(403, {{"error",
                                     "actions are off: serve has no action token "
                                     "(run it through `streamflow up`)"}}));
      return;
    }
    if (!is_action_token(given, action_token)) {
      const bool none = given.empty();
      room.refuse(what, target, req.remote_addr, 401,
                  none ? "no token given" : "a wrong token was given");
      res.set_header("WWW-Authenticate", "Bearer");
      send(res,
           json_response(401, {{"error", none ? "this action needs the serve token (Authorization: "
                                                "Bearer <token>; `streamflow status` shows it)"
                                              : "the token is not the serve token"}}));
      return;
    }
    const auto r = room.act(what, connector, task, req.remote_addr);
    send(res, json_response(r.status, r.body));
  };
  // The path's parts are checked here (a 400 naming the part), not by the route: a task id the
  // route refused would be an undocumented 405.
  http.Post(R"(/api/v1/control/connect/connectors/([^/]+)/tasks/([^/]+)/restart)",
            [action](const httplib::Request& req, httplib::Response& res) {
              static const std::regex kTask("[0-9]{1,6}");
              const std::string task = req.matches[2];
              if (!std::regex_match(task, kTask)) {
                send(res, error_response({base::Errc::invalid_argument,
                                          "a task id is a number from 0 to 999999", "task"}));
                return;
              }
              action(req, res, "restart_task", req.matches[1], std::stoi(task));
            });
  http.Post(R"(/api/v1/control/connect/connectors/([^/]+)/pause)",
            [action](const httplib::Request& req, httplib::Response& res) {
              action(req, res, "pause", req.matches[1], -1);
            });
  http.Post(R"(/api/v1/control/connect/connectors/([^/]+)/resume)",
            [action](const httplib::Request& req, httplib::Response& res) {
              action(req, res, "resume", req.matches[1], -1);
            });
}

}  // namespace streamflow::serve
