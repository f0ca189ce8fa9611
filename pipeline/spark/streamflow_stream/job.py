"""StreamFlow's streaming job: the Debezium CDC topic -> Cassandra users, analytics and a
dead-letter topic. `streamflow up` starts and supervises it with arguments from the config file
(`spark.*` settings); run `python -m streamflow_stream.job --help` for them.

Two streaming queries read the same topic, each with its checkpoint under --checkpoint-dir:
`users` (idempotent upserts and deletes, dead letters) and `analytics` (a stateful aggregation
with an event-time watermark). Progress goes to stdout, one line per query every
--progress-interval seconds, and to <checkpoint-dir>/../progress.json for `streamflow status`.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, Protocol

from pyspark import SparkContext
from pyspark.sql import SparkSession
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.sql.streaming.readwriter import DataStreamWriter

from . import sinks
from .registry import Registry, WriterSchemas, unknown_schema_id, wait_for_registry
from .transforms import ANALYTICS_ENVELOPE, DEAD_LETTER_SCHEMA, analytics_groups, parse_events


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="streamflow_stream.job",
        description="CDC topic -> validated, transformed users and windowed analytics in Cassandra.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--master", default="local[*]", help="Spark master URL (spark://host:7077 for a cluster)")
    p.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    p.add_argument("--topic", default="streamflow.staging.users", help="the Debezium CDC topic")
    p.add_argument("--dlq-topic", default="streamflow.dlq", help="dead-letter topic for invalid events")
    p.add_argument(
        "--format",
        choices=("avro", "json"),
        default="avro",
        help="change events on the topic: Avro in the Confluent wire format (schemas in the "
        "registry; dead letters in Avro too) or schemaless JSON",
    )
    p.add_argument(
        "--registry-url",
        default="http://127.0.0.1:8081/apis/ccompat/v7",
        help="the schema registry's Confluent-compatible API (--format avro)",
    )
    p.add_argument("--cassandra-host", default="127.0.0.1", help="Cassandra address(es), comma-separated")
    p.add_argument("--cassandra-port", type=int, default=9042)
    p.add_argument("--keyspace", default="streamflow")
    p.add_argument("--checkpoint-dir", required=True, help="where the queries keep their checkpoints")
    p.add_argument("--jars-dir", required=True, help="directory of the connector jars (spark.jars)")
    p.add_argument(
        "--shuffle-partitions",
        type=int,
        default=2,
        help="spark.sql.shuffle.partitions; fixed by the checkpoint once the job ran",
    )
    p.add_argument(
        "--max-offsets-per-trigger",
        type=int,
        default=50000,
        help="largest micro-batch, in Kafka records (bounds catch-up batches)",
    )
    p.add_argument(
        "--trigger",
        default="500 milliseconds",
        help="micro-batch interval of the users query (the end-to-end freshness)",
    )
    p.add_argument(
        "--analytics-trigger",
        default="5 seconds",
        help="micro-batch interval of the analytics query (its per-minute counts need "
        "no sub-second updates, and each of its batches scans its state)",
    )
    p.add_argument(
        "--watermark", default="10 minutes", help="how late (by commit time) a change may arrive and still be counted"
    )
    p.add_argument(
        "--write-batch-rows", type=int, default=40, help="rows per unlogged Cassandra batch of the users table"
    )
    p.add_argument(
        "--write-concurrency", type=int, default=16, help="Cassandra write requests in flight per Spark task"
    )
    p.add_argument("--driver-memory", default="1536m")
    p.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another Spark setting (repeatable), e.g. the executors' memory on a cluster",
    )
    p.add_argument("--ui-port", type=int, default=0, help="Spark UI port on 127.0.0.1 (0: no UI)")
    p.add_argument("--progress-interval", type=float, default=5.0)
    p.add_argument(
        "--starting-offsets", default="earliest", help="where a query without a checkpoint starts: earliest or latest"
    )
    p.add_argument(
        "--stop-timeout",
        type=float,
        default=30.0,
        help="seconds to stop the queries and Spark on exit; past that the job kills "
        "its JVM and exits, so that a supervisor can start it again",
    )
    p.add_argument(
        "--stall-timeout",
        type=float,
        default=180.0,
        help="seconds a query may spend in one micro-batch; past that the job exits (status 1) "
        "for its supervisor to start it again, and the checkpoint replays the batch",
    )
    return p.parse_args(argv)


# The Cassandra driver (in the connector) retries a request that timed out only if it is marked
# idempotent, and the connector marks its single statements so but not the unlogged batches it
# groups them in (their flag is unset, so the driver's default, false, applies). Every write of
# this job is idempotent: whole rows and absolute counts, each batch's users de-duplicated, a
# later batch only once this one is acknowledged. Without this, one write that Cassandra timed out
# under load (2 s, its write_request_timeout) failed the batch and the job exited.
IDEMPOTENT_WRITES = "-Ddatastax-java-driver.basic.request.default-idempotence=true"
ROCKSDB_STATE_STORE = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"

# Micro-batches per query that the progress file keeps (its "recent", the control room's batch
# chart). Also what Spark keeps (spark.sql.streaming.numRecentProgressUpdates, 100 by default):
# q.recentProgress converts every kept update through py4j on each call, so it keeps no more.
RECENT_BATCHES = 30

# The FAIR scheduler pools of the two queries (start_in_pool): the users query, whose batches
# are the end-to-end freshness, always has a core and twice the analytics query's share.
FAIR_POOLS = """<?xml version="1.0"?>
<allocations>
  <pool name="users"><schedulingMode>FIFO</schedulingMode><weight>2</weight><minShare>1</minShare></pool>
  <pool name="analytics"><schedulingMode>FIFO</schedulingMode><weight>1</weight><minShare>0</minShare></pool>
