#include "cql/format.h"

#include <nlohmann/json.hpp>

#include "base/tsv.h"

namespace streamflow::cql {

std::string format_tsv(const Rows& rows) {
  if (rows.columns.empty()) return "";
  std::string out;
  for (std::size_t i = 0; i < rows.columns.size(); ++i) {
    if (i) out += '\t';
    base::append_tsv_field(out, rows.columns[i]);
  }
  out += '\n';
  for (const auto& row : rows.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i) out += '\t';
      base::append_tsv_field(out, row[i] ? std::optional<std::string_view>(*row[i]) : std::nullopt);
    }
    out += '\n';
  }
  return out;
}

namespace {

base::Result<std::vector<Value>> parse_tsv_line(std::string_view line, std::size_t line_no) {
  std::vector<Value> fields;
  std::string field;
  bool is_null = false;
  auto finish = [&] {
    fields.push_back(is_null ? Value{} : Value{std::move(field)});
    field.clear();
    is_null = false;
  };
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\t') {
      finish();
      continue;
    }
    if (c != '\\') {
      field += c;
      continue;
    }
    if (++i == line.size()) {
      return base::make_error(base::Errc::invalid_argument,
                              "line " + std::to_string(line_no) + ": ends in a lone backslash");
    }
    switch (line[i]) {
      case '\\':
        field += '\\';
        break;
      case 't':
        field += '\t';
        break;
      case 'n':
        field += '\n';
        break;
      case 'r':
        field += '\r';
        break;
      case 'N':
        if (!field.empty() || (i + 1 < line.size() && line[i + 1] != '\t')) {
          return base::make_error(base::Errc::invalid_argument,
                                  "line " + std::to_string(line_no) + ": \\N inside a field");
        }
        is_null = true;
        break;
      default:
        return base::make_error(
            base::Errc::invalid_argument,
            "line " + std::to_string(line_no) + ": unknown escape \\" + std::string(1, line[i]));
    }
  }
  finish();
  return fields;
}

}  // namespace

base::Result<Rows> parse_tsv(const std::string& text) {
  Rows out;
  std::size_t start = 0, line_no = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto fields = parse_tsv_line(line, line_no);
    if (!fields) return fields.error();
    if (line_no == 1) {
      for (auto& f : *fields) out.columns.push_back(f.value_or(""));
      continue;
    }
    if (fields->size() != out.columns.size()) {
      return base::make_error(base::Errc::invalid_argument,
                              "line " + std::to_string(line_no) + ": " +
                                  std::to_string(fields->size()) + " fields, the header has " +
                                  std::to_string(out.columns.size()));
    }
    out.rows.push_back(std::move(*fields));
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
