#include "config/secrets.h"

#include "base/fs.h"
#include "base/random.h"

namespace streamflow::config {

base::Result<std::string> secret(const Settings& s, const std::string& name,
                                 const std::string& file, bool generate) {
  if (!s.get(name).empty()) return s.get(name);
  const auto dir = s.get_path("state_dir") / "secrets";
  const auto path = dir / file;
  if (auto existing = base::read_file(path); existing && !existing->empty()) {
    std::string v = *existing;
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }
  if (!generate) {
    return base::make_error(base::Errc::failed_precondition, "no " + name + ": set " +
                                                                 Settings::env_name(name) +
                                                                 ", or run `streamflow up` once so "
                                                                 "that it is generated into " +
                                                                 path.string());
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::filesystem::permissions(dir, std::filesystem::perms(0700), ec);
  auto v = base::random_token(32);
  if (auto w = base::write_file(path, v + "\n", std::filesystem::perms(0600)); !w) return w.error();
  return v;
}

namespace {
std::string pq_quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}
}  // namespace

base::Result<std::string> pipeline_conninfo(const Settings& s,
                                            const std::string& application_name) {
  auto password = secret(s, "postgres.password", "postgres.password", false);
  if (!password) return password.error();
  return "host=127.0.0.1 port=" + s.get("postgres.port") +
         " dbname=" + pq_quote(s.get("postgres.database")) +
         " user=" + pq_quote(s.get("postgres.user")) + " password=" + pq_quote(*password) +
         " application_name=" + pq_quote(application_name) + " connect_timeout=10";
}

}  // namespace streamflow::config
