#include "control/spark_view.h"

#include <gtest/gtest.h>

#include <string>

namespace streamflow::control {
namespace {

using nlohmann::json;

/// The leading master of the cluster layout as Spark 3.5.7's GET /json/ answers it
/// (JsonProtocol.writeMasterState): one worker alive running the job's executor, one dead.
constexpr const char* kLeader = R"({
  "url": "spark://127.0.0.2:7077",
  "workers": [
    {"id": "worker-20250301101500-127.0.0.3-37021", "host": "127.0.0.3", "port": 37021,
     "webuiaddress": "http://127.0.0.3:8081", "cores": 2, "coresused": 2, "coresfree": 0,
     "memory": 2048, "memoryused": 1024, "memoryfree": 1024, "resources": {},
     "resourcesused": {}, "resourcesfree": {}, "state": "ALIVE", "lastheartbeat": 1740824160123},
    {"id": "worker-20250301101501-127.0.0.4-41877", "host": "127.0.0.4", "port": 41877,
     "webuiaddress": "http://127.0.0.4:8081", "cores": 2, "coresused": 0, "coresfree": 2,
     "memory": 2048, "memoryused": 0, "memoryfree": 2048, "resources": {},
     "resourcesused": {}, "resourcesfree": {}, "state": "DEAD", "lastheartbeat": 1740824001999}
  ],
  "aliveworkers": 1, "cores": 2, "coresused": 2, "memory": 2048, "memoryused": 1024,
  "resources": [{}], "resourcesused": [{}],
  "activeapps": [
    {"id": "app-20250301101602-0000", "starttime": 1740824162000, "name": "streamflow-stream",
     "cores": 2, "user": "streamflow", "memoryperexecutor": 1024, "memoryperslave": 1024,
     "resourcesperexecutor": [], "resourcesperslave": [],
     "submitdate": "Sat Mar 01 10:16:02 UTC 2025", "state": "RUNNING", "duration": 3600000}
  ],
  "completedapps": [], "activedrivers": [], "completeddrivers": [],
  "status": "ALIVE"
})";

TEST(SparkMaster, TheLeaderWithItsWorkersAndTheJob) {
  const auto m = parse_master_json(kLeader);
  EXPECT_EQ(m, json::parse(R"({
    "url": "spark://127.0.0.2:7077",
    "status": "ALIVE",
    "workers": [
      {"id": "worker-20250301101500-127.0.0.3-37021", "host": "127.0.0.3", "port": 37021,
       "state": "ALIVE", "cores": 2, "cores_used": 2, "memory_mb": 2048, "memory_used_mb": 1024},
      {"id": "worker-20250301101501-127.0.0.4-41877", "host": "127.0.0.4", "port": 41877,
       "state": "DEAD", "cores": 2, "cores_used": 0, "memory_mb": 2048, "memory_used_mb": 0}
    ],
    "active_apps": [
      {"id": "app-20250301101602-0000", "name": "streamflow-stream", "state": "RUNNING",
       "cores": 2}
    ]
  })"))
      << m.dump(2);
}

