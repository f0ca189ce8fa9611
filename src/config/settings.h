#pragma once
/// Typed, self-describing settings. Every setting is declared once (catalog.cc) with its
/// name, kind, default, description and bounds; values come from, in rising precedence:
/// the default, the YAML config file, a STREAMFLOW_* environment variable, a --set flag.
/// Secrets are accepted only from the environment and are never printed.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace streamflow::config {

enum class Kind { string, integer, number, path, boolean };

/// Declaration of one setting.
struct SettingSpec {
  std::string name;  ///< dotted, e.g. "postgres.port"; YAML nests on the dots
  Kind kind = Kind::string;
  std::string default_value;  ///< as text; paths may be relative to the working directory
  std::string description;
  bool secret = false;   ///< environment only; masked in --print-config
  std::int64_t min = 0;  ///< integer and number bounds, checked when max > min
  std::int64_t max = 0;
};

enum class Origin { default_value, file, environment, flag };
std::string_view to_string(Origin origin);

/// Where values come from. `env` is usually the process environment (see process_env()).
struct Sources {
  std::optional<std::filesystem::path> file;  ///< YAML file; must exist when given
  std::map<std::string, std::string> env;
  std::vector<std::string> overrides;  ///< "name=value" from --set, applied last
  std::filesystem::path working_dir = std::filesystem::current_path();
};

/// The effective settings. Immutable after load; safe to share between threads.
class Settings {
 public:
  /// Validates every value; the first bad one is an invalid_argument error naming the setting
  /// and where its value came from.
  static base::Result<Settings> load(const std::vector<SettingSpec>& specs, const Sources& sources);

  /// Accessors. Asking for an undeclared name is a programmer bug (std::out_of_range).
  const std::string& get(std::string_view name) const;
  std::int64_t get_int(std::string_view name) const;
  double get_double(std::string_view name) const;
  bool get_bool(std::string_view name) const;
  std::filesystem::path get_path(std::string_view name) const;
  Origin origin(std::string_view name) const;

  /// One line per setting: name, value (secrets masked), origin, env variable, description.
  std::string describe() const;

  /// Every setting as STREAMFLOW_* variables (paths already absolute), so that a child process
  /// started elsewhere (an Airflow task) sees exactly these settings. Secrets are included only
  /// when `with_secrets` and set.
  std::vector<std::pair<std::string, std::string>> as_environment(bool with_secrets) const;
  /// "postgres.port" -> "STREAMFLOW_POSTGRES_PORT".
  static std::string env_name(std::string_view name);

 private:
  struct Entry {
    SettingSpec spec;
    std::string value;
    Origin origin = Origin::default_value;
  };
  const Entry& entry(std::string_view name) const;
  std::map<std::string, Entry, std::less<>> entries_;
};

/// The current process environment as a map.
std::map<std::string, std::string> process_env();

}  // namespace streamflow::config
