"""The I/O shell of the streaming job: what each micro-batch writes where.

Both sinks are idempotent, because Structured Streaming re-runs a micro-batch that was cut short
(crash, SIGKILL) with exactly the same offsets: users are upserts and deletes keyed by user id,
analytics are absolute counts from Spark's checkpointed state, never increments. Dead letters are
at-least-once (a re-run batch may send one twice); each carries its source coordinates, which
identify it.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from . import transforms as T

CASSANDRA = "org.apache.spark.sql.cassandra"
GROUP_COLUMNS = ("minute", "country_code", "gender", "age_band")


def grouping_id(*grouped: str) -> int:
    """Spark's grouping_id() for a grouping set over GROUP_COLUMNS: bit set = not grouped."""
    gid = 0
    for col in GROUP_COLUMNS:
        gid = (gid << 1) | (0 if col in grouped else 1)
    return gid


@dataclass
class Counters:
    """Running totals since the job started, read by the progress reporter (another thread)."""

    batches: int = 0
    events: int = 0
    upserted: int = 0
    deleted: int = 0
    dead_lettered: int = 0
    tombstones: int = 0
    purges: int = 0
    last_batch_id: int = -1
    last_batch_steps_ms: dict[str, int] = field(default_factory=dict)
    # The newest change of the last batch that had one: its PostgreSQL commit time and when the
    # batch finished writing it (epoch ms). Their difference is the end-to-end freshness.
    last_commit_ms: int | None = None
    last_written_ms: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {
                "batches": self.batches,
                "events": self.events,
                "upserted": self.upserted,
                "deleted": self.deleted,
                "dead_lettered": self.dead_lettered,
                "tombstones": self.tombstones,
                "purges": self.purges,
                "last_batch_id": self.last_batch_id,
                "last_batch_steps_ms": dict(self.last_batch_steps_ms),
                "last_commit_ms": self.last_commit_ms,
                "last_written_ms": self.last_written_ms,
            }


class StepTimer:
    """Wall time of each step of a micro-batch, for the progress file (where a slow batch
    spends its time)."""

    def __init__(self) -> None:
        self.steps: dict[str, int] = {}

    @contextmanager
    def step(self, name: str):
        t = time.monotonic()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0) + int((time.monotonic() - t) * 1000)


class Cql:
    """Deletes through the Spark Cassandra Connector's own session (its CassandraConnector, from
    the Spark conf), on the driver: the DataFrame API has no delete, and deletes are rare."""

    def __init__(self, spark: SparkSession, keyspace: str):
        jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
        conf = spark.sparkContext._jsc.sc().getConf()  # type: ignore[union-attr]
        self._connector = jvm.com.datastax.spark.connector.cql.CassandraConnector.apply(conf)
        self.keyspace = keyspace

    def execute(self, statements: list[str]) -> None:
        if not statements:
            return
        session = self._connector.openSession()
        try:
            for s in statements:
                session.execute(s)
        finally:
            session.close()

    def write_analytics(self, rows: list, sink: "AnalyticsSink") -> None:
        """Upserts the changed analytics groups (absolute counts) as one unlogged batch per
        table and partition."""
        ks = self.keyspace
        by_table: dict[str, list[str]] = {}

        def q(v: str | None) -> str:
            return "null" if v is None else "'" + str(v).replace("'", "''") + "'"

        for r in rows:
            if r["gid"] == sink.COUNTRY:
                by_table.setdefault("users_per_country", []).append(
                    f"INSERT INTO {ks}.users_per_country (scope, country_code, country, users, "
                    f"updated_at) VALUES ('all', {q(r['country_code'])}, {q(r['country'])}, "
                    f"{int(r['users'])}, toTimestamp(now()))"
                )
                continue
            if not r["signups"]:
                continue
            minute = r["minute"].strftime("%Y-%m-%d %H:%M:%S+0000")
            day = r["minute"].strftime("%Y-%m-%d")
            head = f"(day, minute, %s, signups) VALUES ('{day}', '{minute}', %s, {int(r['signups'])})"
            if r["gid"] == sink.COUNTRY_MINUTE:
                stmt = (
                    f"INSERT INTO {ks}.signups_by_country_minute (day, minute, country_code, "
                    f"country, signups) VALUES ('{day}', '{minute}', {q(r['country_code'])}, "
                    f"{q(r['country'])}, {int(r['signups'])})"
                )
                table = "signups_by_country_minute"
            elif r["gid"] == sink.GENDER_MINUTE:
                table = "signups_by_gender_minute"
                stmt = f"INSERT INTO {ks}.{table} " + head % ("gender", q(r["gender"]))
            elif r["gid"] == sink.AGE_BAND_MINUTE:
                table = "signups_by_age_band_minute"
                stmt = f"INSERT INTO {ks}.{table} " + head % ("age_band", q(r["age_band"]))
            else:
                continue
            by_table.setdefault(table, []).append(stmt)
        batches = []
        for stmts in by_table.values():
            for chunk in _chunks(stmts, 50):
                batches.append("BEGIN UNLOGGED BATCH\n" + ";\n".join(chunk) + ";\nAPPLY BATCH")
        self.execute(batches)


