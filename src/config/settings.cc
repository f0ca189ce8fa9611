#include "config/settings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace streamflow::config {

using base::Errc;
using base::make_error;

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::default_value:
      return "default";
    case Origin::file:
      return "file";
    case Origin::environment:
      return "env";
    case Origin::flag:
      return "flag";
  }
  return "?";
}

std::string Settings::env_name(std::string_view name) {
  std::string out = "STREAMFLOW_";
  for (char c : name) {
    out += (c == '.' || c == '-') ? '_'
                                  : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

namespace {

void flatten(const YAML::Node& node, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>();
      flatten(kv.second, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (node.IsScalar()) {
    out[prefix] = node.Scalar();
  } else if (node.IsNull()) {
    out[prefix] = "";
  } else {
    out[prefix] = "\x01sequence";  // rejected by validation: no setting takes a list
  }
}

std::optional<std::string> normalise_bool(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "1" || v == "true" || v == "yes" || v == "on") return "true";
  if (v == "0" || v == "false" || v == "no" || v == "off") return "false";
  return std::nullopt;
}

}  // namespace

base::Result<Settings> Settings::load(const std::vector<SettingSpec>& specs,
                                      const Sources& sources) {
  Settings s;
  for (const auto& spec : specs) {
    s.entries_[spec.name] = Entry{spec, spec.default_value, Origin::default_value};
  }
  auto where = [](const std::string& name, Origin o, const std::string& src) {
    return "setting=" + name + " from=" + std::string(to_string(o)) +
           (src.empty() ? "" : " " + src);
  };

  // Raw values per origin, with where they came from, before validation.
  struct Raw {
    std::string value;
    Origin origin;
    std::string source;
    std::filesystem::path base;
  };
  std::map<std::string, Raw> raw;

  if (sources.file) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(sources.file->string());
    } catch (const YAML::Exception& e) {
      return make_error(Errc::invalid_argument,
                        "cannot read config file " + sources.file->string() + ": " + e.what());
    }
    std::map<std::string, std::string> flat;
    if (root.IsMap())
      flatten(root, "", flat);
    else if (!root.IsNull()) {
      return make_error(Errc::invalid_argument,
                        "config file " + sources.file->string() + " must be a YAML mapping");
    }
    for (const auto& [name, value] : flat) {
      if (!s.entries_.count(name)) {
        return make_error(Errc::invalid_argument,
                          "unknown setting '" + name + "' in " + sources.file->string() +
                              " (run `streamflow --print-config` to list them)");
      }
      raw[name] = Raw{value, Origin::file, sources.file->string(),
                      sources.file->parent_path().empty()
                          ? sources.working_dir
                          : std::filesystem::absolute(*sources.file).parent_path()};
    }
  }
  for (const auto& spec : specs) {
    auto it = sources.env.find(env_name(spec.name));
    if (it != sources.env.end())
      raw[spec.name] = Raw{it->second, Origin::environment, it->first, sources.working_dir};
  }
  for (const auto& kv : sources.overrides) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      return make_error(Errc::invalid_argument, "--set takes name=value, got '" + kv + "'");
    }
    std::string name = kv.substr(0, eq);
    if (!s.entries_.count(name)) {
      return make_error(
          Errc::invalid_argument,
          "unknown setting '" + name + "' in --set (run `streamflow --print-config` to list them)");
    }
    raw[name] = Raw{kv.substr(eq + 1), Origin::flag, "--set", sources.working_dir};
  }

  // Defaults of path settings are relative to the working directory.
  for (auto& [name, entry] : s.entries_) {
    if (entry.spec.kind == Kind::path && !entry.value.empty() &&
        std::filesystem::path(entry.value).is_relative()) {
      entry.value = (sources.working_dir / entry.value).lexically_normal().string();
    }
  }

  for (auto& [name, r] : raw) {
    Entry& e = s.entries_.at(name);
    const SettingSpec& spec = e.spec;
    if (spec.secret && r.origin != Origin::environment) {
      return make_error(Errc::invalid_argument,
                        "'" + name + "' is a secret and is read only from the environment; set " +
                            env_name(name) + " instead",
                        where(name, r.origin, r.source));
    }
    std::string value = r.value;
    switch (spec.kind) {
      case Kind::integer: {
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || ptr != value.data() + value.size()) {
          return make_error(Errc::invalid_argument,
                            "'" + name + "' must be a whole number, got '" + value + "'",
                            where(name, r.origin, r.source));
        }
        if (spec.max > spec.min && (v < spec.min || v > spec.max)) {
          return make_error(Errc::invalid_argument,
                            "'" + name + "' must be between " + std::to_string(spec.min) + " and " +
                                std::to_string(spec.max) + ", got " + value,
                            where(name, r.origin, r.source));
        }
        break;
      }
      case Kind::number: {
        char* end = nullptr;
        const double v = value.empty() ? 0 : std::strtod(value.c_str(), &end);
        if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v)) {
          return make_error(Errc::invalid_argument,
                            "'" + name + "' must be a number, got '" + value + "'",
                            where(name, r.origin, r.source));
        }
        if (spec.max > spec.min &&
            (v < static_cast<double>(spec.min) || v > static_cast<double>(spec.max))) {
          return make_error(Errc::invalid_argument,
                            "'" + name + "' must be between " + std::to_string(spec.min) + " and " +
                                std::to_string(spec.max) + ", got " + value,
                            where(name, r.origin, r.source));
        }
        break;
      }
      case Kind::boolean: {
        auto b = normalise_bool(value);
        if (!b) {
          return make_error(Errc::invalid_argument,
                            "'" + name + "' must be true or false, got '" + value + "'",
                            where(name, r.origin, r.source));
        }
        value = *b;
        break;
      }
      case Kind::path:
        if (!value.empty() && std::filesystem::path(value).is_relative()) {
          value = (r.base / value).lexically_normal().string();
        }
        break;
      case Kind::string:
        if (value.find('\x01') != std::string::npos) {
          return make_error(Errc::invalid_argument, "'" + name + "' must be a single value",
                            where(name, r.origin, r.source));
        }
        break;
    }
    e.value = value;
    e.origin = r.origin;
  }
  return s;
}

