#pragma once
/// Spark as the control room shows it: the standalone masters (leader or standby, their workers
/// and applications), the streaming job's executors, and its queries' recent micro-batches. Pure
/// parsers of what Spark and the job answer; the caller does the I/O (the masters' `/json/`, the
/// driver UI's REST API, the job's progress file). Field names are Spark 3.5's: the master's
/// from org.apache.spark.deploy.JsonProtocol (writeMasterState, writeWorkerInfo,
/// writeApplicationInfo), the executors' from status/api/v1/api.scala (ExecutorSummary).
///
/// None of them throws or fails: a body that is not what Spark answers gives the empty shape
/// (a master's with an `"error"` member), so that one unreadable answer never hides the rest of
/// the view. A member Spark left out (it omits NaN and absent values) is null.

#include <nlohmann/json.hpp>
#include <string>

namespace streamflow::control {

/// A standalone master's GET /json/:
///   {"url":"spark://127.0.0.2:7077", "status":"ALIVE"|"STANDBY"|"RECOVERING"|...,
///    "workers":[{"id","host","port","state","cores","cores_used","memory_mb","memory_used_mb"}],
///    "active_apps":[{"id","name","state","cores"}]}
/// A standby master lists no workers and no applications. A body that is not a master's
/// answer: status "UNKNOWN", empty lists and `"error"` saying why.
nlohmann::json parse_master_json(const std::string& body);

/// The driver UI's GET /api/v1/applications: [{"id","name"}] (the job's own application, as
/// its driver serves only that one); [] for a body that is not that list.
nlohmann::json parse_applications(const std::string& body);

/// The driver UI's GET /api/v1/applications/<id>/executors, the driver included (id
/// "driver"): [{"id","host_port","active","active_tasks","completed_tasks","failed_tasks",
/// "memory_used","max_memory","total_cores"}], memory in bytes (storage memory: used and the
/// most the block manager may use); [] for a body that is not that list.
nlohmann::json parse_executors(const std::string& body);

/// The streaming job's progress file (job.py's `report`), parsed:
///   [{"name","active","batch_id","input_rows_per_s","processed_rows_per_s","batch_ms",
///     "batches":[{"batch_id","timestamp","batch_ms","input_rows","input_rows_per_s",
///                 "processed_rows_per_s"}]}]
/// one per query, by name (nlohmann::json keeps an object's keys sorted), `batches` its last
/// micro-batches oldest first (the file's `recent`; [] from a job older than that). [] when the
/// document is not a progress file (a discarded parse included).
nlohmann::json parse_queries(const nlohmann::json& progress);

}  // namespace streamflow::control
