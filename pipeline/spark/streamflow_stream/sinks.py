"""The I/O shell of the streaming job: what each micro-batch writes where.

Both sinks are idempotent, because Structured Streaming re-runs a micro-batch that was cut short
(crash, SIGKILL) with exactly the same offsets: users are upserts and deletes keyed by user id,
analytics are absolute counts from Spark's checkpointed state, never increments. Dead letters are
at-least-once (a re-run batch may send one twice); each carries its source coordinates, which
identify it. What the statements say is built by pure functions (analytics_statements,
delete_statements), tested without Cassandra.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from . import transforms as T
from .registry import WriterSchemas, unknown_schema_id

CASSANDRA = "org.apache.spark.sql.cassandra"
# Statements per unlogged batch: one partition (a day, or the single users_per_country
# partition) per batch keeps each a single-partition write.
STATEMENTS_PER_BATCH = 50
USER_IDS_PER_DELETE = 100
# A batch that meets new schema ids is planned again once per id: a handful at most.
MAX_SCHEMA_ATTEMPTS = 20


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

    def snapshot(self) -> dict[str, Any]:
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
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.steps[name] = self.steps.get(name, 0) + int((time.monotonic() - started) * 1000)


# ---- statements (pure) -------------------------------------------------------------------------


def cql_text(value: str | None) -> str:
    """A CQL text literal (or null)."""
    return "null" if value is None else "'" + str(value).replace("'", "''") + "'"


def analytics_statements(groups: Sequence[Mapping[str, Any]], keyspace: str) -> list[str]:
    """The changed analytics groups (rows of transforms.analytics_groups) as CQL: absolute counts
    upserted into the table their grouping set feeds, in unlogged batches of one table each
    (STATEMENTS_PER_BATCH statements). Minute groups without signups (a move between countries
    changes only the users per country) are left out."""
    by_table: dict[str, list[str]] = {}
    for group in groups:
        gid = group["gid"]
        if gid == T.COUNTRY:
            by_table.setdefault("users_per_country", []).append(
                f"INSERT INTO {keyspace}.users_per_country (scope, country_code, country, users, "
                f"updated_at) VALUES ('all', {cql_text(group['country_code'])}, "
                f"{cql_text(group['country'])}, {int(group['users'])}, toTimestamp(now()))"
            )
            continue
        if not group["signups"]:
            continue
        minute: datetime = group["minute"]
        day, at = minute.strftime("%Y-%m-%d"), minute.strftime("%Y-%m-%d %H:%M:%S+0000")
        signups = int(group["signups"])
        if gid == T.COUNTRY_MINUTE:
            table = "signups_by_country_minute"
            statement = (
                f"INSERT INTO {keyspace}.{table} (day, minute, country_code, country, signups) "
                f"VALUES ('{day}', '{at}', {cql_text(group['country_code'])}, "
                f"{cql_text(group['country'])}, {signups})"
            )
        elif gid in (T.GENDER_MINUTE, T.AGE_BAND_MINUTE):
            key = "gender" if gid == T.GENDER_MINUTE else "age_band"
            table = f"signups_by_{key}_minute"
            statement = (
                f"INSERT INTO {keyspace}.{table} (day, minute, {key}, signups) "
                f"VALUES ('{day}', '{at}', {cql_text(group[key])}, {signups})"
            )
        else:
            continue
        by_table.setdefault(table, []).append(statement)
    return [
        "BEGIN UNLOGGED BATCH\n" + ";\n".join(chunk) + ";\nAPPLY BATCH"
        for statements in by_table.values()
        for chunk in chunks(statements, STATEMENTS_PER_BATCH)
    ]


def delete_statements(user_ids: Sequence[str], keyspace: str) -> list[str]:
    """Deletes of users, USER_IDS_PER_DELETE ids per statement. Only ids that passed
    transforms.UUID_RE reach here, so they are safe as CQL uuid literals."""
    return [
        f"DELETE FROM {keyspace}.users WHERE user_id IN ({', '.join(chunk)})"
        for chunk in chunks(list(user_ids), USER_IDS_PER_DELETE)
    ]


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ---- I/O ---------------------------------------------------------------------------------------


class Cql:
    """Statements through the Spark Cassandra Connector's own session (its CassandraConnector,
    from the Spark conf), on the driver: the DataFrame API has no delete, and the analytics
    groups are few."""

    def __init__(self, spark: SparkSession):
        jvm = spark.sparkContext._jvm
        assert jvm is not None, "the Spark session has no JVM"
        conf = spark.sparkContext._jsc.sc().getConf()
        self._connector = jvm.com.datastax.spark.connector.cql.CassandraConnector.apply(conf)

    def execute(self, statements: list[str]) -> None:
        if not statements:
            return
        session = self._connector.openSession()
        try:
            for statement in statements:
                session.execute(statement)
        finally:
            session.close()


class CarriedColumns:
    """Which columns added to staging after the job was written the users query carries to
    Cassandra (transforms.carried_columns): Cassandra's columns of `users` are read again when
    the writer schemas change, and every RECHECK_S while an added column has no Cassandra column
    (a CQL migration applied after the staging one). Each change of the verdict is printed."""

    RECHECK_S = 10.0

    def __init__(self, columns: Callable[[], set[str]], keyspace: str, clock: Callable[[], float] = time.monotonic):
        """`columns`: reads the columns of Cassandra `users`."""
        self.columns = columns
        self.keyspace = keyspace
        self.clock = clock
        self._ids: frozenset[int] | None = None
        self._checked = 0.0
        self._carried: tuple[T.AddedColumn, ...] = ()
        self._skipped: dict[str, str] = {}

    def for_writers(self, writers: T.AvroWriters) -> tuple[T.AddedColumn, ...]:
        ids = frozenset(writers.by_id)
        waiting = any("CQL migration" in why for why in self._skipped.values())
        if ids == self._ids and not (waiting and self.clock() - self._checked >= self.RECHECK_S):
            return self._carried
        added = T.added_columns(writers)
        columns = self.columns() if added else set()
        carried, skipped = T.carried_columns(added, columns)
        self._ids, self._checked = ids, self.clock()
        for c in carried:
            if c not in self._carried:
                print(f"staging column {c.name}: carried to {self.keyspace}.users", flush=True)
        for name, why in skipped.items():
            if self._skipped.get(name) != why:
                print(f"staging column {name}: not carried to {self.keyspace}.users: {why}", flush=True)
        self._carried, self._skipped = carried, skipped
        return carried


class UsersSink:
    """foreachBatch target of the `users` query: raw Kafka rows -> users (upserts and deletes)
    and the dead-letter topic."""

    def __init__(
        self,
        spark: SparkSession,
        keyspace: str,
        bootstrap: str,
        dlq_topic: str,
        batch_rows: int = 40,
        schemas: WriterSchemas | None = None,
        dlq_schema_id: int | None = None,
    ):
        """`schemas`: the CDC topic carries Avro, decoded with these writer schemas (None:
        schemaless JSON); `dlq_schema_id`: dead letters are Avro with this registered schema."""
        self.schemas = schemas
        self.dlq_schema_id = dlq_schema_id
        self.keyspace = keyspace
        self.batch_rows = batch_rows
        self.bootstrap = bootstrap
        self.dlq_topic = dlq_topic
        self.cql = Cql(spark)
        # The table's columns as the connector sees them (its driver follows schema changes).
        self.carried = CarriedColumns(
            lambda: set(spark.read.format(CASSANDRA).options(keyspace=keyspace, table="users").load().columns),
            keyspace,
        )
        self.counters = Counters()

    def _write(self, df: DataFrame, table: str, options: dict[str, str] | None = None) -> None:
        writer = df.write.format(CASSANDRA).options(keyspace=self.keyspace, table=table)
        writer.options(**(options or {})).mode("append").save()

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        # A schema id the plan does not know stops the attempt before anything is counted (the
        # writes are idempotent); the registry is asked for it and the batch planned again.
        for attempt in range(MAX_SCHEMA_ATTEMPTS):
            avro = self.schemas.writers() if self.schemas is not None else None
            try:
                self._process(batch, batch_id, attempt, avro)
                return
            except Exception as err:
                schema_id = unknown_schema_id(err)
                if self.schemas is None or schema_id is None:
                    raise
                known = self.schemas.resolve(schema_id)
                print(
                    f"users batch {batch_id}: schema id {schema_id} is "
                    + (
                        "a new version of the schema, decoding with it"
                        if known
                        else "not in the registry: dead letters"
                    ),
                    flush=True,
                )
        raise RuntimeError(
            f"users batch {batch_id}: still meeting unknown schema ids after {MAX_SCHEMA_ATTEMPTS} tries"
        )

    def _process(self, batch: DataFrame, batch_id: int, attempt: int, avro: T.AvroWriters | None) -> None:
        timer = StepTimer()
        kind, op = F.col("kind"), F.col("op")
        is_valid = kind == T.VALID

        def count_where(condition: Column) -> Column:
            return F.sum(F.when(condition, 1).otherwise(0))

        # One Spark job per batch in the common case: the batch's counters are observed on
        # the way to the write (Dataset.observe), not computed by a job of their own.
        # Columns added to staging since (Avro only: the JSON path has no schema to learn them).
        carried = self.carried.for_writers(avro) if avro is not None else ()
        events = T.parse_events(batch, T.users_envelope(carried), avro).drop("value", "value_text", "key", "after")
        batch_stats = Observation(f"users_batch_{batch_id}_{attempt}")
        observed = events.observe(
            batch_stats,
            F.count(F.lit(1)).alias("events"),
            count_where(kind == T.INVALID).alias("invalid"),
            count_where(kind == T.TOMBSTONE).alias("tombstones"),
            count_where(kind == T.PURGE).alias("purges"),
            count_where(is_valid).alias("valid"),
            count_where(is_valid & (op == "d")).alias("deletes"),
            F.max(F.when(is_valid, F.col("source_ts_ms"))).alias("last_commit_ms"),
        )
        # A user changed twice in one batch: only its last change counts.
        last_changes = T.latest_per_user(observed.filter(is_valid))
        upserted_stats = Observation(f"users_upserted_{batch_id}_{attempt}")
        upserts = (
            T.derive_users(last_changes.filter(op != "d"), carried)
            .withColumn("processed_at", T.processing_time())
            .observe(upserted_stats, F.count(F.lit(1)).alias("upserted"))
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
        stats = {name: int(value or 0) for name, value in batch_stats.get.items()}
        upserted = int(upserted_stats.get.get("upserted") or 0)

        if stats["invalid"]:
            with timer.step("dead_letters"):
                (
                    T.dead_letters(T.parse_events(batch, avro=avro), F.lit(batch_id), self.dlq_schema_id)
                    .write.format("kafka")
                    .option("kafka.bootstrap.servers", self.bootstrap)
                    .option("topic", self.dlq_topic)
                    .save()
                )

        deleted = 0
        if stats["deletes"]:
            with timer.step("deletes"):
                deleted_ids = [
                    row["user_id"]
                    for row in T.latest_per_user(events.filter(is_valid)).filter(op == "d").select("user_id").collect()
                ]
                self.cql.execute(delete_statements(deleted_ids, self.keyspace))
            deleted = len(deleted_ids)

        counters = self.counters
        with counters.lock:
            counters.batches += 1
            counters.events += stats["events"]
            counters.upserted += upserted
            counters.deleted += deleted
            counters.dead_lettered += stats["invalid"]
            counters.tombstones += stats["tombstones"]
            counters.purges += stats["purges"]
            counters.last_batch_id = batch_id
            counters.last_batch_steps_ms = timer.steps
            if stats["last_commit_ms"]:
                counters.last_commit_ms = stats["last_commit_ms"]
                counters.last_written_ms = int(time.time() * 1000)


class AnalyticsSink:
    """foreachBatch target of the `analytics` query (update mode): writes the groups whose counts
    changed in this batch, as absolute values, to the four analytics tables."""

    def __init__(self, spark: SparkSession, keyspace: str):
        self.keyspace = keyspace
        self.cql = Cql(spark)
        self.counters = Counters()

    def __call__(self, groups: DataFrame, batch_id: int) -> None:
        timer = StepTimer()
        with timer.step("collect"):
            # The groups whose counts changed: a few per minute and dimension value, so they
            # are written from the driver through the connector's session rather than as four
            # Spark jobs.
            changed = [row.asDict() for row in groups.collect()]
        with timer.step("write"):
            self.cql.execute(analytics_statements(changed, self.keyspace))
        counters = self.counters
        with counters.lock:
            counters.batches += 1
            counters.events += len(changed)
            counters.last_batch_id = batch_id
            counters.last_batch_steps_ms = timer.steps
