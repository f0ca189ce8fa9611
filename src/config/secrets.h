#pragma once
/// Secrets the pipeline needs: taken from the environment (via the secret settings), or else
/// read from, or generated once into, <state_dir>/secrets/ (directory 0700, files 0600).
/// Never logged, never printed.

#include <string>

#include "base/result.h"
#include "config/settings.h"

namespace streamflow::config {

/// The value of secret setting `name` when set; else the content of <state_dir>/secrets/<file>;
/// else, when `generate`, a new random token written there; else failed_precondition.
base::Result<std::string> secret(const Settings& settings, const std::string& name,
                                 const std::string& file, bool generate);

/// libpq connection string for the pipeline role over TCP (password from postgres.password or
/// the generated secret file).
base::Result<std::string> pipeline_conninfo(const Settings& settings,
                                            const std::string& application_name);

}  // namespace streamflow::config