const Settings::Entry& Settings::entry(std::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw std::out_of_range("undeclared setting: " + std::string(name));
  return it->second;
}

const std::string& Settings::get(std::string_view name) const { return entry(name).value; }

std::int64_t Settings::get_int(std::string_view name) const {
  const auto& v = entry(name).value;
  std::int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

double Settings::get_double(std::string_view name) const {
  return std::strtod(entry(name).value.c_str(), nullptr);
}

bool Settings::get_bool(std::string_view name) const { return entry(name).value == "true"; }

std::filesystem::path Settings::get_path(std::string_view name) const { return entry(name).value; }

Origin Settings::origin(std::string_view name) const { return entry(name).origin; }

std::vector<std::pair<std::string, std::string>> Settings::as_environment(bool with_secrets) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, e] : entries_) {
    if (e.spec.secret && (!with_secrets || e.value.empty())) continue;
    out.emplace_back(env_name(name), e.value);
  }
  return out;
}

std::string Settings::describe() const {
  std::size_t width = 0;
  for (const auto& [name, e] : entries_) width = std::max(width, name.size());
  std::ostringstream out;
  for (const auto& [name, e] : entries_) {
    std::string value = e.spec.secret ? (e.value.empty() ? "(unset)" : "(set, hidden)") : e.value;
    out << name << std::string(width - name.size() + 2, ' ') << value << "  ["
        << to_string(e.origin) << ", " << env_name(name) << "]  " << e.spec.description << "\n";
  }
  return out.str();
}

std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

}  // namespace streamflow::config
