#include "model/sanitise.h"

#include <fmt/format.h>

#include <array>

#include "model/text.h"

namespace streamflow::model {

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

constexpr std::array<std::string_view, 10> kCredentialNames = {
    "password", "passwd", "salt", "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "hash"};

constexpr std::array<std::string_view, 22> kNationalIdNames = {
    "ssn",        "tfn",
    "cpf",        "sin",
    "avs",        "svnr",
    "cpr",        "dni",
    "hetu",       "insee",
    "nino",       "pps",
    "uidai",      "nss",
    "bsn",        "fn",
    "sid",        "tc",
    "sn",         "national_id",
    "nationalid", "social_security_number"};

constexpr std::size_t kMaxString = 1024;
constexpr int kMaxDepth = 64;

/// How a value is to be written, given the key it sits under.
enum class Treatment { keep, hash_scalars };

void write(const element& el, std::string& out, const IdHasher& hasher, Treatment treatment,
           int depth);

/// A scalar's text as the id-hash input: strings as they are, numbers as written.
std::string scalar_text(const element& el) {
  if (el.type() == element_type::STRING) return std::string(el.get_string().value_unsafe());
  return simdjson::to_string(el);
}

void write_object(const element& el, std::string& out, const IdHasher& hasher, Treatment treatment,
                  int depth) {
  out += '{';
  bool first = true;
  const simdjson::dom::object obj = el.get_object().value_unsafe();
  for (auto [key, value] : obj) {
    if (is_credential_key(key)) continue;  // credentials never leave this function
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    Treatment inner = treatment;
    const std::string lower = ascii_lower(key);
    const bool id_key = lower == "id";
    if (lower == "login" && value.type() != element_type::OBJECT &&
        value.type() != element_type::NULL_VALUE) {
      // A login that is not {uuid, username, ...} may be a credential in some other shape.
      out += "\"[removed: login is not an object]\"";
      continue;
    }
    if (is_national_id_key(key) || (id_key && value.type() != element_type::OBJECT)) {
      inner = Treatment::hash_scalars;
    } else if (id_key) {
      // {"name": "SSN", "value": "..."}: the value is the id, the name says which.
      out += '{';
      bool first_field = true;
      const simdjson::dom::object id_obj = value.get_object().value_unsafe();
      for (auto [k, v] : id_obj) {
        if (is_credential_key(k)) continue;
        if (!first_field) out += ',';
        first_field = false;
        append_json_string(out, k);
        out += ':';
        write(v, out, hasher, ascii_lower(k) == "value" ? Treatment::hash_scalars : treatment,
              depth + 2);
      }
      out += '}';
      continue;
    }
    write(value, out, hasher, inner, depth + 1);
  }
  out += '}';
}

void write(const element& el, std::string& out, const IdHasher& hasher, Treatment treatment,
           int depth) {
  if (depth > kMaxDepth) {
    out += "\"[removed: nested too deep]\"";
    return;
  }
  switch (el.type()) {
    case element_type::OBJECT:
      write_object(el, out, hasher, treatment, depth);
      return;
    case element_type::ARRAY: {
      out += '[';
      bool first = true;
      const simdjson::dom::array arr = el.get_array().value_unsafe();
      for (element item : arr) {
        if (!first) out += ',';
        first = false;
        write(item, out, hasher, treatment, depth + 1);
      }
      out += ']';
      return;
    }
    case element_type::NULL_VALUE:
      out += "null";
      return;
    default:
      break;
  }
  if (treatment == Treatment::hash_scalars) {
    append_json_string(out, hashed_id(scalar_text(el), hasher));
    return;
  }
  if (el.type() != element_type::STRING) {
    out += simdjson::to_string(el);
    return;
  }
  // A reject keeps an excerpt of a huge field, not the field: the table stays small whatever
  // the API sends.
  std::string_view text = el.get_string().value_unsafe();
  if (text.size() <= kMaxString) {
    append_json_string(out, text);
    return;
  }
  std::size_t cut = kMaxString;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  append_json_string(out, fmt::format("{}...[{} bytes in all]", text.substr(0, cut), text.size()));
}

}  // namespace

bool is_credential_key(std::string_view key) {
  const std::string k = ascii_lower(key);
  for (auto name : kCredentialNames) {
    if (k == name) return true;
  }
  return k.starts_with("password") || (k.size() > 4 && k.ends_with("hash"));
}

bool is_national_id_key(std::string_view key) {
  const std::string k = ascii_lower(key);
  for (auto name : kNationalIdNames) {
    if (k == name) return true;
  }
  return false;
}

std::string hashed_id(std::string_view clear, const IdHasher& hasher) {
  return "hmac-sha256:" + hasher.hash(normalise_text(clear).value);
}

void sanitise(const element& el, std::string& out, const IdHasher& hasher) {
  write(el, out, hasher, Treatment::keep, 0);
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\0') {
      out += "\\ufffd";  // PostgreSQL jsonb refuses \u0000
    } else if (const char* named = c == '\n'   ? "\\n"
                                   : c == '\r' ? "\\r"
                                   : c == '\t' ? "\\t"
                                               : nullptr) {
      out += named;
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(byte));
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace streamflow::model