TEST(SparkMaster, AStandbyListsNothingAndAnUnreadableAnswerSaysSo) {
  const auto standby = parse_master_json(
      R"({"url":"spark://127.0.0.3:7077","workers":[],"aliveworkers":0,"cores":0,)"
      R"("coresused":0,"memory":0,"memoryused":0,"resources":[],"resourcesused":[],)"
      R"("activeapps":[],"completedapps":[],"activedrivers":[],"completeddrivers":[],)"
      R"("status":"STANDBY"})");
  EXPECT_EQ(standby, json::parse(R"({"url":"spark://127.0.0.3:7077","status":"STANDBY",)"
                                 R"("workers":[],"active_apps":[]})"));

  // A proxy's page, or a worker's /json/ asked by mistake (it has no status).
  for (const char* body : {"<html><body>502 Bad Gateway</body></html>",
                           R"({"id":"worker-1","masterurl":"spark://127.0.0.2:7077"})"}) {
    const auto bad = parse_master_json(body);
    EXPECT_EQ(bad["status"], "UNKNOWN") << body;
    EXPECT_EQ(bad["workers"], json::array());
    EXPECT_EQ(bad["active_apps"], json::array());
    ASSERT_TRUE(bad.contains("error"));
    EXPECT_NE(bad["error"].get<std::string>().find("not a Spark master"), std::string::npos);
  }
  // A worker entry that lacks a member shows it as unknown, not as zero.
  const auto partial = parse_master_json(
      R"({"status":"ALIVE","workers":[{"id":"w","host":"h","state":"ALIVE","cores":"2"}]})");
  EXPECT_EQ(partial["url"], nullptr);
  EXPECT_EQ(partial["workers"][0]["cores"], nullptr);
  EXPECT_EQ(partial["workers"][0]["port"], nullptr);
  EXPECT_EQ(partial["workers"][0]["id"], "w");
}

TEST(SparkDriver, ApplicationsAreIdAndName) {
  // GET /api/v1/applications on the job's driver UI (Spark 3.5 ApplicationInfo).
  const auto apps = parse_applications(R"([{
    "id": "app-20250301101602-0000", "name": "streamflow-stream",
    "attempts": [{"startTime": "2025-03-01T10:16:01.734GMT", "endTime": "1969-12-31T23:59:59.999GMT",
      "lastUpdated": "2025-03-01T10:16:01.734GMT", "duration": 0, "sparkUser": "streamflow",
      "completed": false, "appSparkVersion": "3.5.7", "startTimeEpoch": 1740824161734,
      "endTimeEpoch": -1, "lastUpdatedEpoch": 1740824161734}]}])");
  EXPECT_EQ(apps, json::parse(R"([{"id":"app-20250301101602-0000","name":"streamflow-stream"}])"));
  EXPECT_EQ(parse_applications("Not Found"), json::array());
  EXPECT_EQ(parse_applications(R"({"id":"x"})"), json::array());
}

TEST(SparkDriver, ExecutorsTheDriverAndOne) {
  // GET /api/v1/applications/<id>/executors (Spark 3.5 ExecutorSummary), trimmed of nothing.
  const auto ex = parse_executors(R"([
    {"id": "driver", "hostPort": "127.0.0.1:41235", "isActive": true, "rddBlocks": 0,
     "memoryUsed": 1234567, "diskUsed": 0, "totalCores": 0, "maxTasks": 0, "activeTasks": 0,
     "failedTasks": 0, "completedTasks": 0, "totalTasks": 0, "totalDuration": 0,
     "totalGCTime": 0, "totalInputBytes": 0, "totalShuffleRead": 0, "totalShuffleWrite": 0,
     "isBlacklisted": false, "maxMemory": 455501414, "addTime": "2025-03-01T10:16:02.511GMT",
     "executorLogs": {}, "memoryMetrics": {"usedOnHeapStorageMemory": 1234567,
       "usedOffHeapStorageMemory": 0, "totalOnHeapStorageMemory": 455501414,
       "totalOffHeapStorageMemory": 0},
     "blacklistedInStages": [], "attributes": {}, "resources": {}, "resourceProfileId": 0,
     "isExcluded": false, "excludedInStages": []},
    {"id": "0", "hostPort": "127.0.0.3:40111", "isActive": true, "rddBlocks": 4,
     "memoryUsed": 52428800, "diskUsed": 0, "totalCores": 2, "maxTasks": 2, "activeTasks": 1,
     "failedTasks": 3, "completedTasks": 18234, "totalTasks": 18238, "totalDuration": 9123456,
     "totalGCTime": 81234, "totalInputBytes": 0, "totalShuffleRead": 7340032,
     "totalShuffleWrite": 7340032, "isBlacklisted": false, "maxMemory": 434031820,
     "addTime": "2025-03-01T10:16:04.102GMT",
     "executorLogs": {"stdout": "http://127.0.0.3:8081/logPage/?appId=app-20250301101602-0000&executorId=0&logType=stdout",
       "stderr": "http://127.0.0.3:8081/logPage/?appId=app-20250301101602-0000&executorId=0&logType=stderr"},
     "memoryMetrics": {"usedOnHeapStorageMemory": 52428800, "usedOffHeapStorageMemory": 0,
       "totalOnHeapStorageMemory": 434031820, "totalOffHeapStorageMemory": 0},
     "blacklistedInStages": [], "attributes": {}, "resources": {}, "resourceProfileId": 0,
     "isExcluded": false, "excludedInStages": []}
  ])");
  EXPECT_EQ(ex, json::parse(R"([
    {"id": "driver", "host_port": "127.0.0.1:41235", "active": true, "active_tasks": 0,
     "completed_tasks": 0, "failed_tasks": 0, "memory_used": 1234567, "max_memory": 455501414,
     "total_cores": 0},
    {"id": "0", "host_port": "127.0.0.3:40111", "active": true, "active_tasks": 1,
     "completed_tasks": 18234, "failed_tasks": 3, "memory_used": 52428800,
     "max_memory": 434031820, "total_cores": 2}
  ])"))
      << ex.dump(2);
  EXPECT_EQ(parse_executors(""), json::array());
  EXPECT_EQ(parse_executors(R"([{"id":"1","isActive":"yes"}, 7])")[0]["active"], nullptr);
  EXPECT_EQ(parse_executors(R"([{"id":"1"}, 7])").size(), 1U);
}

