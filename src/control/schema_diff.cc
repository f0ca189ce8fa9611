#include "control/schema_diff.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

namespace streamflow::control {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

/// Larger than any schema a registry holds (a Debezium envelope of 200 columns is ~4,000
/// lines, whose changed middle is far smaller), small enough that the table stays ~16 MB.
constexpr std::size_t kMaxDiffCells = 4'000'000;

/// Records the first syntax error of a text, so that a schema that is not JSON is reported
/// with where it breaks, without exceptions. Lives for one sax_parse call.
class ErrorOnlySax : public nlohmann::json_sax<json> {
 public:
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }
};

/// The schema in `text`; nullopt for blank text (no schema yet); an error message when the
/// text is not JSON.
struct Parsed {
  std::optional<ordered_json> doc;
  std::string error;
};

Parsed parse_schema(const std::string& text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return {};
  auto doc = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded()) return {std::move(doc), {}};
  ErrorOnlySax sax;
  json::sax_parse(text, &sax, json::input_format_t::json, /*strict=*/true);
  return {std::nullopt, sax.error.empty() ? std::string("not JSON") : sax.error};
}

std::string dump(const ordered_json& doc, int indent = -1) {
  return doc.dump(indent, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.emplace_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

/// A member that is a string, or "" (a schema written by hand may have anything anywhere).
std::string string_member(const ordered_json& obj, const char* key) {
  if (!obj.is_object()) return {};
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_primitive(std::string_view name) {
  static const std::set<std::string_view> kPrimitives = {"null",  "boolean", "int",   "long",
                                                         "float", "double",  "bytes", "string"};
  return kPrimitives.count(name) > 0;
}

/// A field found in a schema: where, its type as shown, and the same type with its keys
/// sorted (what two versions are compared by).
struct Field {
  std::string path;
  std::string type;
  std::string canonical;
};

/// Walks one schema in document order, listing every field by dotted path. Avro defines a
/// named type before any reference to it, so one pass in that order resolves every reference.
/// Lives for one schema; holds pointers into it.
class FieldWalker {
 public:
  std::vector<Field> walk(const ordered_json& schema) {
    walk_type(schema, "", "");
    return std::move(fields_);
  }

 private:
  /// The type as the diff shows it: records defined inline by their name (their fields are
  /// listed on their own), everything else as written.
  static ordered_json shown(const ordered_json& type) {
    if (type.is_array()) {
      ordered_json out = ordered_json::array();
      for (const auto& branch : type) out.push_back(shown(branch));
      return out;
    }
    if (!type.is_object()) return type;
    const auto kind = string_member(type, "type");
    if ((kind == "record" || kind == "error") && type.contains("name")) return type["name"];
    ordered_json out = type;
    for (const char* inner : {"items", "values"}) {
      if (out.contains(inner)) out[inner] = shown(out[inner]);
    }
    if (out.contains("type") && !out["type"].is_string()) out["type"] = shown(out["type"]);
    return out;
  }

  /// The full name of a named type defined in namespace `ns`, and the namespace its own
  /// nested types are defined in.
  static std::string full_name(const ordered_json& def, const std::string& ns) {
    const auto name = string_member(def, "name");
    if (name.find('.') != std::string::npos) return name;
    const auto declared = string_member(def, "namespace");
    const auto own_ns = def.contains("namespace") ? declared : ns;  // "" is the null namespace
    return own_ns.empty() ? name : own_ns + "." + name;
  }

  static std::string namespace_of(const std::string& full) {
    const auto dot = full.rfind('.');
    return dot == std::string::npos ? std::string() : full.substr(0, dot);
  }

  void define(const std::string& full, const ordered_json& def) {
    named_[full] = &def;
    const auto dot = full.rfind('.');
    if (dot != std::string::npos) named_.emplace(full.substr(dot + 1), &def);  // first one wins
  }

  const ordered_json* resolve(const std::string& name, const std::string& ns) const {
    if (name.find('.') == std::string::npos && !ns.empty()) {
      if (auto it = named_.find(ns + "." + name); it != named_.end()) return it->second;
    }
    auto it = named_.find(name);
    return it == named_.end() ? nullptr : it->second;
  }

  void walk_type(const ordered_json& type, const std::string& prefix, const std::string& ns) {
    if (type.is_string()) {
      const auto name = type.get<std::string>();
      if (is_primitive(name)) return;
      if (const auto* def = resolve(name, ns)) walk_named(*def, prefix, ns);
      return;
    }
    if (type.is_array()) {
      for (const auto& branch : type) walk_type(branch, prefix, ns);
      return;
    }
    if (!type.is_object() || !type.contains("type")) return;
    const auto& kind = type["type"];
    if (!kind.is_string()) {
      walk_type(kind, prefix, ns);
      return;
    }
    const auto k = kind.get<std::string>();
    if (k == "record" || k == "error" || k == "enum" || k == "fixed") {
      walk_named(type, prefix, ns);
    } else if (k == "array" && type.contains("items")) {
      walk_type(type["items"], prefix, ns);
    } else if (k == "map" && type.contains("values")) {
      walk_type(type["values"], prefix, ns);
    } else if (!is_primitive(k)) {
      walk_type(kind, prefix, ns);  // {"type": "Value"}: a reference written as an object
    }
  }

  void walk_named(const ordered_json& def, const std::string& prefix, const std::string& ns) {
    const auto full = full_name(def, ns);
    define(full, def);
    const auto kind = string_member(def, "type");
    if (kind != "record" && kind != "error") return;
    if (std::find(walking_.begin(), walking_.end(), full) != walking_.end()) return;  // recursive
    if (!def.contains("fields") || !def["fields"].is_array()) return;
    walking_.push_back(full);
    const auto inner_ns = namespace_of(full);
    for (const auto& field : def["fields"]) {
      const auto name = string_member(field, "name");
      if (name.empty()) continue;
      const auto path = prefix.empty() ? name : prefix + "." + name;
      const auto& type = field.contains("type") ? field["type"] : null_;
      if (seen_.insert(path).second) {
        const auto text = dump(shown(type));
        // Sorted keys: a registry that re-serialises a schema may reorder its attributes.
        const auto sorted = json::parse(text, nullptr, /*allow_exceptions=*/false);
        fields_.push_back({path, text, sorted.dump()});
      }
      walk_type(type, path, inner_ns);
    }
    walking_.pop_back();
  }

  const ordered_json null_;
  std::map<std::string, const ordered_json*> named_;
  std::vector<std::string> walking_;  ///< the records being walked: a recursive one stops
  std::set<std::string> seen_;
  std::vector<Field> fields_;
};

json lines_json(const std::vector<DiffLine>& lines) {
  json out = json::array();
  for (const auto& l : lines) out.push_back({{"op", std::string(1, l.op)}, {"text", l.text}});
  return out;
}

}  // namespace

std::vector<DiffLine> diff_lines(const std::vector<std::string>& from,
                                 const std::vector<std::string>& to) {
  std::size_t head = 0;
  while (head < from.size() && head < to.size() && from[head] == to[head]) ++head;
  std::size_t tail = 0;
  while (tail < from.size() - head && tail < to.size() - head &&
         from[from.size() - 1 - tail] == to[to.size() - 1 - tail]) {
    ++tail;
  }
  const std::size_t n = from.size() - head - tail;
  const std::size_t m = to.size() - head - tail;

  std::vector<DiffLine> out;
  out.reserve(head + tail + n + m);
  for (std::size_t i = 0; i < head; ++i) out.push_back({' ', from[i]});
  if ((n + 1) * (m + 1) > kMaxDiffCells) {
    for (std::size_t i = 0; i < n; ++i) out.push_back({'-', from[head + i]});
    for (std::size_t j = 0; j < m; ++j) out.push_back({'+', to[head + j]});
  } else {
    // lcs[i][j]: the longest common subsequence of the middles' suffixes from i and j.
    std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
    const auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& {
      return lcs[i * (m + 1) + j];
    };
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = m; j-- > 0;) {
        at(i, j) = from[head + i] == to[head + j] ? at(i + 1, j + 1) + 1
                                                  : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && from[head + i] == to[head + j]) {
        out.push_back({' ', from[head + i]});
        ++i;
        ++j;
      } else if (j == m || (i < n && at(i + 1, j) >= at(i, j + 1))) {
        out.push_back({'-', from[head + i++]});
      } else {
        out.push_back({'+', to[head + j++]});
      }
    }
  }
  for (std::size_t k = from.size() - tail; k < from.size(); ++k) out.push_back({' ', from[k]});
  return out;
}