def _uuid_list(ids: list[str]) -> str:
    # Only ids that passed transforms.UUID_RE reach here, so they are safe as CQL uuid literals.
    return ", ".join(ids)


def _chunks(items: list, n: int) -> list[list]:
    return [items[i : i + n] for i in range(0, len(items), n)]


class UsersSink:
    """foreachBatch target of the `users` query: raw Kafka rows -> users (upserts and deletes)
    and the dead-letter topic."""

    def __init__(
        self, spark: SparkSession, keyspace: str, bootstrap: str, dlq_topic: str, batch_rows: int = 40
    ):
        self.keyspace = keyspace
        self.batch_rows = batch_rows
        self.bootstrap = bootstrap
        self.dlq_topic = dlq_topic
        self.cql = Cql(spark, keyspace)
        self.counters = Counters()

    def _write(self, df: DataFrame, table: str, options: dict[str, str] | None = None) -> None:
        w = df.write.format(CASSANDRA).options(keyspace=self.keyspace, table=table)
        w.options(**(options or {})).mode("append").save()

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        timer = StepTimer()
        kind, op = F.col("kind"), F.col("op")
        valid_c = kind == T.VALID
        n = lambda cond: F.sum(F.when(cond, 1).otherwise(0))  # noqa: E731
        # One Spark job per batch in the common case: the batch's counters are observed on
        # the way to the write (Dataset.observe), not computed by a job of their own.
        events = T.parse_events(batch).drop("value_text", "key_text", "after")
        stats_obs = Observation(f"users_batch_{batch_id}")
        observed = events.observe(
            stats_obs,
            F.count(F.lit(1)).alias("events"),
            n(kind == T.INVALID).alias("invalid"),
            n(kind == T.TOMBSTONE).alias("tombstones"),
            n(kind == T.PURGE).alias("purges"),
            n(valid_c).alias("valid"),
            n(valid_c & (op == "d")).alias("deletes"),
            F.max(F.when(valid_c, F.col("source_ts_ms"))).alias("last_commit_ms"),
        )
        # A user changed twice in one batch: only its last change counts.
        last = T.latest_per_user(observed.filter(valid_c))
        upserted_obs = Observation(f"users_upserted_{batch_id}")
        upserts = (
            T.derive_users(last.filter(op != "d"))
            .withColumn("processed_at", T.processing_time())
            .observe(upserted_obs, F.count(F.lit(1)).alias("n"))
        )
        with timer.step("write_users"):
            # One user per partition: rows of different partitions go in small unlogged
            # batches (one round trip each), which is what makes this fast on a node that
            # owns every partition.
            self._write(
                upserts,
                "users",
                {
                    "spark.cassandra.output.batch.grouping.key": "none",
                    "spark.cassandra.output.batch.size.rows": str(self.batch_rows),
                },
            )
        # Sums over an empty batch are null.
        stats = {k: int(v or 0) for k, v in stats_obs.get.items()}
        upserted = int(upserted_obs.get.get("n") or 0)

        if stats["invalid"]:
            with timer.step("dead_letters"):
                (
                    T.dead_letters(T.parse_events(batch), F.lit(batch_id))
                    .write.format("kafka")
                    .option("kafka.bootstrap.servers", self.bootstrap)
                    .option("topic", self.dlq_topic)
                    .save()
                )

        deleted = 0
        if stats["deletes"]:
            with timer.step("deletes"):
                valid = events.filter(valid_c)
                deletes = [
                    r["user_id"]
                    for r in T.latest_per_user(valid).filter(op == "d").select("user_id").collect()
                ]
                self.cql.execute(
                    [
                        f"DELETE FROM {self.keyspace}.users WHERE user_id IN ({_uuid_list(chunk)})"
                        for chunk in _chunks(deletes, 100)
                    ]
                )
            deleted = len(deletes)

        c = self.counters
        with c.lock:
            c.batches += 1
            c.events += stats["events"]
            c.upserted += upserted
            c.deleted += deleted
            c.dead_lettered += stats["invalid"]
            c.tombstones += stats["tombstones"]
            c.purges += stats["purges"]
            c.last_batch_id = batch_id
            c.last_batch_steps_ms = timer.steps
            if stats["last_commit_ms"]:
                c.last_commit_ms = stats["last_commit_ms"]
                c.last_written_ms = int(time.time() * 1000)