</allocations>
"""


# Names of JVM classes that PySpark looks up through py4j on every DataFrame operation, column
# function, cast and observation of a batch. py4j resolves a short name by trying each of the
# gateway's imports with Class.forName, and a package path one package at a time: every miss
# searches the whole classpath (hundreds of jars) and throws, and nothing is cached. At half the
# sustained rate that was a quarter of the users query's driver-side CPU. Each name is looked up
# once at start and kept on the view (pin_jvm_names).
PINNED_JVM_NAMES = (
    "functions",
    "PythonUtils",
    "PythonSQLUtils",
    "SparkSession",
    "SparkSession$",
    "py4j.reflection.TypeUtil",
    "org.apache.spark.sql.Observation",
    "org.apache.spark.sql.avro.functions",
    "org.apache.spark.util.Utils",
)


def pin_jvm_names(jvm: Any, paths: Iterable[str]) -> None:
    """Keeps each dotted `path` below the py4j JVM view `jvm` (its packages and its class) as
    plain attributes, so that later lookups of it are Python attribute reads, not round trips
    to the JVM. py4j's views and packages resolve a name only when it is not an attribute."""
    for path in paths:
        node = jvm
        for part in path.split("."):
            child = vars(node).get(part)
            if child is None:
                child = getattr(node, part)
                setattr(node, part, child)
            node = child


