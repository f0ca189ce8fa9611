#pragma once
/// Versioned SQL migrations: files named V<version>__<name>.sql in one directory, applied in
/// version order, each in its own transaction, recorded in schema_migrations with a checksum.
/// A file changed after it was applied is an error, never silently re-run. Concurrent runners
/// serialise on an advisory lock.

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "io/pg.h"

namespace streamflow::io {

struct Migration {
  std::string version;  ///< "001"
  std::string name;     ///< "staging"
  std::filesystem::path file;
};

/// The migrations in `dir`, sorted by version; invalid_argument for a misnamed .sql file.
base::Result<std::vector<Migration>> list_migrations(const std::filesystem::path& dir);

/// Applies what is not applied yet; returns the versions it applied.
base::Result<std::vector<std::string>> apply_migrations(Connection& conn,
                                                        const std::filesystem::path& dir);

}  // namespace streamflow::io
