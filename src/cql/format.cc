#include "cql/format.h"

#include <nlohmann/json.hpp>

namespace streamflow::cql {

namespace {

void append_field(std::string& out, const std::string& value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

std::string format_tsv(const Rows& rows) {
  if (rows.columns.empty()) return "";
  std::string out;
  for (std::size_t i = 0; i < rows.columns.size(); ++i) {
    if (i) out += '\t';
    append_field(out, rows.columns[i]);
  }
  out += '\n';
  for (const auto& row : rows.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i) out += '\t';
      if (row[i]) {
        append_field(out, *row[i]);
      } else {
        out += "\\N";
      }
    }
    out += '\n';
  }
  return out;
}

std::string format_json(const Rows& rows) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& row : rows.rows) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < rows.columns.size() && i < row.size(); ++i) {
      object[rows.columns[i]] = row[i] ? nlohmann::ordered_json(*row[i]) : nullptr;
    }
    out.push_back(std::move(object));
  }
  return out.dump(2) + "\n";
}

}  // namespace streamflow::cql
