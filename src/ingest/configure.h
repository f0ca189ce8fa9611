#pragma once
/// A run's options from the settings (`ingest.*`, the API host's request limit, the pipeline's
/// PostgreSQL and the national-id hash key), with what the command line overrides: what
/// `streamflow ingest` and `streamflow bench` run with.

#include <filesystem>
#include <optional>
#include <string>

#include "base/result.h"
#include "config/settings.h"
#include "ingest/ingester.h"

namespace streamflow::ingest {

/// Values given on the command line; each absent one comes from its setting.
struct Overrides {
  std::optional<std::string> url;
  std::optional<int> batch_size;
  std::optional<int> concurrency;
  std::optional<int> max_retries;
  std::optional<int> timeout_s;
  std::optional<std::string> nat;
};

/// Fills `options`' API, batching, retries, politeness (ingest.local_requests_per_s for a
/// loopback host, the local mock; ingest.requests_per_s for any other), the id-hash key
/// (generated on first use) and, unless it is a dry run, the PostgreSQL connection.
base::Result<void> configure(Options& options, const config::Settings& settings,
                             const Overrides& overrides);

}  // namespace streamflow::ingest
