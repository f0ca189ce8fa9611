#include "model/decode.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <unordered_map>

#include "model/text.h"

namespace streamflow::model {

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

constexpr std::array<std::string_view, 5> kCredentialKeys = {"password", "salt", "md5", "sha1",
                                                             "sha256"};

bool is_credential_key(std::string_view key) {
  for (auto k : kCredentialKeys) {
    if (key == k) return true;
  }
  return false;
}

std::string_view type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "number";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

// ---- reject payloads: JSON re-serialised without credentials ------------------------------

constexpr std::size_t kMaxRejectString = 1024;

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\ufffd";
        break;  // PostgreSQL jsonb refuses \u0000
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void sanitise(const element& el, std::string& out, const IdHasher& hasher,
              std::string_view parent_key, int depth) {
  if (depth > 64) {
    out += "\"[removed: nested too deep]\"";
    return;
  }
  switch (el.type()) {
    case element_type::OBJECT: {
      out += '{';
      bool first = true;
      const simdjson::dom::object obj = el.get_object().value_unsafe();
      for (auto [key, value] : obj) {
        if (is_credential_key(key)) continue;  // credentials never leave this function
        if (!first) out += ',';
        first = false;
        append_json_string(out, key);
        out += ':';
        if (depth == 0 && key == "login" && value.type() != element_type::OBJECT) {
          out += "\"[removed: login is not an object]\"";
        } else if (parent_key == "id" && depth == 1 && key == "value" &&
                   value.type() != element_type::NULL_VALUE) {
          std::string clear = value.type() == element_type::STRING
                                  ? std::string(value.get_string().value_unsafe())
                                  : simdjson::to_string(value);
          append_json_string(out, "hmac-sha256:" + hasher.hash(normalise_text(clear).value));
        } else if (depth == 0 && key == "id" && value.type() != element_type::OBJECT &&
                   value.type() != element_type::NULL_VALUE) {
          out += "\"[removed: id is not an object]\"";
        } else {
          sanitise(value, out, hasher, key, depth + 1);
        }
      }
      out += '}';
      return;
    }
    case element_type::ARRAY: {
      out += '[';
      bool first = true;
      const simdjson::dom::array arr = el.get_array().value_unsafe();
      for (element item : arr) {
        if (!first) out += ',';
        first = false;
        sanitise(item, out, hasher, "", depth + 1);
      }
      out += ']';
      return;
    }
    case element_type::STRING: {
      // A reject keeps an excerpt of a huge field, not the field: the table stays small
      // whatever the API sends.
      std::string_view text = el.get_string().value_unsafe();
      if (text.size() <= kMaxRejectString) {
        append_json_string(out, text);
        return;
      }
      std::size_t cut = kMaxRejectString;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      append_json_string(out,
                         fmt::format("{}...[{} bytes in all]", text.substr(0, cut), text.size()));
      return;
    }
    default:
      out += simdjson::to_string(el);
      return;
  }
}

// ---- field access with reasons ------------------------------------------------------------

/// Reads fields of one record; the first problem found is kept in `problem`, after which every
/// read is a no-op. Paths are dotted ("location.coordinates.latitude").
class Reader {
 public:
  Reader(element root, const Limits& limits) : root_(root), limits_(limits) {
    parents_.reserve(16);
  }

  std::optional<std::string> problem;

  /// The element at path; nullopt when absent or null (or a parent is not an object).
  std::optional<element> at(std::string_view path) {
    const auto dot = path.rfind('.');
    const std::string_view parent =
        dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
    const std::string_view leaf = dot == std::string_view::npos ? path : path.substr(dot + 1);
    // Resolve each parent object once per record (a record has about a dozen).
    const std::optional<element>* parent_el = nullptr;
    for (const auto& [p, el] : parents_) {
      if (p == parent) {
        parent_el = &el;
        break;
      }
    }
    if (parent_el == nullptr) {
      parents_.emplace_back(std::string(parent), resolve(parent));
      parent_el = &parents_.back().second;
    }
    const std::optional<element>& parent_el_ = *parent_el;
    if (!parent_el_) return std::nullopt;
    if (parent_el_->type() != element_type::OBJECT) {
      fail(parent, "expected an object, got " + std::string(type_name(parent_el_->type())));
      return std::nullopt;
    }
    element next;
    if (parent_el_->get_object().value_unsafe().at_key(leaf).get(next) != simdjson::SUCCESS)
      return std::nullopt;
    if (next.type() == element_type::NULL_VALUE) return std::nullopt;
    return next;
  }