def build_session(a: argparse.Namespace) -> SparkSession:
    jars = sorted(str(p) for p in Path(a.jars_dir).glob("*.jar"))
    if not jars:
        sys.exit(f"no connector jars in {a.jars_dir}: run `make setup` (deps/setup.sh)")
    local_dir = Path(a.checkpoint_dir).parent / "tmp"
    local_dir.mkdir(parents=True, exist_ok=True)
    pools = Path(a.checkpoint_dir).parent / "fairscheduler.xml"
    pools.write_text(FAIR_POOLS)
    b = (
        SparkSession.builder.appName("streamflow-stream")
        .master(a.master)
        .config("spark.jars", ",".join(jars))
        .config("spark.driver.memory", a.driver_memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.local.dir", str(local_dir))
        .config("spark.port.maxRetries", "0")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(a.shuffle_partitions))
        # Each query schedules its jobs in a pool of its own, so that the users query's tasks
        # (the freshness path) never wait behind a whole analytics batch.
        .config("spark.scheduler.mode", "FAIR")
        .config("spark.scheduler.allocation.file", str(pools))
        # Micro-batches are cached for a second or two: compressing them costs more CPU than
        # the memory it saves.
        .config("spark.sql.inMemoryColumnarStorage.compressed", "false")
        .config("spark.sql.streaming.stopGracefullyOnShutdown", "true")
        # The progress file's recent batches are the last RECENT_BATCHES: Spark need keep no more.
        .config("spark.sql.streaming.numRecentProgressUpdates", str(RECENT_BATCHES))
        # The analytics query's state (its groups, per minute within the watermark) lives in
        # RocksDB, off the JVM heap.
        .config("spark.sql.streaming.stateStore.providerClass", ROCKSDB_STATE_STORE)
        # Each batch commits its state changes as a changelog instead of a new RocksDB
        # checkpoint (flush, hard links, files copied); snapshots are taken in the background.
        # An existing checkpoint is read either way.
        .config("spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled", "true")
        .config("spark.cassandra.connection.host", a.cassandra_host)
        .config("spark.cassandra.connection.port", str(a.cassandra_port))
        .config("spark.cassandra.output.consistency.level", "LOCAL_QUORUM")
        .config("spark.cassandra.input.consistency.level", "LOCAL_QUORUM")
        .config("spark.cassandra.output.concurrent.writes", str(a.write_concurrency))
        # The driver and, on a cluster, the executors (which write the users).
        .config("spark.driver.extraJavaOptions", IDEMPOTENT_WRITES)
        .config("spark.executor.extraJavaOptions", IDEMPOTENT_WRITES)
    )
    for setting in a.conf:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            sys.exit(f"--conf {setting!r}: expected KEY=VALUE")
        b = b.config(key, value)
    if a.ui_port:
        b = b.config("spark.ui.enabled", "true").config("spark.ui.port", str(a.ui_port))
    else:
        b = b.config("spark.ui.enabled", "false")
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    pin_jvm_names(spark.sparkContext._jvm, PINNED_JVM_NAMES)
    return spark


def start_in_pool(sc: SparkContext, pool: str, writer: DataStreamWriter) -> StreamingQuery:
    """Starts a query whose jobs go to the FAIR scheduler pool `pool`: the query's thread
    inherits the local properties of the thread that starts it."""
    sc.setLocalProperty("spark.scheduler.pool", pool)
    try:
        return writer.start()
    finally:
        sc.setLocalProperty("spark.scheduler.pool", None)  # type: ignore[arg-type]


class Queries:
    """The job's two streaming queries, each with its sink's counters. With Avro, the analytics
    query's plan holds the writer schemas it knew when it started: when it stops on a schema id
    it does not know, the registry is asked for the id and the query started again from its
    checkpoint (the users query re-plans each batch by itself)."""

    def __init__(
        self, spark: SparkSession, a: argparse.Namespace, schemas: WriterSchemas | None, dlq_schema_id: int | None
    ):
        self.spark = spark
        self.a = a
        self.schemas = schemas
        self.raw = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", a.bootstrap)
            .option("subscribe", a.topic)
            .option("startingOffsets", a.starting_offsets)
            .option("maxOffsetsPerTrigger", str(a.max_offsets_per_trigger))
            # Kafka Connect writes each batch of changes in a transaction with its offsets: a
            # task that died mid-batch is aborted, and resends nothing it committed. Read only
            # what was committed, and every change arrives once.
            .option("kafka.isolation.level", "read_committed")
            # A topic trimmed by retention must not stop the pipeline; the gap is logged by Spark.
            .option("failOnDataLoss", "false")
            .load()
        )
        self.ckpt = Path(a.checkpoint_dir)
        users_sink = sinks.UsersSink(
            spark, a.keyspace, a.bootstrap, a.dlq_topic, a.write_batch_rows, schemas, dlq_schema_id
        )
        users = start_in_pool(
            spark.sparkContext,
            "users",
            self.raw.writeStream.queryName("users")
            .foreachBatch(users_sink)
            .option("checkpointLocation", str(self.ckpt / "users"))
            .trigger(processingTime=a.trigger),
        )
        self.analytics_sink = sinks.AnalyticsSink(spark, a.keyspace)
        self.all: list[tuple[StreamingQuery, sinks.Counters]] = [
            (users, users_sink.counters),
            (self._start_analytics(), self.analytics_sink.counters),
        ]

    def _start_analytics(self) -> StreamingQuery:
        avro = self.schemas.writers() if self.schemas is not None else None
        groups = analytics_groups(parse_events(self.raw, ANALYTICS_ENVELOPE, avro), self.a.watermark)
        return start_in_pool(
            self.spark.sparkContext,
            "analytics",
            groups.writeStream.queryName("analytics")
            .outputMode("update")
            .foreachBatch(self.analytics_sink)
            # "-v3": one stateful operator again, as in the first version; "-v2" de-duplicated
            # the changes before it aggregated, and its state cannot be resumed by this plan.
            .option("checkpointLocation", str(self.ckpt / "analytics-v3"))
            .trigger(processingTime=self.a.analytics_trigger),
        )

    def recover(self, q: StreamingQuery) -> bool:
        """Starts the analytics query again if it stopped on a schema id it did not know."""
        schema_id = unknown_schema_id(str(q.exception())) if self.schemas is not None else None
        if q.name != "analytics" or self.schemas is None or schema_id is None:
            return False
        known = self.schemas.resolve(schema_id)
        print(
            f"query analytics: schema id {schema_id} is "
            + (
                "a new version of the schema; starting the query again with it"
                if known
                else "not in the registry; starting the query again, its messages are dead letters"
            ),
            flush=True,
        )
        self.all[1] = (self._start_analytics(), self.analytics_sink.counters)
        return True


