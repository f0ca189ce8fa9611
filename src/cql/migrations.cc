#include "cql/migrations.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include "base/digest.h"
#include "base/fs.h"

namespace streamflow::cql {

using base::Errc;
using base::make_error;
using base::Result;

namespace {

/// "001" -> "1", so that versions compare as numbers of any length.
std::string_view numeric(std::string_view version) {
  const auto first = version.find_first_not_of('0');
  return first == std::string_view::npos ? std::string_view("0") : version.substr(first);
}

bool version_less(const std::string& a, const std::string& b) {
  const auto x = numeric(a);
  const auto y = numeric(b);
  return x.size() != y.size() ? x.size() < y.size() : x < y;
}

std::string trim(std::string_view s) {
  const auto* ws = " \t\r\n\f\v";
  const auto begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(ws);
  return std::string(s.substr(begin, end - begin + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// The first line of a statement, for error messages.
std::string headline(const std::string& statement) {
  auto line = statement.substr(0, statement.find('\n'));
  return line.size() > 80 ? line.substr(0, 77) + "..." : line;
}

}  // namespace

Result<std::vector<Migration>> list_migrations(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return make_error(Errc::not_found,
                      "CQL migrations directory " + dir.string() + " does not exist");
  }
  static const std::regex kName(R"(V([0-9]+)__([A-Za-z0-9_]+)\.cql)");
  std::vector<Migration> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".cql") continue;
    const auto file = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(file, m, kName)) {
      return make_error(Errc::invalid_argument,
                        "CQL migration file " + file + " is not named V<version>__<name>.cql",
                        "dir=" + dir.string());
    }
    out.push_back({m[1], m[2], entry.path()});
  }
  if (ec) {
    return make_error(Errc::io_error, "cannot list " + dir.string() + ": " + ec.message());
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return version_less(a.version, b.version); });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (!version_less(out[i - 1].version, out[i].version)) {
      return make_error(Errc::invalid_argument,
                        "two CQL migrations have version " + out[i].version + ": " +
                            out[i - 1].file.filename().string() + " and " +
                            out[i].file.filename().string(),
                        "dir=" + dir.string());
    }
  }
  return out;
}

Result<std::vector<std::string>> split_statements(std::string_view script) {
  enum class In { code, single_quote, double_quote, dollar, block_comment };
  In in = In::code;
  std::vector<std::string> out;
  std::string current;
  // Whether the last character of the current line that is not blank or comment is a `;` in
  // code: then the line's end ends the statement.
  bool ends_with_semicolon = false;
  std::size_t line = 1;
  std::size_t opened_at = 0;  // line where the open literal or comment began

  auto finish = [&] {
    auto statement = trim(current);
    if (!statement.empty() && statement.back() == ';')
      statement = trim(statement.substr(0, statement.size() - 1));
    if (!statement.empty()) out.push_back(std::move(statement));
    current.clear();
    ends_with_semicolon = false;
  };

  for (std::size_t i = 0; i < script.size(); ++i) {
    const char c = script[i];
    const char next = i + 1 < script.size() ? script[i + 1] : '\0';
    switch (in) {
      case In::code:
        if ((c == '-' && next == '-') || (c == '/' && next == '/')) {
          while (i + 1 < script.size() && script[i + 1] != '\n') ++i;  // up to the newline
          continue;
        }
        if (c == '/' && next == '*') {
          in = In::block_comment;
          opened_at = line;
          current += ' ';
          ++i;
          continue;
        }
        if (c == '\n') {
          ++line;
          if (ends_with_semicolon) {
            finish();
            continue;
          }
        } else if (c == ';') {
          ends_with_semicolon = true;
        } else if (!std::isspace(static_cast<unsigned char>(c))) {
          ends_with_semicolon = false;
          if (c == '\'' || c == '"') {
            in = c == '\'' ? In::single_quote : In::double_quote;
            opened_at = line;
          } else if (c == '$' && next == '$') {
            in = In::dollar;
            opened_at = line;
            current += "$$";
            ++i;
            continue;
          }
        }
        current += c;
        break;
      case In::single_quote:  // '' inside a literal closes and reopens it: same outcome
      case In::double_quote:
        if (c == '\n') ++line;
        if ((in == In::single_quote && c == '\'') || (in == In::double_quote && c == '"'))
          in = In::code;
        current += c;
        break;
      case In::dollar:
        if (c == '\n') ++line;
        if (c == '$' && next == '$') {
          in = In::code;
          current += "$$";
          ++i;
          continue;
        }
        current += c;
        break;
      case In::block_comment:
        if (c == '\n') {
          ++line;
          current += '\n';
        }
        if (c == '*' && next == '/') {
          in = In::code;
          ++i;
        }
        break;
    }
  }
  if (in != In::code) {
    const char* what = in == In::block_comment  ? "comment"
                       : in == In::double_quote ? "quoted name"
                                                : "string literal";
    return make_error(Errc::invalid_argument, "unterminated " + std::string(what) +
                                                  " starting on line " + std::to_string(opened_at));
  }
  finish();
  return out;
}

