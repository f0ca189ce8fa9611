#pragma once
/// What changed between two versions of an Avro schema, for the control room's schema view:
/// the fields added, removed and retyped (by dotted path, so that a column added to a Debezium
/// envelope shows as `before.<column>` and `after.<column>`), and a line diff of the two schemas
/// pretty-printed, as a reviewer reads a pull request. Pure: no I/O, no logging.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace streamflow::control {

/// The diff of two Avro schemas (JSON text, as the registry's `schema` member holds them):
///
///   {"fields_added":   [{"path":"after.loyalty_tier","type":"[\"null\",\"string\"]"}],
///    "fields_removed": [{"path":..., "type":...}],
///    "fields_changed": [{"path":..., "from":<type>, "to":<type>}],
///    "lines":          [{"op":" "|"+"|"-", "text":"  \"name\": \"id\","}]}
///
/// A field's path is the names of the fields that lead to it, joined by '.', through records
/// nested directly, in unions (Debezium's `before`/`after` are ["null", Value]), in array items
/// and in map values; a named type referred to by name is followed to its definition. A field's
/// type is the compact JSON of its `type`, with a record that is defined inline shown by its
/// name only: its own fields are listed under their own paths, so that adding a column does not
/// also report `before` and `after` as retyped. Types are compared regardless of key order.
/// Added fields come in the order of `to`, removed ones in the order of `from`.
///
/// `lines` is a longest-common-subsequence diff of both schemas pretty-printed with a 2-space
/// indent (keys in the order written). An empty `from` (a subject's first version) is no schema
/// at all: every field is added. Text that is not JSON never throws: the result then has an
/// `"error"` member saying which side, no fields, and `lines` a diff of the raw texts.
nlohmann::json schema_diff(const std::string& from_schema_json, const std::string& to_schema_json);

/// One line of a line diff: ' ' in both, '-' only in the old text, '+' only in the new one.
struct DiffLine {
  char op = ' ';
  std::string text;
};

/// A shortest line diff of `from` and `to` (LCS over the lines between their common prefix and
/// suffix). When the part that differs is too large for the quadratic table (over a few million
/// line pairs), it is shown as all of it removed then all of it added: still a correct diff.
std::vector<DiffLine> diff_lines(const std::vector<std::string>& from,
                                 const std::vector<std::string>& to);

}  // namespace streamflow::control
