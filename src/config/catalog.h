#pragma once
/// The catalog: every StreamFlow setting, declared once. Modules read them by name.

#include <vector>

#include "config/settings.h"

namespace streamflow::config {

/// All settings of all commands (so `--print-config` shows the whole picture).
const std::vector<SettingSpec>& catalog();

/// Loads the catalog from the config file (explicit path, else $STREAMFLOW_CONFIG, else
/// ./streamflow.yaml when present), the environment and `--set` overrides.
base::Result<Settings> load_settings(const std::optional<std::filesystem::path>& config_file,
                                     const std::vector<std::string>& overrides);

}  // namespace streamflow::config