  std::optional<std::string> text(std::string_view path, bool required, std::size_t limit,
                                  bool allow_number = false) {
    if (problem) return std::nullopt;
    auto el = at(path);
    if (problem) return std::nullopt;
    if (!el) {
      if (required) fail(path, "missing");
      return std::nullopt;
    }
    std::string number;  // only numbers need a text of their own
    std::string_view raw;
    if (el->type() == element_type::STRING) {
      raw = el->get_string().value_unsafe();
    } else if (allow_number &&
               (el->type() == element_type::INT64 || el->type() == element_type::UINT64 ||
                el->type() == element_type::DOUBLE)) {
      number = simdjson::to_string(*el);
      raw = number;
    } else {
      fail(path, std::string("expected a ") + (allow_number ? "string or number" : "string") +
                     ", got " + std::string(type_name(el->type())));
      return std::nullopt;
    }
    auto norm = normalise_text(raw);
    if (norm.problem) {
      fail(path, *norm.problem);
      return std::nullopt;
    }
    if (norm.value.size() > limit) {
      fail(path, fmt::format("longer than {} bytes ({})", limit, norm.value.size()));
      return std::nullopt;
    }
    if (norm.value.empty()) {
      if (required) fail(path, "empty");
      return std::nullopt;
    }
    return std::move(norm.value);
  }