def avro_schemas(a: argparse.Namespace, stop: threading.Event) -> tuple[WriterSchemas, int] | None:
    """The CDC topic's writer schemas known so far and the dead-letter schema's id, once the
    registry answers; None if the job was stopped first."""
    registry = Registry(a.registry_url)
    schemas = WriterSchemas(registry, f"{a.topic}-value")
    dlq_id: list[int] = []

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if not wait_for_registry(schemas.load_subject, f"the schemas of {a.topic}", stop, log):
        return None
    if not wait_for_registry(
        lambda: dlq_id.append(registry.register(f"{a.dlq_topic}-value", DEAD_LETTER_SCHEMA)),
        f"registering the schema of {a.dlq_topic}",
        stop,
        log,
    ):
        return None
    print(
        f"schema registry {a.registry_url}: {len(schemas.writers().by_id)} schema(s) of {a.topic}-value; "
        f"dead letters with schema id {dlq_id[0]}",
        flush=True,
    )
    return schemas, dlq_id[0]


def _write_json_atomically(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, path)


def batch_summary(p: dict[str, Any]) -> dict[str, Any]:
    """One micro-batch of a query's progress (a StreamingQueryProgress as a dict), as the
    progress file's "recent" lists it. Spark leaves out a rate it could not compute (NaN): None."""
    return {
        "batch_id": p.get("batchId"),
        "timestamp": p.get("timestamp"),
        "batch_ms": (p.get("durationMs") or {}).get("triggerExecution"),
        "input_rows": p.get("numInputRows"),
        "input_rows_per_s": p.get("inputRowsPerSecond"),
        "processed_rows_per_s": p.get("processedRowsPerSecond"),
    }


def progress_entry(
    p: dict[str, Any], recent: list[dict[str, Any]], active: bool, totals: dict[str, Any]
) -> dict[str, Any]:
    """A query's entry in the progress file: its last progress `p` ({} before its first batch),
    its last RECENT_BATCHES micro-batches from `recent` (q.recentProgress, oldest first), whether
    it runs, and its sink's counters. `streamflow status`, serve and bench read these keys."""
    return {
        "active": active,
        "batch_id": p.get("batchId"),
        "input_rows": p.get("numInputRows"),
        "input_rows_per_s": p.get("inputRowsPerSecond"),
        "processed_rows_per_s": p.get("processedRowsPerSecond"),
        "batch_ms": (p.get("durationMs") or {}).get("triggerExecution"),
        "durations_ms": p.get("durationMs"),
        "watermark": (p.get("eventTime") or {}).get("watermark"),
        "end_offsets": [s.get("endOffset") for s in p.get("sources", [])],
        # Per stateful operator: rows kept, and the batch's time spent updating, evicting
        # (a scan of the whole state) and committing it.
        "state": [
            {
                k: o.get(k)
                for k in ("operatorName", "numRowsTotal", "allUpdatesTimeMs", "allRemovalsTimeMs", "commitTimeMs")
            }
            for o in p.get("stateOperators", [])
        ],
        "totals": totals,
        "recent": [batch_summary(b) for b in recent[-RECENT_BATCHES:]],
    }