/// The job's progress file as job.py's `report` writes it: per query its last progress and its
/// recent micro-batches (the analytics query from a job before `recent`).
constexpr const char* kProgress = R"({
 "updated_at": 1740827762.41, "started_at": 1740824160.02,
 "queries": {
  "users": {
   "active": true, "batch_id": 7012, "input_rows": 1200, "input_rows_per_s": 2398.4,
   "processed_rows_per_s": 2710.6, "batch_ms": 443,
   "durations_ms": {"addBatch": 401, "triggerExecution": 443},
   "watermark": null, "end_offsets": [{"streamflow.staging.users": {"0": 83120, "1": 83007}}],
   "state": [], "totals": {"upserts": 165000, "deletes": 12, "dead_letters": 3},
   "recent": [
    {"batch_id": 7011, "timestamp": "2025-03-01T11:16:01.500Z", "batch_ms": 470,
     "input_rows": 1100, "input_rows_per_s": 2201.2, "processed_rows_per_s": 2340.4},
    {"batch_id": 7012, "timestamp": "2025-03-01T11:16:02.000Z", "batch_ms": 443,
     "input_rows": 1200, "input_rows_per_s": 2398.4, "processed_rows_per_s": 2710.6}
   ]
  },
  "analytics": {
   "active": false, "batch_id": null, "input_rows": null, "input_rows_per_s": null,
   "processed_rows_per_s": null, "batch_ms": null, "durations_ms": null, "watermark": null,
   "end_offsets": [], "state": [], "totals": {}
  }
 }
})";

TEST(SparkQueries, EachQueryWithItsRecentBatchesByName) {
  const auto q = parse_queries(json::parse(kProgress));
  EXPECT_EQ(q, json::parse(R"([
    {"name": "analytics", "active": false, "batch_id": null, "input_rows_per_s": null,
     "processed_rows_per_s": null, "batch_ms": null, "batches": []},
    {"name": "users", "active": true, "batch_id": 7012, "input_rows_per_s": 2398.4,
     "processed_rows_per_s": 2710.6, "batch_ms": 443, "batches": [
       {"batch_id": 7011, "timestamp": "2025-03-01T11:16:01.500Z", "batch_ms": 470,
        "input_rows": 1100, "input_rows_per_s": 2201.2, "processed_rows_per_s": 2340.4},
       {"batch_id": 7012, "timestamp": "2025-03-01T11:16:02.000Z", "batch_ms": 443,
        "input_rows": 1200, "input_rows_per_s": 2398.4, "processed_rows_per_s": 2710.6}]}
  ])"))
      << q.dump(2);
}

TEST(SparkQueries, WhatIsNoProgressFileHasNoQueries) {
  EXPECT_EQ(parse_queries(json::parse("{not json", nullptr, false)), json::array());
  EXPECT_EQ(parse_queries(json::parse(R"({"queries":[]})")), json::array());
  EXPECT_EQ(parse_queries(json::parse(R"({"updated_at":1})")), json::array());
  EXPECT_EQ(parse_queries(json::parse(R"({"queries":{"users":3}})")), json::array());
}

}  // namespace
}  // namespace streamflow::control