class AnalyticsSink:
    """foreachBatch target of the `analytics` query (update mode): writes the groups whose counts
    changed in this batch, as absolute values, to the four analytics tables."""

    COUNTRY_MINUTE = grouping_id("minute", "country_code")
    GENDER_MINUTE = grouping_id("minute", "gender")
    AGE_BAND_MINUTE = grouping_id("minute", "age_band")
    COUNTRY = grouping_id("country_code")

    def __init__(self, spark: SparkSession, keyspace: str):
        self.keyspace = keyspace
        self.cql = Cql(spark, keyspace)
        self.counters = Counters()

    def __call__(self, groups: DataFrame, batch_id: int) -> None:
        timer = StepTimer()
        with timer.step("collect"):
            # The groups whose counts changed: a few per minute and dimension value, so they
            # are written from the driver through the connector's session rather than as four
            # Spark jobs.
            rows = groups.collect()
        with timer.step("write"):
            self.cql.write_analytics(rows, self)
        c = self.counters
        with c.lock:
            c.batches += 1
            c.events += len(rows)
            c.last_batch_id = batch_id
            c.last_batch_steps_ms = timer.steps


def analytics_groups(spark: SparkSession, events: DataFrame, watermark: str) -> DataFrame:
    """The streaming aggregation behind the analytics tables: signups per commit minute by
    country, gender and age band, and current users per country, in one stateful aggregation
    (grouping sets). The watermark on the minute lets Spark drop a minute's state once no event
    can reach it any more; the checkpointed state makes a replayed batch recount to the same
    absolute values.

    A change can also reach the topic twice: Kafka Connect (or Debezium after PostgreSQL
    restarted) re-sends what it sent after its last committed offset. Such a copy has the same
    WAL position, user and op, so the changes are de-duplicated on those, within the watermark,
    before they are counted."""
    valid = (
        events.filter(F.col("kind") == T.VALID)
        .withColumn("minute", F.date_trunc("minute", F.col("committed_at")))
        .withWatermark("minute", watermark)
        .dropDuplicatesWithinWatermark(["lsn", "user_id", "op"])
    )
    facts = T.analytics_facts(valid, keep=("minute",))
    view = f"streamflow_facts_{id(facts)}"
    facts.createOrReplaceTempView(view)
    return spark.sql(
        f"""
        SELECT minute, country_code, gender, age_band,
               max(country) AS country,
               sum(signups) AS signups,
               sum(presence) AS users,
               grouping_id() AS gid
        FROM {view}
        GROUP BY GROUPING SETS ((minute, country_code), (minute, gender), (minute, age_band),
                                (country_code))
        """
    )
