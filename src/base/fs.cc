#include "base/fs.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <sstream>

namespace streamflow::base {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<void> write_file(const fs::path& path, const std::string& content, fs::perms perms) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(Errc::io_error, "cannot write " + tmp.string());
    out << content;
    if (!out.flush()) return make_error(Errc::io_error, "cannot write " + tmp.string());
  }
  fs::permissions(tmp, perms, ec);
  fs::rename(tmp, path, ec);
  if (ec)
    return make_error(Errc::io_error, "cannot replace " + path.string() + ": " + ec.message());
  return {};
}

std::string tail_lines(const fs::path& path, std::size_t lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  // Read at most the last 256 KiB: enough for any sensible tail, bounded for huge logs.
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  const std::streamoff window = 256 * 1024;
  in.seekg(size > window ? size - window : 0);
  std::deque<std::string> kept;
  std::string line;
  while (std::getline(in, line)) {
    kept.push_back(line);
    if (kept.size() > lines) kept.pop_front();
  }
  std::string out;
  for (const auto& l : kept) out += l + "\n";
  return out;
}

std::optional<Account> find_account(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::string buf(16384, '\0');
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return Account{name, pw.pw_uid, pw.pw_gid};
}

Result<void> ensure_owned_dir(const fs::path& dir, const std::optional<Account>& owner,
                              fs::perms perms) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(Errc::io_error, "cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, perms, ec);
  if (!owner) return {};
  auto give = [&](const fs::path& p) -> bool {
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) return true;
    if (st.st_uid == owner->uid && st.st_gid == owner->gid) return true;
    return lchown(p.c_str(), owner->uid, owner->gid) == 0;
  };
  if (!give(dir)) return make_error(Errc::io_error, "cannot chown " + dir.string());
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!give(it->path())) return make_error(Errc::io_error, "cannot chown " + it->path().string());
  }
  return {};
}

bool account_can_traverse(const Account& account, const fs::path& dir) {
  fs::path walked;
  for (const auto& part : fs::absolute(dir)) {
    walked /= part;
    struct stat st {};
    if (stat(walked.c_str(), &st) != 0) return true;  // not created yet: its parent decides
    if (!S_ISDIR(st.st_mode)) continue;
    bool ok = (st.st_mode & S_IXOTH) || (st.st_uid == account.uid && (st.st_mode & S_IXUSR)) ||
              (st.st_gid == account.gid && (st.st_mode & S_IXGRP));
    if (!ok) return false;
  }
  return true;
}

}  // namespace streamflow::base
