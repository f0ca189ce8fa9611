#include "model/decode.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <unordered_map>

#include "model/sanitise.h"
#include "model/text.h"

namespace streamflow::model {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view to_string(Framing framing) {
  static constexpr std::string_view kNames[] = {"envelope", "array", "json-lines"};
  return kNames[static_cast<std::size_t>(framing)];
}

namespace {

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

bool is_number(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

// Keys a result object has in some API version: an object with one of them and no "results"
// is a record on its own (a one-line JSON Lines file, a single saved user).
constexpr std::array<std::string_view, 13> kRecordKeys = {
    "gender", "name", "location", "email",   "login", "dob", "registered",
    "phone",  "cell", "id",       "picture", "nat",   "user"};

// National-id keys at the top of a pre-1.0 record, in the order they are looked for: the API
// put one of them there, named for the nationality, instead of 1.0's id {name, value}.
constexpr std::array<std::string_view, 17> kLegacyIdKeys = {
    "SSN", "NINO", "TFN",  "BSN", "HETU", "INSEE", "PPS", "DNI", "CPF",
    "SIN", "AVS",  "SVNR", "CPR", "FN",   "UIDAI", "NSS", "SID"};

// ---- field access with reasons ------------------------------------------------------------

/// Reads fields of one record; the first problem found is kept in `problem`, after which every
/// read is a no-op. Paths are dotted ("location.coordinates.latitude").
class Reader {
 public:
  explicit Reader(element root) : root_(root) { parents_.reserve(16); }

  std::optional<std::string> problem;

  /// The element at path; nullopt when absent or null (or a parent is absent or null).
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
    const std::optional<element>& found = *parent_el;
    if (!found) return std::nullopt;
    if (found->type() != element_type::OBJECT) {
      fail(parent, "expected an object, got " + std::string(type_name(found->type())));
      return std::nullopt;
    }
    element next;
    if (found->get_object().value_unsafe().at_key(leaf).get(next) != simdjson::SUCCESS)
      return std::nullopt;
    if (next.type() == element_type::NULL_VALUE) return std::nullopt;
    return next;
  }

  /// Whether path holds a value (not absent, not null); records no problem.
  bool has(std::string_view path) {
    auto saved = problem;
    auto el = at(path);
    problem = saved;
    return el.has_value();
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
    } else if (allow_number && is_number(el->type())) {
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
    if (problem) return std::nullopt;
    auto el = at(path);
    if (problem || !el) return std::nullopt;
    std::optional<std::int64_t> v;
    std::int64_t n = 0;
    if (el->get_int64().get(n) == simdjson::SUCCESS) {
      v = n;
    } else if (el->type() == element_type::STRING) {
      auto s = normalise_text(el->get_string().value_unsafe()).value;
      if (!s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos)
        v = std::stoll(s);
    }
    if (!v) {
      fail(path, "expected a whole number, got " + std::string(type_name(el->type())));
      return std::nullopt;
    }
    if (*v < min || *v > max) {
      fail(path, fmt::format("out of range ({}..{}): {}", min, max, *v));
      return std::nullopt;
    }
    return v;
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
    if (problem) return element_type::NULL_VALUE;
    auto el = at(path);
    return el ? el->type() : element_type::NULL_VALUE;
  }

  void fail(std::string_view path, std::string what) {
    if (!problem) problem = std::string(path) + ": " + what;
  }

 private:
  element root_;
  std::vector<std::pair<std::string, std::optional<element>>> parents_;
};

/// A dob or registered date in any shape the API used: {date, age} (1.2 and later), a date
/// string (1.1, "1983-07-14 07:29:45"), or epoch seconds as a number (1.0) or a string of
/// digits (before 1.0).
void read_dated(Reader& r, std::string_view field, const Limits& lim,
                std::optional<std::string>& date, std::optional<std::int64_t>& age) {
  const std::string f(field);
  const auto type = r.type_of(f);
  std::string where = f;
  if (type == element_type::OBJECT) {
    where = f + ".date";
    date = r.text(where, false, lim.code, true);
    age = r.integer(f + ".age", 0, 200);
  } else if (type != element_type::NULL_VALUE) {
    date = r.text(f, false, lim.code, true);
  }
  if (!date) return;
  const std::string_view digits = std::string_view(*date).substr(date->starts_with('-') ? 1 : 0);
  if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos) {
    auto iso = epoch_seconds_to_iso(*date);
    if (!iso) {
      r.fail(where, "not a timestamp in epoch seconds: '" + *date + "'");
      date.reset();
      return;
    }
    date = std::move(iso);
  }
  if (!is_timestamp(*date)) {
    r.fail(where, "not an ISO 8601 timestamp: '" + *date + "'");
    date.reset();
  }
}

/// Whether a record has the shape of an API version before 1.2, which served no uuid: the
/// pre-1.0 wrapper or its top-level login fields, or 1.0/1.1 dates (epoch seconds, or a date
/// string with a space).
bool looks_pre_1_2(Reader& r, bool wrapped) {
  if (wrapped || r.has("username") || r.has("version")) return true;
  for (const char* f : {"dob", "registered"}) {
    const auto t = r.type_of(f);
    if (is_number(t)) return true;
    if (t == element_type::STRING) {
      auto el = r.at(f);
      auto s = el->get_string().value_unsafe();
      if (s.size() >= 11 && s[10] == ' ') return true;
      if (s.starts_with('-')) s.remove_prefix(1);
      if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) return true;
    }
  }
  return false;
}

