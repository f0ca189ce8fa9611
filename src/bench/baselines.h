#pragma once
/// What this machine can do without the pipeline, measured on the same stack after a run: the
/// same rows through PostgreSQL COPY, the same records produced to Kafka, the run's rows written
/// straight to a copy of Cassandra's users table by one client. Each stage of the pipeline is
/// reported as a fraction of its baseline.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"
#include "bench/report.h"
#include "cql/cql.h"
#include "deploy/layout.h"
#include "model/user.h"

namespace streamflow::bench {

/// The input of the PostgreSQL and Kafka baselines: users from the mock's generator (the same
/// seed every run) and their API records as JSON.
struct BaselineInput {
  std::vector<model::User> users;
  std::vector<std::string> records;  ///< each user's API record as JSON (Kafka's messages)
};
base::Result<BaselineInput> baseline_input(std::int64_t rows, const std::string& id_hash_key);

/// Rows/s of binary COPY into a temporary copy of staging.users, 5,000 rows per COPY.
base::Result<double> postgres_copy_rate(const std::string& conninfo, const BaselineInput& in);
/// Messages/s produced (acks=all) to the topic <prefix>.bench, deleted afterwards.
base::Result<double> kafka_produce_rate(const deploy::Layout& layout, const BaselineInput& in,
                                        std::ostream& progress);
/// Rows/s of the run's users read back and written by one client (prepared INSERTs, 64 in
/// flight) to streamflow_bench.users, dropped afterwards.
base::Result<double> cassandra_write_rate(cql::Session& session, const std::string& keyspace,
                                          std::int64_t rows);

/// All three; a failed one is reported on `progress` and left out. An error only when their
/// input cannot be made.
base::Result<Baselines> measure_baselines(const deploy::Layout& layout, const std::string& conninfo,
                                          const std::string& id_hash_key, cql::Session& session,
                                          std::int64_t rows, std::ostream& progress);

}  // namespace streamflow::bench