json schema_diff(const std::string& from_schema_json, const std::string& to_schema_json) {
  json out = {{"fields_added", json::array()},
              {"fields_removed", json::array()},
              {"fields_changed", json::array()},
              {"lines", json::array()}};
  const auto from = parse_schema(from_schema_json);
  const auto to = parse_schema(to_schema_json);
  if (!from.error.empty() || !to.error.empty()) {
    std::string problems;
    if (!from.error.empty()) problems = "the old schema (from) is not JSON: " + from.error;
    if (!to.error.empty()) {
      problems += (problems.empty() ? "" : "; ") + ("the new schema (to) is not JSON: " + to.error);
    }
    out["error"] = problems;
    out["lines"] =
        lines_json(diff_lines(split_lines(from_schema_json), split_lines(to_schema_json)));
    return out;
  }

  const auto from_fields = from.doc ? FieldWalker().walk(*from.doc) : std::vector<Field>{};
  const auto to_fields = to.doc ? FieldWalker().walk(*to.doc) : std::vector<Field>{};
  std::map<std::string, const Field*> old_by_path;
  for (const auto& f : from_fields) old_by_path.emplace(f.path, &f);
  std::set<std::string> new_paths;
  for (const auto& f : to_fields) {
    new_paths.insert(f.path);
    const auto old = old_by_path.find(f.path);
    if (old == old_by_path.end()) {
      out["fields_added"].push_back({{"path", f.path}, {"type", f.type}});
    } else if (old->second->canonical != f.canonical) {
      out["fields_changed"].push_back(
          {{"path", f.path}, {"from", old->second->type}, {"to", f.type}});
    }
  }
  for (const auto& f : from_fields) {
    if (!new_paths.count(f.path)) {
      out["fields_removed"].push_back({{"path", f.path}, {"type", f.type}});
    }
  }

  const auto pretty = [](const std::optional<ordered_json>& doc) {
    return doc ? split_lines(dump(*doc, 2)) : std::vector<std::string>{};
  };
  out["lines"] = lines_json(diff_lines(pretty(from.doc), pretty(to.doc)));
  return out;
}

}  // namespace streamflow::control
