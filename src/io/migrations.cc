#include "io/migrations.h"

#include <algorithm>
#include <regex>

#include "base/digest.h"
#include "base/fs.h"

namespace streamflow::io {

using base::Errc;

base::Result<std::vector<Migration>> list_migrations(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return base::make_error(Errc::not_found,
                            "migrations directory " + dir.string() + " does not exist");
  }
  static const std::regex kName(R"(V([0-9]+)__([A-Za-z0-9_]+)\.sql)");
  std::vector<Migration> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto file = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    std::smatch m;
    if (!std::regex_match(file, m, kName)) {
      return base::make_error(Errc::invalid_argument,
                              "migration file " + file + " is not named V<version>__<name>.sql",
                              "dir=" + dir.string());
    }
    out.push_back({m[1], m[2], entry.path()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::stoll(a.version) < std::stoll(b.version);
  });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (std::stoll(out[i].version) == std::stoll(out[i - 1].version)) {
      return base::make_error(Errc::invalid_argument,
                              "two migrations have version " + out[i].version);
    }
  }
  return out;
}

base::Result<std::vector<std::string>> apply_migrations(Connection& conn,
                                                        const std::filesystem::path& dir) {
  auto migrations = list_migrations(dir);
  if (!migrations) return migrations.error();
  if (auto r = conn.exec(
          "CREATE TABLE IF NOT EXISTS public.schema_migrations (version text PRIMARY KEY, "
          "name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT "
          "now())");
      !r) {
    return r.error();
  }
  if (auto r = conn.exec("SELECT pg_advisory_lock(7357001)"); !r) return r.error();
  std::vector<std::string> applied;
  base::Result<std::vector<std::string>> outcome = applied;
  for (const auto& m : *migrations) {
    auto sql = base::read_file(m.file);
    if (!sql) {
      outcome = sql.error();
      break;
    }
    const auto checksum = base::to_hex(base::sha256(*sql));
    auto existing =
        conn.exec("SELECT checksum FROM public.schema_migrations WHERE version = $1", {m.version});
    if (!existing) {
      outcome = existing.error();
      break;
    }
    if (existing->size() == 1) {
      if (existing->text(0, 0) != checksum) {
        outcome = base::make_error(Errc::failed_precondition,
                                   "migration " + m.file.filename().string() +
                                       " changed after it was applied; add a new migration instead",
                                   "file=" + m.file.string());
        break;
      }
      continue;
    }
    auto run =
        conn.exec("BEGIN;\n" + *sql +
                  "\n;INSERT INTO public.schema_migrations (version, name, checksum) VALUES ('" +
                  m.version + "', '" + m.name + "', '" + checksum + "');\nCOMMIT;");
    if (!run) {
      (void)conn.exec("ROLLBACK");
      outcome = base::make_error(run.error().code, "migration " + m.file.filename().string() +
                                                       " failed: " + run.error().message);
      break;
    }
    applied.push_back(m.version);
  }
  (void)conn.exec("SELECT pg_advisory_unlock(7357001)");
  if (!outcome) return outcome;
  return applied;
}

}  // namespace streamflow::io