/// Either a User or the reason it is not one. `wrapped`: the record came out of a pre-1.0
/// {"user": {...}} wrapper.
std::optional<User> decode_user(element el, bool wrapped, const IdHasher& hasher, const Limits& lim,
                                std::string& reason) {
  if (el.type() != element_type::OBJECT) {
    reason = "record: expected an object, got " + std::string(type_name(el.type()));
    return std::nullopt;
  }
  Reader r(el);
  User u;
  auto uuid = r.text("login.uuid", false, lim.code);
  if (!uuid && !r.problem) {
    r.fail("login.uuid", looks_pre_1_2(r, wrapped)
                             ? "missing (API versions before 1.2 served no uuid; a user cannot "
                               "be identified without one)"
                             : "missing");
  }
  if (uuid && !is_uuid(*uuid)) r.fail("login.uuid", "not a UUID");
  if (uuid) u.uuid = ascii_lower(*uuid);
  if (auto gender = r.text("gender", false, lim.code)) {
    u.gender = ascii_lower(*gender);
    if (u.gender != "male" && u.gender != "female")
      r.fail("gender", "expected male or female, got '" + *gender + "'");
  }
  u.title = r.text("name.title", false, lim.code);
  u.first_name = r.text("name.first", false, lim.text);
  u.last_name = r.text("name.last", false, lim.text);

  // location.street: {number, name} since 1.3; a plain string before, kept whole as the name
  // (where its number is, and whether it has one, depends on the country).
  if (r.type_of("location.street") == element_type::STRING) {
    u.street_name = r.text("location.street", false, lim.text);
  } else {
    u.street_number = r.integer("location.street.number", 0, 999999999);
    u.street_name = r.text("location.street.name", false, lim.text);
  }
  u.city = r.text("location.city", false, lim.text);
  u.state = r.text("location.state", false, lim.text);
  u.country = r.text("location.country", false, lim.text);
  u.postcode = r.text(r.has("location.postcode") ? "location.postcode" : "location.zip", false,
                      lim.code, true);
  u.latitude = r.text("location.coordinates.latitude", false, lim.code, true);
  if (u.latitude && !is_coordinate(*u.latitude, 90))
    r.fail("location.coordinates.latitude", "not a latitude: '" + *u.latitude + "'");
  u.longitude = r.text("location.coordinates.longitude", false, lim.code, true);
  if (u.longitude && !is_coordinate(*u.longitude, 180))
    r.fail("location.coordinates.longitude", "not a longitude: '" + *u.longitude + "'");
  u.tz_offset = r.text("location.timezone.offset", false, lim.code);
  if (u.tz_offset && !is_tz_offset(*u.tz_offset))
    r.fail("location.timezone.offset", "not an offset: '" + *u.tz_offset + "'");
  u.tz_description = r.text("location.timezone.description", false, lim.text);

  if (auto email = r.text("email", false, lim.email)) {
    u.email = ascii_lower(*email);
    if (!is_email(*u.email)) r.fail("email", "not an email address: '" + *email + "'");
  }
  u.username = r.text(r.has("login.username") ? "login.username" : "username", false, lim.text);

  read_dated(r, "dob", lim, u.dob, u.dob_age);
  read_dated(r, "registered", lim, u.registered, u.registered_age);

  u.phone = r.text("phone", false, lim.code, true);
  u.cell = r.text("cell", false, lim.code, true);
  if (r.type_of("id") == element_type::OBJECT) {
    u.id_name = r.text("id.name", false, lim.code);
    if (auto id_value = r.text("id.value", false, lim.code, true))
      u.id_hash = hasher.hash(*id_value);
  } else if (r.has("id")) {
    r.fail("id", "expected an object, got " + std::string(type_name(r.type_of("id"))));
  } else {
    // Before 1.0: the national id at the top of the record, under its own name.
    for (auto key : kLegacyIdKeys) {
      if (!r.has(key)) continue;
      u.id_name = std::string(key);
      if (auto id_value = r.text(key, false, lim.code, true)) u.id_hash = hasher.hash(*id_value);
      break;
    }
  }
  u.picture_large = r.text("picture.large", false, lim.url);
  u.picture_medium = r.text("picture.medium", false, lim.url);
  u.picture_thumbnail = r.text("picture.thumbnail", false, lim.url);
  const char* nat_field = r.has("nat") ? "nat" : "nationality";
  if (auto nat = r.text(nat_field, false, lim.code)) {
    u.nat = ascii_upper(*nat);
    if (u.nat->size() != 2 ||
        u.nat->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
      r.fail(nat_field, "expected a two-letter nationality, got '" + *nat + "'");
    }
  }
  if (r.problem) {
    reason = *r.problem;
    return std::nullopt;
  }
  return u;
}

