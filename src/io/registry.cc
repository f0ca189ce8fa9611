#include "io/registry.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cctype>
#include <nlohmann/json.hpp>

namespace streamflow::io {

using base::Errc;
using base::make_error;
using nlohmann::json;

namespace {

constexpr const char* kContentType = "application/vnd.schemaregistry.v1+json";
/// The Confluent error code of a 404 for a subject the registry does not have.
constexpr int kSubjectNotFound = 40401;

base::Result<json> parse_object_or_array(const std::string& body, const char* what) {
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) {
    return make_error(Errc::invalid_argument, fmt::format("not {}: {}", what, body.substr(0, 200)));
  }
  return doc;
}

}  // namespace

base::Result<std::vector<std::string>> parse_subjects(const std::string& body) {
  auto doc = parse_object_or_array(body, "a list of subjects");
  if (!doc) return doc.error();
  if (!doc->is_array()) {
    return make_error(Errc::invalid_argument, "not a list of subjects: " + body.substr(0, 200));
  }
  std::vector<std::string> out;
  for (const auto& s : *doc) {
    if (!s.is_string()) {
      return make_error(Errc::invalid_argument, "a subject that is not a string: " + s.dump());
    }
    out.push_back(s.get<std::string>());
  }
  return out;
}

base::Result<SchemaVersion> parse_schema_version(const std::string& body) {
  auto doc = parse_object_or_array(body, "a schema version");
  if (!doc) return doc.error();
  if (!doc->is_object() || !(*doc)["subject"].is_string() ||
      !(*doc)["version"].is_number_integer() || !(*doc)["id"].is_number_integer()) {
    return make_error(Errc::invalid_argument,
                      "not a schema version (subject, version, id): " + body.substr(0, 200));
  }
  SchemaVersion out;
  out.subject = (*doc)["subject"].get<std::string>();
  out.version = (*doc)["version"].get<int>();
  out.id = (*doc)["id"].get<int>();
  out.schema = doc->value("schema", std::string());
  return out;
}

base::Result<std::vector<int>> parse_versions(const std::string& body) {
  auto doc = parse_object_or_array(body, "a list of versions");
  if (!doc) return doc.error();
  if (!doc->is_array()) {
    return make_error(Errc::invalid_argument, "not a list of versions: " + body.substr(0, 200));
  }
  std::vector<int> out;
  for (const auto& v : *doc) {
    if (!v.is_number_integer()) {
      return make_error(Errc::invalid_argument, "a version that is not an integer: " + v.dump());
    }
    out.push_back(v.get<int>());
  }
  return out;
}

int parse_error_code(const std::string& body) {
  const auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return 0;
  const auto it = doc.find("error_code");
  return it != doc.end() && it->is_number_integer() ? it->get<int>() : 0;
}

std::string encode_path_segment(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

base::Result<std::string> parse_compatibility(const std::string& body) {
  auto doc = parse_object_or_array(body, "a compatibility config");
  if (!doc) return doc.error();
  // GET answers {"compatibilityLevel": ...}, PUT echoes {"compatibility": ...}.
  for (const char* key : {"compatibilityLevel", "compatibility"}) {
    if (doc->is_object() && (*doc)[key].is_string()) return (*doc)[key].get<std::string>();
  }
  return make_error(Errc::invalid_argument, "not a compatibility config: " + body.substr(0, 200));
}

RegistryClient::RegistryClient(const std::string& host, int port, std::string base_path,
                               int read_timeout_s)
    : client_(std::make_unique<httplib::Client>(host, port)), base_(std::move(base_path)) {
  client_->set_connection_timeout(2, 0);
  client_->set_read_timeout(read_timeout_s, 0);
}
RegistryClient::~RegistryClient() = default;
RegistryClient::RegistryClient(RegistryClient&&) noexcept = default;
RegistryClient& RegistryClient::operator=(RegistryClient&&) noexcept = default;

namespace {

/// The body of a 200 answer; unavailable when the registry does not answer, or names the
/// status and the registry's own message otherwise.
base::Result<std::string> ok_body(const httplib::Result& res, const std::string& what) {
  if (!res) {
    return make_error(Errc::unavailable, "the schema registry did not answer " + what + ": " +
                                             httplib::to_string(res.error()));
  }
  if (res->status == 404) return make_error(Errc::not_found, what + ": not found");
  if (res->status != 200) {
    const auto code = res->status / 100 == 4 ? Errc::invalid_argument : Errc::unavailable;
    return make_error(code, fmt::format("the schema registry answered {} with HTTP {}: {}", what,
                                        res->status, res->body.substr(0, 300)));
  }
  return res->body;
}

}  // namespace

base::Result<std::vector<std::string>> RegistryClient::subjects() {
  const auto path = base_ + "/subjects";
  auto body = ok_body(client_->Get(path), "GET " + path);
  if (!body) return body.error();
  return parse_subjects(*body);
}

base::Result<SchemaVersion> RegistryClient::latest(const std::string& subject) {
  const auto path = base_ + "/subjects/" + encode_path_segment(subject) + "/versions/latest";
  auto body = ok_body(client_->Get(path), "GET " + path);
  if (!body) return body.error();
  return parse_schema_version(*body);
}

base::Result<std::vector<int>> RegistryClient::versions(const std::string& subject) {
  const auto path = base_ + "/subjects/" + encode_path_segment(subject) + "/versions";
  auto body = ok_body(client_->Get(path), "GET " + path);
  if (!body) return body.error();
  return parse_versions(*body);
}

base::Result<SchemaVersion> RegistryClient::version(const std::string& subject, int version) {
  const auto path =
      fmt::format("{}/subjects/{}/versions/{}", base_, encode_path_segment(subject), version);
  auto body = ok_body(client_->Get(path), "GET " + path);
  if (!body) return body.error();
  return parse_schema_version(*body);
}

base::Result<std::string> RegistryClient::subject_compatibility(const std::string& subject) {
  const auto path = base_ + "/config/" + encode_path_segment(subject) + "?defaultToGlobal=true";
  auto res = client_->Get(path);
  // Confluent's own registry answers 404 (40408) for a subject without a level of its own when
  // it does not honour defaultToGlobal; the level it is held to then is the global one.
  if (res && res->status == 404 && parse_error_code(res->body) != kSubjectNotFound) {
    return compatibility();
  }
  auto body = ok_body(res, "GET " + path);
  if (!body) return body.error();
  return parse_compatibility(*body);
}

base::Result<std::string> RegistryClient::compatibility() {
  const auto path = base_ + "/config";
  auto body = ok_body(client_->Get(path), "GET " + path);
  if (!body) return body.error();
  return parse_compatibility(*body);
}

base::Result<void> RegistryClient::set_compatibility(const std::string& level) {
  const auto path = base_ + "/config";
  auto body = ok_body(client_->Put(path, json{{"compatibility", level}}.dump(), kContentType),
                      "PUT " + path + " " + level);
  if (!body) return body.error();
  auto echoed = parse_compatibility(*body);
  if (!echoed) return echoed.error();
  return {};
}

}  // namespace streamflow::io
