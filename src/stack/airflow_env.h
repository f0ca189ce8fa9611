#pragma once
/// How Airflow runs in the stack: the environment of its four components and of every task it
/// runs, and the command line of `streamflow airflow ...`.

#include <string>
#include <utility>
#include <vector>

#include "deploy/layout.h"

namespace streamflow::stack {

using deploy::Layout;

/// The environment of every Airflow component and task: Airflow's configuration
/// (AIRFLOW__SECTION__KEY), and our settings as STREAMFLOW_* so that a task's `streamflow`
/// sees what `up` saw.
std::vector<std::pair<std::string, std::string>> airflow_environment(const Layout& layout);

/// The command line that runs Airflow's CLI (or, with `python`, its venv's Python) with
/// `args`, as the service account, in that environment (`streamflow airflow ...`).
std::vector<std::string> airflow_command(const Layout& layout, const std::vector<std::string>& args,
                                         bool python);

}  // namespace streamflow::stack
