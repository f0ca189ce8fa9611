#include "config/catalog.h"

namespace streamflow::config {

const std::vector<SettingSpec>& catalog() {
  static const std::vector<SettingSpec> specs = {
      // Where things live.
      {"state_dir", Kind::path, ".streamflow",
       "all service data, logs, generated configs and secrets of the local stack"},
      {"deps_dir", Kind::path, ".deps",
       "JVM artifacts resolved by deps/setup.sh (Kafka, Connect, Debezium, Cassandra)"},
      {"service_user", Kind::string, "streamflow",
       "unprivileged account the services run as when streamflow runs as root"},
      {"topology", Kind::path, "",
       "topology file saying which nodes of which engine run where (empty: one of each on "
       "127.0.0.1; deploy/cluster-local.yaml: the cluster layout on this machine)"},
      {"java_home", Kind::path, "/usr/lib/jvm/java-17-openjdk-amd64",
       "Java 17 installation used for Kafka, Connect and Cassandra"},
      {"java_options", Kind::string, "",
       "options of every JVM the stack's supervisord starts (as JAVA_TOOL_OPTIONS; not the "
       "one-shot tools `up` runs), e.g. "
       "-XX:TieredStopAtLevel=1: no C2 compiler, which the test suite's stacks use (their JVMs "
       "live minutes, and on 2 cores C2's compiling costs them more than it gives back); no "
       "quotes"},
      // PostgreSQL.
      {"postgres.port", Kind::integer, "5432", "PostgreSQL port on 127.0.0.1", false, 1, 65535},
      {"postgres.bin_dir", Kind::path, "/usr/lib/postgresql/15/bin",
       "PostgreSQL 15 server binaries"},
      {"postgres.database", Kind::string, "streamflow", "database holding the staging tables"},
      {"postgres.user", Kind::string, "streamflow",
       "login role of the pipeline (owner of the database)"},
      {"postgres.password", Kind::string, "",
       "password of postgres.user; generated into <state_dir>/secrets/ when unset", true},
      // Kafka (KRaft, combined broker and controller).
      {"kafka.port", Kind::integer, "9092",
       "Kafka broker port on each Kafka node's address (127.0.0.1 in the single layout)", false, 1,
       65535},
      {"kafka.controller_port", Kind::integer, "9093",
       "KRaft controller port on each Kafka node's address", false, 1, 65535},
      {"kafka.heap_mb", Kind::integer, "1024", "Kafka broker JVM max heap", false, 128, 16384},
      {"kafka.partitions", Kind::integer, "3",
       "partitions of the CDC and dead-letter topics `up` creates (the Spark job reads them in "
       "parallel)",
       false, 1, 1000},
      // ZooKeeper (cluster layout only: the Spark masters' leader election and recovery).
      {"zookeeper.port", Kind::integer, "2181", "ZooKeeper client port on each node's address",
       false, 1, 65535},
      {"zookeeper.quorum_port", Kind::integer, "2888",
       "ZooKeeper followers' port to the leader, on each node's address", false, 1, 65535},
      {"zookeeper.election_port", Kind::integer, "3888",
       "ZooKeeper leader-election port on each node's address", false, 1, 65535},
      // Kafka Connect (distributed mode) with Debezium.
      {"connect.port", Kind::integer, "8083", "Kafka Connect REST port on each worker's address",
       false, 1, 65535},
      {"connect.heap_mb", Kind::integer, "512", "Kafka Connect JVM max heap", false, 128, 16384},
      // The schema registry (Apicurio Registry, Confluent-compatible API), storage in PostgreSQL.
      {"registry.enabled", Kind::boolean, "true",
       "start the schema registry with the stack (its schemas are kept in PostgreSQL)"},
      {"registry.port", Kind::integer, "8081",
       "schema registry REST port on 127.0.0.1 (Confluent-compatible API under /apis/ccompat/v7)",
       false, 1, 65535},
      {"registry.management_port", Kind::integer, "9001",
       "schema registry health and metrics port on 127.0.0.1", false, 1, 65535},
      {"registry.java_home", Kind::path, "",
       "Java 21 or newer for the registry; empty: the first of /usr/lib/jvm/temurin-25-jdk-amd64, "
       "/usr/lib/jvm/java-21-openjdk-amd64 and the JDK `make setup` installs into "
       "<deps_dir>/jdk when neither is there"},
      {"registry.heap_mb", Kind::integer, "256", "schema registry JVM max heap", false, 64, 16384},
      {"registry.database", Kind::string, "streamflow_registry",
       "PostgreSQL database (and role) holding the registry's schemas"},
      {"registry.password", Kind::string, "",
       "password of the registry's PostgreSQL role; generated into <state_dir>/secrets/ when unset",
       true},
      {"registry.schema_recheck_s", Kind::integer, "30",
       "how often Kafka Connect's Avro converter asks the registry again about each schema it "
       "has cached; a registry that does not answer then leaves the cached id in use",
       false, 1, 86400},
      {"registry.compatibility", Kind::string, "BACKWARD_TRANSITIVE",
       "compatibility every subject is held to (BACKWARD, BACKWARD_TRANSITIVE, FULL, "
       "FULL_TRANSITIVE): a new schema version must read what every older one wrote"},
      // Cassandra.
      {"cassandra.port", Kind::integer, "9042",
       "Cassandra CQL (native) port on each node's address", false, 1, 65535},
      {"cassandra.storage_port", Kind::integer, "7000",
       "Cassandra internode port on each node's address", false, 1, 65535},
      {"cassandra.jmx_port", Kind::integer, "7199",
       "Cassandra JMX port on 127.0.0.1 (for nodetool); node n of a ring uses this + n - 1", false,
       1, 65535},
      {"cassandra.heap_mb", Kind::integer, "2048", "Cassandra JVM max heap", false, 512, 16384},
      {"cassandra.keyspace", Kind::string, "streamflow",
       "keyspace of the serving tables and of the CQL migrations' schema_migrations"},
      {"cassandra.replication", Kind::string,
       "{'class': 'SimpleStrategy', 'replication_factor': 1}",
       "CQL replication map used when the keyspace is created (an existing keyspace keeps its "
       "own)"},
      {"cassandra.migrations_dir", Kind::path, "pipeline/cql",
       "versioned CQL migrations of the keyspace, applied by `up` and `migrate`"},
      {"postgres.migrations_dir", Kind::path, "pipeline/sql/postgres",
       "versioned SQL migrations of the staging schema, applied by `up` and `migrate`"},
      // The local mock of the randomuser.me API.
      {"mock_api.enabled", Kind::boolean, "true",
       "start the local mock randomuser API with the stack"},
      {"mock_api.port", Kind::integer, "8787", "mock API port on 127.0.0.1", false, 1, 65535},
      {"mock_api.threads", Kind::integer, "16",
       "most mock API worker threads at once; each open (keep-alive) connection holds one, so "
       "keep it above ingest.concurrency plus a few for health probes",
       false, 1, 256},
      // Ingestion.
      {"ingest.url", Kind::string, "",
       "API to ingest from; empty means the local mock (http://127.0.0.1:<mock_api.port>/api/). "
       "The real one: https://randomuser.me/api/"},
      {"ingest.batch_size", Kind::integer, "5000",
       "records per request (the API serves at most 5000)", false, 1, 5000},
      {"ingest.concurrency", Kind::integer, "4",
       "requests in flight (each with its own database connection)", false, 1, 64},
      {"ingest.max_retries", Kind::integer, "6",
       "retries of one request before its batch is recorded as failed", false, 0, 100},
      {"ingest.timeout_s", Kind::integer, "30", "connect and read timeout of one request", false, 1,
       600},
      {"ingest.nat", Kind::string, "", "nationalities to ask for, comma-separated (empty: all)"},
      {"ingest.requests_per_s", Kind::number, "0.0125",
       "most requests per second to one API host other than loopback, counted across every "
       "ingest of this stack (the clock is kept in PostgreSQL), retries included. The default, "
       "one request every 80 s, keeps 5,000-user requests within the 20,000 users per client "
       "per 5 minutes that randomuser.me serves; 0: no limit",
       false, 0, 1000000},
      {"ingest.local_requests_per_s", Kind::number, "0",
       "the same limit for an API on a loopback address (the local mock API); 0: no limit", false,
       0, 1000000},
      {"ingest.id_hash_key", Kind::string, "",
       "key of the HMAC that replaces national ids; generated into <state_dir>/secrets/ when unset",
       true},
      // Change data capture (Debezium on Kafka Connect).
      {"cdc.enabled", Kind::boolean, "true", "register the Debezium connector on `up`"},
      {"cdc.connector", Kind::string, "streamflow-staging",
       "Kafka Connect name of the Debezium connector"},
      {"cdc.topic_prefix", Kind::string, "streamflow",
       "Debezium topic prefix: changes of staging.users go to <prefix>.staging.users"},
      {"cdc.slot", Kind::string, "streamflow_cdc",
       "PostgreSQL replication slot (and publication) of the connector"},
      {"cdc.format", Kind::string, "avro",
       "change events on the CDC topic: avro (Confluent wire format, schemas in the registry) or "
       "json (schemaless)"},
      {"cdc.heartbeat_ms", Kind::integer, "10000",
       "Debezium heartbeat: keeps the slot advancing when tables are idle", false, 1000, 3600000},
      {"cdc.watchdog", Kind::boolean, "true",
       "serve's control room restarts the connector's parts FAILED for 30 s, and a task that "
       "says RUNNING but has captured nothing for cdc.stall_timeout_s while staging.users "
       "changed (a call that never returns), with back-off (30 s doubling to 10 minutes); each "
       "restart goes to the audit log. false: the cdc_stalled alert only"},
      {"cdc.stall_timeout_s", Kind::integer, "60",
       "seconds changes may wait with capture not moving (neither the slot nor the CDC topic) "
       "before the cdc_stalled alert fires and the watchdog restarts the task",
       false, 10, 86400},
      // The Spark Structured Streaming job (pipeline/spark).
      {"spark.enabled", Kind::boolean, "true",
       "start the streaming job (CDC topic -> Cassandra) with the stack"},
      {"spark.master", Kind::string, "local[*]",
       "Spark master URL: local[*] runs in-process; spark://host:7077 uses a cluster"},
      {"spark.python", Kind::path, ".venv/bin/python",
       "Python with pyspark (the venv deps/setup.sh creates)"},
      {"spark.job_dir", Kind::path, "pipeline/spark", "directory of the streamflow_stream package"},
      {"spark.driver_memory", Kind::string, "1536m",
       "Spark driver JVM heap (in local mode the whole job runs in it)"},
      {"spark.ui_port", Kind::integer, "4040", "Spark UI port on 127.0.0.1 (0: no UI)", false, 0,
       65535},
      {"spark.master_port", Kind::integer, "7077",
       "Spark standalone master port on each master's address (cluster layout)", false, 1, 65535},
      {"spark.master_ui_port", Kind::integer, "8180",
       "Spark standalone master web UI port on each master's address (cluster layout)", false, 1,
       65535},
      {"spark.worker_port", Kind::integer, "7078",
       "Spark standalone worker port on each worker's address (cluster layout)", false, 1, 65535},
      {"spark.worker_ui_port", Kind::integer, "8181",
       "Spark standalone worker web UI port on each worker's address (cluster layout)", false, 1,
       65535},
      {"spark.dlq_topic", Kind::string, "streamflow.dlq",
       "dead-letter topic: invalid change events, with the reason and where they came from"},
      {"spark.trigger", Kind::string, "500 milliseconds",
       "micro-batch interval of the users query (sets the end-to-end freshness)"},
      {"spark.analytics_trigger", Kind::string, "5 seconds",
       "micro-batch interval of the analytics query (per-minute counts; each batch scans its "
       "state)"},
      {"spark.watermark", Kind::string, "10 minutes",
       "how late (by commit time) a change may arrive and still be counted in the analytics"},
      {"spark.max_offsets_per_trigger", Kind::integer, "50000",
       "largest micro-batch in Kafka records (bounds catch-up batches)", false, 1000, 100000000},
      {"spark.shuffle_partitions", Kind::integer, "2",
       "spark.sql.shuffle.partitions; fixed in the checkpoint once the job has run", false, 1,
       10000},
      {"spark.write_batch_rows", Kind::integer, "40",
       "rows per unlogged Cassandra batch of the users table (1: one row per statement)", false, 1,
       1000},
      {"spark.write_concurrency", Kind::integer, "16",
       "Cassandra write requests in flight per Spark task", false, 1, 1024},
      {"spark.stall_timeout_s", Kind::integer, "180",
       "seconds a query may spend in one micro-batch before the job exits for supervisord to "
       "start it again (its checkpoint replays the batch): a Cassandra driver call that never "
       "returns",
       false, 10, 86400},
      // Airflow 3 (orchestration): four components started by `up`, DAGs in airflow.dags_dir.
      {"airflow.enabled", Kind::boolean, "true",
       "start Airflow (api-server, scheduler, dag-processor, triggerer) with the stack"},
      {"airflow.port", Kind::integer, "8080", "Airflow api-server (UI and REST) port on 127.0.0.1",
       false, 1, 65535},
      {"airflow.venv", Kind::path, ".venv-airflow",
       "venv with apache-airflow (the one deps/setup.sh creates)"},
      {"airflow.dags_dir", Kind::path, "pipeline/airflow/dags", "folder of the DAG files"},
      {"airflow.database", Kind::string, "airflow",
       "PostgreSQL database (and role) of Airflow's metadata"},
      {"airflow.parallelism", Kind::integer, "4",
       "task processes the LocalExecutor runs at once (each is a ~150 MB Python)", false, 1, 64},
      {"airflow.admin_user", Kind::string, "admin",
       "UI login; its password is generated into <state_dir>/airflow/ on first start"},
      {"airflow.ingest_retry_delay_s", Kind::integer, "5",
       "seconds before Airflow's first retry of a failed ingest task; each further retry waits "
       "twice as long (at most 2 minutes), three retries in all",
       false, 1, 120},
      // `streamflow serve`: REST API, dashboard, health, metrics.
      {"serve.enabled", Kind::boolean, "true", "start `streamflow serve` with the stack"},
      {"serve.host", Kind::string, "127.0.0.1",
       "address to listen on; anything but loopback requires serve.token"},
      {"serve.port", Kind::integer, "8090", "port of the API and dashboard", false, 1, 65535},
      {"serve.threads", Kind::integer, "1024",
       "most HTTP worker threads at once: each open connection holds one while it is kept "
       "alive, and each live-update stream for as long as it is open. They start as "
       "connections come and end after 30 s with nothing to do; connections beyond this wait",
       false, 2, 8192},
      {"serve.nice", Kind::integer, "-10",
       "scheduling priority (nice) serve gives its threads at start: ahead of the pipeline's "
       "engines, so the API answers while they are busy. Below the inherited value it needs "
       "root or CAP_SYS_NICE; without, serve keeps the inherited one and says so",
       false, -20, 19},
      {"serve.realtime", Kind::boolean, "true",
       "serve's threads run under the real-time round-robin policy (SCHED_RR, priority 1), "
       "ahead of the engines: under load a normal thread, even at serve.nice, can wait 100 ms "
       "and more for a core. `up` run as root starts serve so; otherwise it needs "
       "CAP_SYS_NICE or an RLIMIT_RTPRIO of at least 1, and without serve keeps serve.nice and "
       "says so. false: serve.nice only"},
      {"serve.web_dir", Kind::path, "web/dist", "the built dashboard (`make build` builds it)"},
      {"serve.refresh_ms", Kind::integer, "1000",
       "how often pipeline health is sampled and pushed to the browser; also how long the "
       "aggregate reads (signups, users per country) are cached",
       false, 200, 60000},
      {"serve.token", Kind::string, "",
       "access token the API asks for (Authorization: Bearer); required off loopback", true},
      // The control room (serve's second page) and its alerts.
      {"control.sample_ms", Kind::integer, "2000",
       "how often serve looks at Kafka (brokers, partitions, consumer lag) and evaluates the "
       "alerts; lag over time keeps 180 looks",
       false, 500, 60000},
      {"control.message_limit", Kind::integer, "100",
       "most messages the message browser reads from a partition at once", false, 1, 500},
      {"alerts.consumer_lag_messages", Kind::integer, "50000",
       "alert when a consumer (the Spark job's queries, any consumer group) is this many "
       "messages behind the end of its topic",
       false, 1, 1LL << 40},
      {"alerts.under_replicated_partitions", Kind::integer, "0",
       "alert when more partitions than this have fewer in-sync replicas than replicas", false, 0,
       100000},
      {"alerts.slot_retained_wal_bytes", Kind::integer, "1073741824",
       "alert when the CDC replication slot holds back more WAL than this", false, 1 << 20,
       1LL << 50},
      {"alerts.dead_letters_growth", Kind::integer, "0",
       "alert when the dead-letter topic grew by more than this many messages within "
       "alerts.window_s",
       false, 0, 1LL << 40},
      {"alerts.window_s", Kind::integer, "300",
       "the window alerts.dead_letters_growth is counted over", false, 10, 86400},
      {"alerts.freshness_s", Kind::integer, "60",
       "alert when the newest change took longer than this from PostgreSQL to Cassandra", false, 1,
       86400},
      {"alerts.reconcile_max_age_s", Kind::integer, "7200",
       "alert when the last successful reconcile is older than this (the reconcile DAG runs "
       "hourly); a failed reconcile alerts at once",
       false, 60, 86400 * 30},
      // Reconciliation and housekeeping (run by the Airflow DAGs, or by hand).
      {"reconcile.freshness_s", Kind::integer, "120",
       "a staging row still missing from Cassandra after this many seconds fails reconcile", false,
       1, 86400 * 30},
      {"housekeeping.staging_retention_h", Kind::integer, "168",
       "staging rows older than this (and confirmed in Cassandra) are purged", false, 0, 24 * 3650},
      {"housekeeping.reject_retention_days", Kind::integer, "30",
       "rejected records (staging.user_rejects) older than this many days are deleted", false, 0,
       3650},
      {"housekeeping.log_retention_h", Kind::integer, "336",
       "rotated service logs, Airflow task logs and old Spark checkpoint files older than "
       "this are deleted",
       false, 0, 24 * 3650},
      // Stack behaviour.
      {"stack.start_timeout_s", Kind::integer, "180",
       "how long `up` waits for each service to become healthy", false, 5, 3600},
      {"stack.stop_timeout_s", Kind::integer, "60",
       "how long `down` waits after SIGTERM before SIGKILL (Connect: at most 15 s)", false, 1,
       3600},
  };
  return specs;
}

base::Result<Settings> load_settings(const std::optional<std::filesystem::path>& config_file,
                                     const std::vector<std::string>& overrides) {
  Sources sources;
  sources.env = process_env();
  sources.overrides = overrides;
  if (config_file) {
    sources.file = *config_file;
  } else if (auto it = sources.env.find("STREAMFLOW_CONFIG");
             it != sources.env.end() && !it->second.empty()) {
    sources.file = it->second;
  } else if (std::filesystem::exists(sources.working_dir / "streamflow.yaml")) {
    sources.file = sources.working_dir / "streamflow.yaml";
  }
  if (sources.file && !std::filesystem::exists(*sources.file)) {
    return base::make_error(base::Errc::not_found,
                            "config file " + sources.file->string() + " does not exist");
  }
  return Settings::load(catalog(), sources);
}

}  // namespace streamflow::config