bool valid_keyspace_name(std::string_view name) {
  if (name.empty() || name.size() > 48) return false;
  if (!std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

Result<std::vector<AppliedMigration>> applied_migrations(Session& session,
                                                         const std::string& keyspace) {
  if (!valid_keyspace_name(keyspace)) {
    return make_error(Errc::invalid_argument, "'" + keyspace + "' is not a valid keyspace name");
  }
  const auto ks = lower(keyspace);
  auto table = session.query(
      "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?",
      {ks, std::string("schema_migrations")});
  if (!table) return table.error();
  std::vector<AppliedMigration> out;
  if (table->rows.empty()) return out;
  auto rows =
      session.query("SELECT version, name, checksum, applied_at FROM " + ks + ".schema_migrations");
  if (!rows) return rows.error();
  for (const auto& r : rows->rows) {
    out.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or("")});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return version_less(a.version, b.version); });
  return out;
}

Result<std::vector<std::string>> apply_migrations(Session& session,
                                                  const std::filesystem::path& dir,
                                                  const MigrationTarget& target) {
  if (!valid_keyspace_name(target.keyspace)) {
    return make_error(Errc::invalid_argument,
                      "'" + target.keyspace +
                          "' is not a valid keyspace name (a letter, then up to 47 letters, "
                          "digits or _)",
                      "setting=cassandra.keyspace");
  }
  const auto ks = lower(target.keyspace);
  auto migrations = list_migrations(dir);
  if (!migrations) return migrations.error();

  // Read and split every file first: a broken file fails the run before anything changes.
  struct Script {
    const Migration* migration;
    std::string checksum;
    std::vector<std::string> statements;
  };
  std::vector<Script> scripts;
  for (const auto& m : *migrations) {
    auto text = base::read_file(m.file);
    if (!text) return text.error();
    auto statements = split_statements(*text);
    if (!statements) {
      return make_error(
          Errc::invalid_argument,
          "CQL migration " + m.file.filename().string() + ": " + statements.error().message,
          "file=" + m.file.string());
    }
    scripts.push_back({&m, base::to_hex(base::sha256(*text)), std::move(*statements)});
  }

  if (auto r = session.execute("CREATE KEYSPACE IF NOT EXISTS " + ks +
                               " WITH replication = " + target.replication);
      !r) {
    return make_error(r.error().code, "cannot create keyspace " + ks + ": " + r.error().message,
                      "setting=cassandra.replication");
  }
  if (auto r = session.execute("CREATE TABLE IF NOT EXISTS " + ks +
                               ".schema_migrations (version text PRIMARY KEY, name text, "
                               "checksum text, applied_at timestamp)");
      !r) {
    return r.error();
  }
  auto recorded = session.query("SELECT version, checksum FROM " + ks + ".schema_migrations");
  if (!recorded) return recorded.error();
  std::map<std::string, std::string> checksums;
  for (const auto& row : recorded->rows) checksums[row[0].value_or("")] = row[1].value_or("");
  if (auto r = session.use_keyspace(ks); !r) return r.error();

  std::vector<std::string> applied;
  for (const auto& s : scripts) {
    const auto& m = *s.migration;
    const auto file = m.file.filename().string();
    if (auto it = checksums.find(m.version); it != checksums.end()) {
      if (it->second != s.checksum) {
        return make_error(
            Errc::failed_precondition,
            "CQL migration " + file + " changed after it was applied; add a new migration instead",
            "file=" + m.file.string() + " keyspace=" + ks);
      }
      continue;
    }
    for (std::size_t i = 0; i < s.statements.size(); ++i) {
      if (auto r = session.execute(s.statements[i]); !r) {
        return make_error(r.error().code,
                          "CQL migration " + file + " failed at statement " +
                              std::to_string(i + 1) + " (" + headline(s.statements[i]) +
                              "): " + r.error().message,
                          "file=" + m.file.string() + " keyspace=" + ks);
      }
    }
    auto record = session.query("INSERT INTO " + ks +
                                    ".schema_migrations (version, name, checksum, applied_at) "
                                    "VALUES (?, ?, ?, toTimestamp(now()))",
                                {m.version, m.name, s.checksum});
    if (!record) return record.error();
    applied.push_back(m.version);
  }
  return applied;
}

}  // namespace streamflow::cql
