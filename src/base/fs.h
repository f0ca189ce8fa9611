#pragma once
/// File helpers used across modules: whole-file read/write, log tails, ownership.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "base/result.h"

namespace streamflow::base {

Result<std::string> read_file(const std::filesystem::path& path);

/// Writes the file atomically (temp file + rename) with the given permission bits.
Result<void> write_file(const std::filesystem::path& path, const std::string& content,
                        std::filesystem::perms perms = std::filesystem::perms(0644));

/// The last `lines` lines of a text file (fewer if it is shorter; empty if it is missing).
std::string tail_lines(const std::filesystem::path& path, std::size_t lines);

/// A local account: who the services run as.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// Looks up an account by name.
std::optional<Account> find_account(const std::string& name);

/// Creates the directory (and parents) if needed, then gives the whole tree to `owner`.
Result<void> ensure_owned_dir(const std::filesystem::path& dir, const std::optional<Account>& owner,
                              std::filesystem::perms perms = std::filesystem::perms(0750));

/// True when `account` can reach (search) every directory from / down to `dir`.
bool account_can_traverse(const Account& account, const std::filesystem::path& dir);

}  // namespace streamflow::base