/// The record inside a pre-1.0 {"user": {...}, "seed": ...} wrapper, or the element itself.
element unwrap(element el, bool& wrapped) {
  wrapped = false;
  if (el.type() != element_type::OBJECT) return el;
  auto obj = el.get_object().value_unsafe();
  element inner, probe;
  if (obj.at_key("user").get(inner) != simdjson::SUCCESS || inner.type() != element_type::OBJECT)
    return el;
  if (obj.at_key("login").get(probe) == simdjson::SUCCESS ||
      obj.at_key("name").get(probe) == simdjson::SUCCESS) {
    return el;  // a modern record that merely has a "user" field
  }
  wrapped = true;
  return inner;
}

std::optional<std::string> readable_uuid(element el) {
  std::string_view s;
  if (el.type() == element_type::OBJECT && el["login"]["uuid"].get(s) == simdjson::SUCCESS &&
      is_uuid(s)) {
    return ascii_lower(s);
  }
  return std::nullopt;
}

// ---- framing ------------------------------------------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Without a UTF-8 byte-order mark and without white space around.
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// The keys of an object, for a message ("info, seed").
std::string key_list(const simdjson::dom::object& obj) {
  std::string out;
  std::size_t n = 0;
  for (auto [key, value] : obj) {
    if (n++ == 8) {
      out += ", ...";
      break;
    }
    out += (out.empty() ? "" : ", ") + std::string(key.substr(0, 40));
  }
  return out.empty() ? "none" : out;
}

/// JSON Lines: one JSON value per non-blank line. On success, `array_text` holds them as one
/// JSON array; otherwise the error names the first line that is not JSON.
base::Result<std::size_t> json_lines(std::string_view text, std::string& array_text) {
  simdjson::dom::parser line_parser;
  array_text = "[";
  std::size_t count = 0, line_no = 0, start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_no;
    auto line = text.substr(start, end - start);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    if (!line.empty()) {
      simdjson::padded_string padded(line);
      element ignored;
      if (auto err = line_parser.parse(padded).get(ignored); err != simdjson::SUCCESS) {
        return base::make_error(base::Errc::invalid_argument,
                                fmt::format("JSON Lines: line {} is not valid JSON: {}", line_no,
                                            simdjson::error_message(err)));
      }
      if (count++ > 0) array_text += ',';
      array_text.append(line);
    }
    start = end + 1;
  }
  array_text += ']';
  return count;
}

}  // namespace

