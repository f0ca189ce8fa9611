"""The I/O shell of the streaming job: what each micro-batch writes where.

Both sinks are idempotent, because Structured Streaming re-runs a micro-batch that was cut short
(crash, SIGKILL) with exactly the same offsets: users are upserts and deletes keyed by user id,
analytics are absolute counts from Spark's checkpointed state, never increments. Dead letters are
at-least-once (a re-run batch may send one twice); each carries its source coordinates, which
identify it.
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
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
    last_batch_id: int = -1
    last_batch_steps_ms: dict[str, int] = field(default_factory=dict)
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
                "last_batch_id": self.last_batch_id,
                "last_batch_steps_ms": dict(self.last_batch_steps_ms),
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


def _uuid_list(ids: list[str]) -> str:
    # Only ids that passed transforms.UUID_RE reach here, so they are safe as CQL uuid literals.
    return ", ".join(ids)


def _chunks(items: list, n: int) -> list[list]:
    return [items[i : i + n] for i in range(0, len(items), n)]


class UsersSink:
    """foreachBatch target of the `users` query: raw Kafka rows -> users, users_by_country, DLQ."""

    def __init__(
        self, spark: SparkSession, keyspace: str, bootstrap: str, dlq_topic: str, batch_rows: int = 20
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
        events = T.parse_events(batch).persist()
        try:
            self._process(events, batch_id)
        finally:
            events.unpersist()

    def _process(self, events: DataFrame, batch_id: int) -> None:
        timer = StepTimer()
        kind, op = F.col("kind"), F.col("op")
        valid_c = kind == T.VALID
        n = lambda cond: F.sum(F.when(cond, 1).otherwise(0)).alias("n")  # noqa: E731
        # One pass over the batch answers what the rest has to do (most batches are inserts
        # of distinct users, and need neither de-duplication nor deletes).
        with timer.step("classify"):
            stats = events.agg(
                F.count(F.lit(1)).alias("events"),
                n(kind == T.INVALID).alias("invalid"),
                n(kind == T.TOMBSTONE).alias("tombstones"),
                n(valid_c).alias("valid"),
                n(valid_c & (op == "d")).alias("deletes"),
                n(valid_c & F.col("before").isNotNull()).alias("with_before"),
                F.countDistinct(F.when(valid_c, F.col("user_id"))).alias("users"),
            ).collect()[0]

        if stats["invalid"]:
            with timer.step("dead_letters"):
                (
                    T.dead_letters(events, F.lit(batch_id))
                    .write.format("kafka")
                    .option("kafka.bootstrap.servers", self.bootstrap)
                    .option("topic", self.dlq_topic)
                    .save()
                )

        upserted = deleted = 0
        if stats["valid"]:
            valid = events.filter(valid_c)
            # A user changed twice in one batch: only its last change counts.
            last = valid if stats["users"] == stats["valid"] else T.latest_per_user(valid)
            upserts = T.derive_users(last.filter(op != "d")).withColumn(
                "processed_at", F.current_timestamp()
            )
            upserts = upserts.persist()
            try:
                with timer.step("write_users"):
                    # One user per partition: rows of different partitions go in small
                    # unlogged batches (one round trip each), which is what makes this fast on
                    # a node that owns every partition.
                    self._write(
                        upserts,
                        "users",
                        {
                            "spark.cassandra.output.batch.grouping.key": "none",
                            "spark.cassandra.output.batch.size.rows": str(self.batch_rows),
                        },
                    )
                with timer.step("write_users_by_country"):
                    self._write(
                        upserts.select(
                            "country_code", "user_id", "full_name", "email", "city", "gender", "age"
                        ),
                        "users_by_country",
                    )
                stale: list = []
                if stats["with_before"]:
                    with timer.step("find_stale"):
                        # users_by_country entries this batch made stale: every country a user
                        # was in before a change of this batch, except the one it is in now.
                        before_cc = T.country_code(
                            F.col("before").getField("country"), F.col("before").getField("nat")
                        )
                        stale = (
                            valid.filter(F.col("before").isNotNull())
                            .select(before_cc.alias("country_code"), "user_id")
                            .dropna()
                            .distinct()
                            .join(
                                upserts.select("country_code", "user_id"),
                                on=["country_code", "user_id"],
                                how="left_anti",
                            )
                            .collect()
                        )
                deletes: list[str] = []
                if stats["deletes"]:
                    with timer.step("find_deletes"):
                        deletes = [
                            r["user_id"]
                            for r in last.filter(op == "d").select("user_id").collect()
                        ]
                upserted = stats["valid"] - stats["deletes"] if last is valid else upserts.count()
            finally:
                upserts.unpersist()
            statements = [
                f"DELETE FROM {self.keyspace}.users WHERE user_id IN ({_uuid_list(chunk)})"
                for chunk in _chunks(deletes, 100)
            ]
            for r in stale:
                if re.fullmatch(r"[A-Z]{2}", r["country_code"]):
                    statements.append(
                        f"DELETE FROM {self.keyspace}.users_by_country WHERE country_code = "
                        f"'{r['country_code']}' AND user_id = {r['user_id']}"
                    )
            if statements:
                with timer.step("deletes"):
                    self.cql.execute(statements)
            deleted = len(deletes)

        c = self.counters
        with c.lock:
            c.batches += 1
            c.events += stats["events"]
            c.upserted += upserted
            c.deleted += deleted
            c.dead_lettered += stats["invalid"]
            c.tombstones += stats["tombstones"]
            c.last_batch_id = batch_id
            c.last_batch_steps_ms = timer.steps


class AnalyticsSink:
    """foreachBatch target of the `analytics` query (update mode): writes the groups whose counts
    changed in this batch, as absolute values, to the four analytics tables."""

    COUNTRY_MINUTE = grouping_id("minute", "country_code")
    GENDER_MINUTE = grouping_id("minute", "gender")
    AGE_BAND_MINUTE = grouping_id("minute", "age_band")
    COUNTRY = grouping_id("country_code")

    def __init__(self, keyspace: str):
        self.keyspace = keyspace
        self.counters = Counters()

    def _write(self, df: DataFrame, table: str) -> None:
        df.write.format(CASSANDRA).options(keyspace=self.keyspace, table=table).mode("append").save()

    def __call__(self, groups: DataFrame, batch_id: int) -> None:
        groups = groups.persist()
        try:
            day = F.to_date(F.col("minute"))
            signups = groups.filter(F.col("signups") > 0)
            gid = F.col("gid")
            self._write(
                signups.filter(gid == self.COUNTRY_MINUTE).select(
                    day.alias("day"), "minute", "country_code", "country", "signups"
                ),
                "signups_by_country_minute",
            )
            self._write(
                signups.filter(gid == self.GENDER_MINUTE).select(
                    day.alias("day"), "minute", "gender", "signups"
                ),
                "signups_by_gender_minute",
            )
            self._write(
                signups.filter(gid == self.AGE_BAND_MINUTE).select(
                    day.alias("day"), "minute", "age_band", "signups"
                ),
                "signups_by_age_band_minute",
            )
            self._write(
                groups.filter(gid == self.COUNTRY).select(
                    F.lit("all").alias("scope"),
                    "country_code",
                    "country",
                    F.col("users"),
                    F.current_timestamp().alias("updated_at"),
                ),
                "users_per_country",
            )
            n = groups.count()
        finally:
            groups.unpersist()
        c = self.counters
        with c.lock:
            c.batches += 1
            c.events += n
            c.last_batch_id = batch_id


def analytics_groups(spark: SparkSession, events: DataFrame, watermark: str) -> DataFrame:
    """The streaming aggregation behind the analytics tables: signups per commit minute by
    country, gender and age band, and current users per country, in one stateful aggregation
    (grouping sets). The watermark on the minute lets Spark drop a minute's state once no event
    can reach it any more; the checkpointed state makes a replayed batch recount to the same
    absolute values."""
    facts = (
        T.analytics_facts(events)
        .withColumn("minute", F.date_trunc("minute", F.col("committed_at")))
        .withWatermark("minute", watermark)
    )
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
