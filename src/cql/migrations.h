#pragma once
/// Versioned CQL migrations: files named V<version>__<name>.cql in one directory, applied in
/// version order into one keyspace (created first with the configured replication), recorded in
/// <keyspace>.schema_migrations with a SHA-256 checksum. A file changed after it was applied is
/// an error naming the file, never silently re-run. The CQL counterpart of io/migrations.h.
///
/// Cassandra has no transactions: a migration that fails half way stays half applied and is not
/// recorded, so the next run executes it again from its first statement. Write statements that
/// can run twice (CREATE ... IF NOT EXISTS). Runners are not serialised against each other.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cql/cql.h"

namespace streamflow::cql {

struct Migration {
  std::string version;  ///< "001"
  std::string name;     ///< "users"
  std::filesystem::path file;
};

/// The migrations in `dir`, sorted by version; invalid_argument for a misnamed .cql file or two
/// files with the same version, not_found when `dir` does not exist.
base::Result<std::vector<Migration>> list_migrations(const std::filesystem::path& dir);

/// Splits a CQL script into statements: a statement ends with `;` at the end of a line (after
/// removing `--` and `//` line comments and `/* */` comments outside string literals). The `;`
/// is dropped and each statement trimmed; a last statement without `;` is kept. An unterminated
/// string literal, quoted name or comment is invalid_argument.
base::Result<std::vector<std::string>> split_statements(std::string_view script);

/// A keyspace name Cassandra accepts unquoted: a letter, then up to 47 letters, digits or `_`.
bool valid_keyspace_name(std::string_view name);

struct MigrationTarget {
  std::string keyspace = "streamflow";
  /// The CQL map of `CREATE KEYSPACE ... WITH replication = <replication>`; used only when the
  /// keyspace is created (an existing keyspace keeps its replication).
  std::string replication = "{'class': 'SimpleStrategy', 'replication_factor': 1}";
};

/// Creates the keyspace and schema_migrations when missing, then applies what is not applied yet
/// with `target.keyspace` as the session's default keyspace (left in place afterwards). Returns
/// the versions it applied.
base::Result<std::vector<std::string>> apply_migrations(Session& session,
                                                        const std::filesystem::path& dir,
                                                        const MigrationTarget& target);

struct AppliedMigration {
  std::string version;
  std::string name;
  std::string checksum;
  std::string applied_at;  ///< ISO-8601 UTC
};

/// What <keyspace>.schema_migrations records, by version; empty when the keyspace or the table
/// does not exist yet.
base::Result<std::vector<AppliedMigration>> applied_migrations(Session& session,
                                                               const std::string& keyspace);

}  // namespace streamflow::cql