base::Result<Batch> decode_response(std::string_view body, const IdHasher& hasher,
                                    const Limits& limits) {
  using base::Errc;
  thread_local simdjson::dom::parser parser;
  const std::string_view text = trimmed(body);
  if (text.empty()) return base::make_error(Errc::invalid_argument, "response is empty");

  Batch batch;
  element doc, records;
  std::string lines_text;  // JSON Lines as one array
  simdjson::padded_string padded(text);
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    // Not one JSON document. JSON Lines when its first line is a JSON object on its own.
    const auto first_line = text.substr(0, text.find('\n'));
    simdjson::dom::parser probe;
    simdjson::padded_string first(trimmed(first_line));
    element first_doc;
    if (text.find('\n') == std::string_view::npos ||
        probe.parse(first).get(first_doc) != simdjson::SUCCESS ||
        first_doc.type() != element_type::OBJECT) {
      return base::make_error(Errc::invalid_argument, std::string("response is not valid JSON: ") +
                                                          simdjson::error_message(err));
    }
    auto count = json_lines(text, lines_text);
    if (!count) return count.error();
    simdjson::padded_string padded_lines(lines_text);
    if (parser.parse(padded_lines).get(records) != simdjson::SUCCESS) {
      return base::make_error(Errc::invalid_argument, "JSON Lines: the lines do not form records");
    }
    batch.framing = Framing::json_lines;
  } else if (doc.type() == element_type::ARRAY) {
    batch.framing = Framing::array;
    records = doc;
  } else if (doc.type() == element_type::OBJECT) {
    const auto obj = doc.get_object().value_unsafe();
    element results;
    if (obj.at_key("results").get(results) == simdjson::SUCCESS &&
        results.type() == element_type::ARRAY) {
      batch.framing = Framing::envelope;
      records = results;
      std::string_view sv;
      if (doc["info"]["version"].get(sv) == simdjson::SUCCESS) batch.api_version = std::string(sv);
      if (doc["info"]["seed"].get(sv) == simdjson::SUCCESS) batch.seed = std::string(sv);
      std::int64_t page = 0;
      if (doc["info"]["page"].get(page) == simdjson::SUCCESS) batch.page = page;
    } else if (std::string_view api_error; doc["error"].get(api_error) == simdjson::SUCCESS) {
      return base::make_error(
          Errc::unavailable,
          "the API answered with an error: " + normalise_text(api_error.substr(0, 200)).value);
    } else if (obj.at_key("results").get(results) == simdjson::SUCCESS) {
      return base::make_error(Errc::invalid_argument,
                              "response has no results array: \"results\" is a JSON " +
                                  std::string(type_name(results.type())));
    } else {
      bool record = false;
      for (auto key : kRecordKeys) {
        element probe;
        record = record || obj.at_key(key).get(probe) == simdjson::SUCCESS;
      }
      if (!record) {
        return base::make_error(
            Errc::invalid_argument,
            "response has no results array (a JSON object with keys: " + key_list(obj) + ")");
      }
      // One result object on its own: a JSON Lines file of one line.
      lines_text = "[" + std::string(text) + "]";
      simdjson::padded_string padded_one(lines_text);
      if (parser.parse(padded_one).get(records) != simdjson::SUCCESS) {
        return base::make_error(Errc::invalid_argument, "response is not valid JSON");
      }
      batch.framing = Framing::json_lines;
    }
  } else {
    return base::make_error(Errc::invalid_argument,
                            "response is a JSON " + std::string(type_name(doc.type())) +
                                ", expected an object with a results array, an array of result "
                                "objects or JSON Lines");
  }

  std::unordered_map<std::string, std::size_t> seen;
  std::size_t index = 0;
  const simdjson::dom::array items = records.get_array().value_unsafe();
  for (element raw : items) {
    std::string reason;
    bool wrapped = false;
    const element el = unwrap(raw, wrapped);
    auto user = decode_user(el, wrapped, hasher, limits, reason);
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
      sanitise(raw, rej.raw, hasher);
      rej.uuid = readable_uuid(el);
      batch.rejects.push_back(std::move(rej));
    }
    ++index;
  }
  batch.records = index;
  return batch;
}

}  // namespace streamflow::model
