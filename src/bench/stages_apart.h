#pragma once
/// `streamflow bench --stages-apart`: the pipeline's two halves one after the other. The capture
/// half (ingest in this process, PostgreSQL, Debezium on Connect, Kafka) runs with the Spark job
/// paused (SIGSTOP to its process tree, so that its JIT stays warm; SIGCONT on every way out)
/// until Kafka has every change; then the job drains the topic alone until Cassandra has every
/// user. Each half's CPU per user, by service, and the highest sustained rate they leave room
/// for on this machine's cores (report.h: stages_apart_json).

#include <atomic>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/result.h"
#include "bench/driver.h"
#include "deploy/layout.h"
#include "ingest/ingester.h"

namespace streamflow::bench {

base::Result<nlohmann::json> run_stages_apart(const deploy::Layout& layout, ingest::Options ingest,
                                              const Options& options, const ServiceLister& services,
                                              const std::atomic<bool>& stop,
                                              std::ostream& progress);

}  // namespace streamflow::bench