  /// A whole number within [min, max] (the database column's range is narrower than JSON's).
  std::optional<std::int64_t> integer(std::string_view path, std::int64_t min, std::int64_t max) {
    auto v = integer(path);
    if (v && (*v < min || *v > max)) {
      fail(path, fmt::format("out of range ({}..{}): {}", min, max, *v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::int64_t> integer(std::string_view path) {
    if (problem) return std::nullopt;
    auto el = at(path);
    if (problem || !el) return std::nullopt;
    std::int64_t v = 0;
    if (el->get_int64().get(v) == simdjson::SUCCESS) return v;
    if (el->type() == element_type::STRING) {
      auto s = normalise_text(el->get_string().value_unsafe()).value;
      if (!s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos)
        return std::stoll(s);
    }
    fail(path, "expected a whole number, got " + std::string(type_name(el->type())));
    return std::nullopt;
  }

  /// The element at a parent path, nullopt when absent or null; fails when a step is not an object.
  std::optional<element> resolve(std::string_view path) {
    element cur = root_;
    std::size_t start = 0;
    while (!path.empty() && start <= path.size()) {
      const auto dot = path.find('.', start);
      const auto key =
          path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (cur.type() == element_type::NULL_VALUE) return std::nullopt;
      if (cur.type() != element_type::OBJECT) {
        fail(path.substr(0, start == 0 ? 0 : start - 1),
             "expected an object, got " + std::string(type_name(cur.type())));
        return std::nullopt;
      }
      element next;
      if (cur.get_object().value_unsafe().at_key(key).get(next) != simdjson::SUCCESS)
        return std::nullopt;
      cur = next;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (cur.type() == element_type::NULL_VALUE) return std::nullopt;
    return cur;
  }

  element_type type_of(std::string_view path) {
    auto el = at(path);
    return el ? el->type() : element_type::NULL_VALUE;
  }

  void fail(std::string_view path, std::string what) {
    if (!problem) problem = std::string(path) + ": " + what;
  }

 private:
  element root_;
  const Limits& limits_;
  std::vector<std::pair<std::string, std::optional<element>>> parents_;
};

/// Either a User or the reason it is not one.
std::optional<User> decode_user(element el, const IdHasher& hasher, const Limits& lim,
                                std::string& reason) {
  if (el.type() != element_type::OBJECT) {
    reason = "record: expected an object, got " + std::string(type_name(el.type()));
    return std::nullopt;
  }
  Reader r(el, lim);
  User u;
  auto uuid = r.text("login.uuid", true, lim.code);
  if (uuid && !is_uuid(*uuid)) r.fail("login.uuid", "not a UUID");
  if (uuid) u.uuid = ascii_lower(*uuid);
  auto gender = r.text("gender", true, lim.code);
  if (gender) {
    u.gender = ascii_lower(*gender);
    if (u.gender != "male" && u.gender != "female")
      r.fail("gender", "expected male or female, got '" + *gender + "'");
  }
  u.title = r.text("name.title", false, lim.code);
  if (auto v = r.text("name.first", true, lim.text)) u.first_name = *v;
  if (auto v = r.text("name.last", true, lim.text)) u.last_name = *v;

  // location.street: {number, name} since 1.4; a plain "<number> <name>" string before.
  if (!r.problem && r.type_of("location.street") == element_type::STRING) {
    if (auto street = r.text("location.street", false, lim.text)) {
      auto space = street->find(' ');
      auto head = street->substr(0, space);
      if (space != std::string::npos && !head.empty() && head.size() < 10 &&
          head.find_first_not_of("0123456789") == std::string::npos) {
        u.street_number = std::stoll(head);
        u.street_name = normalise_text(street->substr(space + 1)).value;
      } else {
        u.street_name = street;
      }
    }
  } else {
    u.street_number = r.integer("location.street.number", 0, 999999999);
    u.street_name = r.text("location.street.name", false, lim.text);
  }
  u.city = r.text("location.city", false, lim.text);
  u.state = r.text("location.state", false, lim.text);
  u.country = r.text("location.country", false, lim.text);
  u.postcode = r.text("location.postcode", false, lim.code, true);
  u.latitude = r.text("location.coordinates.latitude", false, lim.code, true);
  if (u.latitude && !is_coordinate(*u.latitude, 90))
    r.fail("location.coordinates.latitude", "not a latitude: '" + *u.latitude + "'");
  u.longitude = r.text("location.coordinates.longitude", false, lim.code, true);
  if (u.longitude && !is_coordinate(*u.longitude, 180)) {
    r.fail("location.coordinates.longitude", "not a longitude: '" + *u.longitude + "'");
  }
  u.tz_offset = r.text("location.timezone.offset", false, lim.code);
  if (u.tz_offset && !is_tz_offset(*u.tz_offset))
    r.fail("location.timezone.offset", "not an offset: '" + *u.tz_offset + "'");
  u.tz_description = r.text("location.timezone.description", false, lim.text);

  if (auto email = r.text("email", true, lim.email)) {
    u.email = ascii_lower(*email);
    if (!is_email(u.email)) r.fail("email", "not an email address: '" + *email + "'");
  }
  u.username = r.text("login.username", false, lim.text);

  // dob / registered: {date, age} since 1.0's successors; a bare date string in old versions.
  auto dated = [&](std::string_view field, bool required, std::optional<std::string>& date,
                   std::optional<std::int64_t>& age) {
    const std::string f(field);
    if (r.type_of(f) == element_type::STRING) {
      date = r.text(f, required, lim.code);
    } else {
      date = r.text(f + ".date", required, lim.code);
      age = r.integer(f + ".age", 0, 200);
    }
    if (date && !is_timestamp(*date))
      r.fail(f + ".date", "not an ISO 8601 timestamp: '" + *date + "'");
  };
  std::optional<std::string> dob;
  dated("dob", true, dob, u.dob_age);
  if (dob) u.dob = *dob;
  dated("registered", false, u.registered, u.registered_age);

  u.phone = r.text("phone", false, lim.code, true);
  u.cell = r.text("cell", false, lim.code, true);
  u.id_name = r.text("id.name", false, lim.code);
  if (auto id_value = r.text("id.value", false, lim.code, true)) u.id_hash = hasher.hash(*id_value);
  u.picture_large = r.text("picture.large", false, lim.url);
  u.picture_medium = r.text("picture.medium", false, lim.url);
  u.picture_thumbnail = r.text("picture.thumbnail", false, lim.url);
  if (auto nat = r.text("nat", true, lim.code)) {
    u.nat = ascii_upper(*nat);
    if (u.nat.size() != 2 ||
        u.nat.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
      r.fail("nat", "expected a two-letter nationality, got '" + *nat + "'");
    }
  }
  if (r.problem) {
    reason = *r.problem;
    return std::nullopt;
  }
  return u;
}

std::optional<std::string> readable_uuid(element el) {
  std::string_view s;
  if (el.type() == element_type::OBJECT && el["login"]["uuid"].get(s) == simdjson::SUCCESS &&
      is_uuid(s)) {
    return ascii_lower(s);
  }
  return std::nullopt;
}

}  // namespace

base::Result<Batch> decode_response(std::string_view body, const IdHasher& hasher,
                                    const Limits& limits) {
  using base::Errc;
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  element doc;
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return base::make_error(Errc::invalid_argument, std::string("response is not valid JSON: ") +
                                                        simdjson::error_message(err));
  }
  if (doc.type() != element_type::OBJECT) {
    return base::make_error(Errc::invalid_argument,
                            "response is a JSON " + std::string(type_name(doc.type())) +
                                ", expected an object with a results array");
  }
  element results;
  if (doc["results"].get(results) != simdjson::SUCCESS || results.type() != element_type::ARRAY) {
    std::string_view api_error;
    if (doc["error"].get(api_error) == simdjson::SUCCESS) {
      return base::make_error(
          Errc::unavailable,
          "the API answered with an error: " + normalise_text(api_error.substr(0, 200)).value);
    }
    return base::make_error(Errc::invalid_argument, "response has no results array");
  }
  Batch batch;
  std::string_view sv;
  if (doc["info"]["version"].get(sv) == simdjson::SUCCESS) batch.api_version = std::string(sv);
  if (doc["info"]["seed"].get(sv) == simdjson::SUCCESS) batch.seed = std::string(sv);
  std::int64_t page = 0;
  if (doc["info"]["page"].get(page) == simdjson::SUCCESS) batch.page = page;

  std::unordered_map<std::string, std::size_t> seen;
  std::size_t index = 0;
  const simdjson::dom::array records = results.get_array().value_unsafe();
  for (element el : records) {
    std::string reason;
    auto user = decode_user(el, hasher, limits, reason);
    if (user) {
      auto [it, fresh] = seen.emplace(user->uuid, index);
      if (fresh) {
        batch.users.push_back(std::move(*user));
      } else {
        reason = fmt::format("login.uuid: duplicate of record #{} in this response", it->second);
      }
    }
    if (!reason.empty()) {
      Reject rej;
      rej.index = index;
      rej.reason = std::move(reason);
      sanitise(el, rej.raw, hasher, "", 0);
      rej.uuid = readable_uuid(el);
      batch.rejects.push_back(std::move(rej));
    }
    ++index;
  }
  batch.records = index;
  return batch;
}

}  // namespace streamflow::model