def report(queries: list[tuple[StreamingQuery, sinks.Counters]], progress_file: Path, started: float) -> None:
    doc: dict[str, Any] = {"updated_at": time.time(), "started_at": started, "queries": {}}
    for q, counters in queries:
        entry = progress_entry(q.lastProgress or {}, q.recentProgress, q.isActive, counters.snapshot())
        totals = entry["totals"]
        doc["queries"][q.name] = entry
        print(
            f"progress {q.name}: batch {entry['batch_id']} rows {entry['input_rows']} "
            f"({(entry['processed_rows_per_s'] or 0):.0f} rows/s processed, "
            f"{entry['batch_ms']} ms) totals {json.dumps(totals, separators=(',', ':'))}",
            flush=True,
        )
    _write_json_atomically(progress_file, doc)


class StallWatch:
    """Spots a query stuck inside one micro-batch. The Cassandra driver can hang a batch for
    good: a schema refresh that fails to start because its control connection is down (a
    Cassandra restart) is never cleared, and every later refresh waits behind it. The connector
    asks for one each time it plans a write, so the users query sat in one batch for 25 minutes
    with the rest of the pipeline running. A query that stays in the same batch past
    `timeout_s` is reported; the job then exits and its checkpoint replays the batch."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic):
        self.timeout_s, self.clock = timeout_s, clock
        # Per query: the last finished batch's id and when it was first seen busy after it.
        self.busy: dict[str, tuple[int | None, float]] = {}

    def stuck_for(self, name: str, in_batch: bool, last_batch_id: int | None) -> float | None:
        """Seconds `name` has been in its current micro-batch, if that is past the timeout.
        `in_batch`: its trigger is running (StreamingQuery.status isTriggerActive);
        `last_batch_id`: the batch its last progress reports (the one before the current)."""
        if not in_batch:
            self.busy.pop(name, None)
            return None
        now = self.clock()
        seen = self.busy.get(name)
        if seen is None or seen[0] != last_batch_id:
            self.busy[name] = (last_batch_id, now)
            return None
        elapsed = now - seen[1]
        return elapsed if elapsed > self.timeout_s else None


class Stoppable(Protocol):
    """What stop_within stops: a session, or a query (which has a name)."""

    def stop(self) -> None: ...


class NamedStoppable(Stoppable, Protocol):
    @property
    def name(self) -> str: ...


def stop_within(spark: Stoppable, queries: Sequence[NamedStoppable], timeout_s: float) -> bool:
    """Stops the queries and the session; False if that has not finished after timeout_s.

    Stopping can hang for good: when a write fails because Cassandra went away, Spark's
    Observation listener re-plans the failed write, which asks the Cassandra driver for a schema
    refresh that never completes, and SparkContext.stop() waits for that listener forever. A job
    stuck like that is not restarted by its supervisor, so the caller gives up on it instead."""

    def stop_all() -> None:
        for q in queries:
            try:
                q.stop()
            except Exception as e:  # noqa: BLE001 - stopping is best effort
                print(f"stopping {q.name}: {e}", file=sys.stderr, flush=True)
        spark.stop()

    t = threading.Thread(target=stop_all, name="stop", daemon=True)
    t.start()
    t.join(timeout_s)
    return not t.is_alive()


def end_jvm(proc: subprocess.Popen[Any] | None, timeout_s: float) -> bool:
    """Ends the JVM that PySpark launched (a subprocess.Popen); True if it exited by itself.

    Closing its stdin is PySpark's signal for the JVM to exit, which runs its shutdown hooks.
    Those can hang as well: after a restart of the job by supervisord, the old driver JVM (its
    queries stopped, its job gone) was found 50 minutes later, holding 1.9 GB and answering
    neither jcmd nor SIGTERM. So a JVM that has not exited after timeout_s is killed."""
    if proc is None:
        return True
    try:
        if proc.stdin is not None:
            proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout_s)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)
        return False


def kill_jvm_and_exit(jvm: subprocess.Popen[Any] | None, why: str, code: int) -> NoReturn:
    """Kills the JVM PySpark launched and exits at once: a stuck stop thread would keep the
    interpreter alive. The checkpoints replay whatever was cut short."""
    print(
        f"{why}; killing Spark's JVM (pid {getattr(jvm, 'pid', '?')}). The checkpoints replay whatever was cut short.",
        file=sys.stderr,
        flush=True,
    )
    if jvm is not None:
        jvm.kill()
        jvm.wait(30)
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    # PySpark hands timestamps to Python in the process's local zone: make that UTC, as the
    # session is, so that the analytics' minute keys are the minutes Spark computed.
    os.environ["TZ"] = "UTC"
    time.tzset()
    stop = threading.Event()
    # SIGTERM (streamflow down) stops the queries between micro-batches; the checkpoint makes
    # whatever was cut short run again on the next start.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Path(a.checkpoint_dir).mkdir(parents=True, exist_ok=True)
    # Two drivers on one checkpoint corrupt each other's offset logs: refuse to be the second.
    lock = open(Path(a.checkpoint_dir) / ".driver.lock", "w")  # noqa: SIM115 - held until exit
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another streaming job already uses {a.checkpoint_dir}; stop it first", file=sys.stderr)
        return 75
    started = time.time()
    progress_file = Path(a.checkpoint_dir).parent / "progress.json"
    # A killed predecessor's progress stays fresh for a while: it must not pass for this run's
    # health (`status` would say healthy before this job's queries run).
    progress_file.unlink(missing_ok=True)
    schemas, dlq_schema_id = None, None
    if a.format == "avro":
        found = avro_schemas(a, stop)
        if found is None:
            return 0
        schemas, dlq_schema_id = found
    spark = build_session(a)
    running = Queries(spark, a, schemas, dlq_schema_id)
    print(
        f"streaming {a.topic} -> cassandra {a.cassandra_host}:{a.cassandra_port}/{a.keyspace} "
        f"(dead letters: {a.dlq_topic}; checkpoints: {a.checkpoint_dir}; master {a.master})",
        flush=True,
    )
    next_report = time.monotonic() + a.progress_interval
    code = 0
    stalls = StallWatch(a.stall_timeout)
    stalled = False
    try:
        while not stop.is_set():
            for q, _ in list(running.all):
                if not q.isActive and not running.recover(q):
                    err = q.exception()
                    print(f"query {q.name} stopped: {err}", file=sys.stderr, flush=True)
                    code = 1
                    stop.set()
                    continue
                stuck = stalls.stuck_for(
                    q.name, bool(q.status.get("isTriggerActive")), (q.lastProgress or {}).get("batchId")
                )
                if stuck is not None:
                    print(
                        f"query {q.name} has been in one micro-batch for {stuck:.0f} s "
                        f"(--stall-timeout {a.stall_timeout:g}): exiting so that the job is started "
                        "again; the checkpoint replays the batch",
                        file=sys.stderr,
                        flush=True,
                    )
                    code, stalled = 1, True
                    stop.set()
            stop.wait(0.5)
            if time.monotonic() >= next_report:
                report(running.all, progress_file, started)
                next_report = time.monotonic() + a.progress_interval
    finally:
        jvm = getattr(SparkContext._gateway, "proc", None)  # the JVM pyspark launched
        if stalled:
            # Stopping waits for the stuck batch, which never ends: that would only add the stop
            # timeout before the kill.
            kill_jvm_and_exit(jvm, "a query is stalled", 1)
        if not stop_within(spark, [q for q, _ in running.all], a.stop_timeout):
            kill_jvm_and_exit(jvm, f"Spark did not stop within {a.stop_timeout:g} s", code or 1)
        if not end_jvm(jvm, a.stop_timeout / 2) and jvm is not None:
            print(
                f"Spark's JVM (pid {jvm.pid}) had not exited {a.stop_timeout / 2:g} s after "
                "the job stopped; killed it.",
                file=sys.stderr,
                flush=True,
            )
    return code


if __name__ == "__main__":
    sys.exit(main())
