"""The Spark job's pure core on local DataFrames: no Kafka, no Cassandra.

The derivations are checked against tests/golden/*/expected.json `derived`, written by an
independent statement of the rules (tests/golden/generate.py) for the same users the C++ decoder
is tested on. The envelope handling is checked case by case.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "pipeline/spark"))

from pyspark.sql import Column, DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from streamflow_stream import transforms as T  # noqa: E402
from streamflow_stream.job import ROCKSDB_STATE_STORE, start_in_pool  # noqa: E402
from streamflow_stream.sinks import analytics_statements, delete_statements  # noqa: E402

pytestmark = pytest.mark.unit

GOLDEN = REPO / "tests/golden"
AVRO_JARS = sorted((REPO / ".deps/spark-jars").glob("spark-avro_*.jar"))
if not AVRO_JARS:
    pytest.exit(f"no spark-avro jar in {REPO / '.deps/spark-jars'}: run `make setup`", returncode=2)
TOPIC = "streamflow.staging.users"


def local_session() -> SparkSession:
    """The one local Spark session of the unit tier (test_avro.py shares it)."""
    s = (
        SparkSession.builder.master("local[1]")
        .appName("streamflow-transforms-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.streaming.stateStore.providerClass", ROCKSDB_STATE_STORE)
        # from_avro/to_avro, as the job has them.
        .config("spark.jars", ",".join(str(p) for p in AVRO_JARS))
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    return s


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    s = local_session()
    yield s
    s.stop()


def debezium_ts(text: str | None) -> str | None:
    """A staging timestamptz as Debezium puts it on the wire (ISO-8601, microseconds, Z)."""
    if text is None:
        return None
    d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    d = d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def staging_row(user: dict[str, Any]) -> dict[str, Any]:
    """A golden expected user (what ingest writes to staging.users) as Debezium's row image."""
    row = {k: v for k, v in user.items() if k not in ("uuid", "id_name", "id_hash")}
    row["user_id"] = user["uuid"]
    row["dob"] = debezium_ts(user["dob"])
    row["registered"] = debezium_ts(user["registered"])
    row["batch_id"] = "7a8b9c07-be1a-80ad-9697-7234af8cd5d2"
    row["ingested_at"] = row["updated_at"] = "2026-06-15T11:59:59.000000Z"
    return row


def envelope(op: str, before: dict[str, Any] | None, after: dict[str, Any] | None, ts_ms: int, lsn: int = 1) -> str:
    return json.dumps(
        {
            "before": before,
            "after": after,
            "op": op,
            "ts_ms": ts_ms,
            "source": {"ts_ms": ts_ms, "lsn": lsn, "txId": 7, "snapshot": "false", "table": "users"},
        }
    )


def kafka_rows(spark: SparkSession, messages: Sequence[tuple[str | None, str | None]], partition: int = 0) -> DataFrame:
    """(key, value) pairs as the Kafka source gives them, offsets in order."""
    rows = [
        (k.encode() if k is not None else None, v.encode() if v is not None else None, TOPIC, partition, i)
        for i, (k, v) in enumerate(messages)
    ]
    return spark.createDataFrame(rows, "key binary, value binary, topic string, partition int, offset long")


def millis(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


NOON = millis("2026-06-15T12:00:00Z")


CASES = sorted(p.parent.name for p in GOLDEN.glob("*/expected.json") if json.loads(p.read_text())["users"])


@pytest.mark.parametrize("case", CASES)
def test_derivations_match_the_golden_vectors(spark: SparkSession, case: str) -> None:
    expected = json.loads((GOLDEN / case / "expected.json").read_text())
    ts = millis(expected["derived_at"])
    messages = [
        (json.dumps({"user_id": u["uuid"]}), envelope("c", None, staging_row(u), ts)) for u in expected["users"]
    ]
    events = T.parse_events(kafka_rows(spark, messages))
    kinds = [(r.kind, r.reason) for r in events.select("kind", "reason").collect()]
    assert kinds == [(T.VALID, None)] * len(messages)
    got = {r.user_id: r.asDict() for r in T.derive_users(events).collect()}
    for want in expected["derived"]:
        row = got[want["uuid"]]
        for field in ("full_name", "age", "age_band", "email_domain", "country_code"):
            assert row[field] == want[field], (case, want["uuid"], field)
        for field in ("latitude", "longitude"):
            assert (row[field] is None and want[field] is None) or math.isclose(row[field], want[field]), field
        user = next(u for u in expected["users"] if u["uuid"] == want["uuid"])
        # Text fields pass through untouched (the C++ side already normalised them).
        for field in ("postcode", "phone", "cell", "tz_offset", "city", "first_name", "nat"):
            assert row[field] == user[field], (case, field)
        if user["dob"] is None:
            assert row["dob"] is None
        else:
            staged = debezium_ts(user["dob"])
            assert staged is not None
            assert row["dob"].replace(tzinfo=timezone.utc) == datetime.fromisoformat(staged.replace("Z", "+00:00"))
        assert row["committed_at"].replace(tzinfo=timezone.utc).timestamp() * 1000 == ts


def golden_user(n: int = 0) -> dict[str, Any]:
    user: dict[str, Any] = json.loads((GOLDEN / "valid_every_nationality/expected.json").read_text())["users"][n]
    return user


def test_envelope_kinds_and_reasons(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    no_email = dict(u, email=None)
    bad_dob = dict(u, dob="yesterday")
    msgs = [
        (None, envelope("c", None, u, 1000)),
        ('{"user_id": "x"}', None),  # tombstone after a delete
        ("k", "{truncated"),
        ("k", '"just a string"'),
        ("k", json.dumps({"after": u})),
        ("k", envelope("t", None, None, 1000)),
        ("k", envelope("u", u, None, 1000)),
        ("k", envelope("d", None, None, 1000)),
        ("k", envelope("c", None, dict(u, user_id="not-a-uuid"), 1000)),
        ("k", envelope("c", None, no_email, 1000)),
        ("k", envelope("c", None, bad_dob, 1000)),
        ("k", envelope("c", None, dict(u, nat="usa"), 1000)),
        ("k", json.dumps({"op": "c", "after": u})),
        ("k", envelope("d", u, None, 1000)),
        ("k", envelope("r", None, u, 1000)),
    ]
    got = [(r.kind, r.reason) for r in T.parse_events(kafka_rows(spark, msgs)).orderBy("offset").collect()]
    # The analytics query parses only the fields validation reads: same verdicts.
    narrow = T.parse_events(kafka_rows(spark, msgs), T.ANALYTICS_ENVELOPE).orderBy("offset").collect()
    assert [(r.kind, r.reason) for r in narrow] == got
    assert got == [
        (T.VALID, None),
        (T.TOMBSTONE, None),
        (T.INVALID, "value is not a JSON object"),
        (T.INVALID, "value is not a JSON object"),
        (T.INVALID, "not a Debezium change event: no op"),
        (T.INVALID, "unknown op 't'"),
        (T.INVALID, "op 'u' without after"),
        (T.INVALID, "op 'd' without before"),
        (T.INVALID, "user_id is not a uuid"),
        (T.VALID, None),  # only user_id is required
        (T.INVALID, "dob is not a timestamp"),
        (T.INVALID, "nat is not a two-letter code"),
        (T.INVALID, "missing source.ts_ms"),
        (T.VALID, None),
        (T.VALID, None),
    ]


def test_a_housekeeping_purge_is_neither_a_change_nor_a_delete(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    stamped = dict(u, purged_at="2026-06-20T00:00:00.000000Z")
    msgs = [
        ("k", envelope("c", None, u, 1000)),
        ("k", envelope("u", u, stamped, 2000)),  # the purge stamps the row...
        ("k", envelope("d", stamped, None, 2000)),  # ...then deletes it
        ("k", envelope("d", u, None, 3000)),  # a real delete has no stamp
    ]
    for schema in (T.ENVELOPE, T.ANALYTICS_ENVELOPE):
        events = T.parse_events(kafka_rows(spark, msgs), schema).orderBy("offset")
        assert [r.kind for r in events.collect()] == [T.VALID, T.PURGE, T.PURGE, T.VALID]
    # The analytics see the signup and the real delete only.
    facts = T.analytics_facts(T.parse_events(kafka_rows(spark, msgs[:3]), T.ANALYTICS_ENVELOPE))
    assert [(r.signups, r.presence) for r in facts.collect()] == [(1, 1)]


def test_the_last_change_of_a_user_in_a_batch_wins(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    v2 = dict(u, city="Second")
    other = staging_row(golden_user(1))
    msgs = [
        ("k", envelope("c", None, u, 1000)),
        ("k", envelope("u", u, v2, 2000)),
        ("k", envelope("c", None, other, 2000)),
        ("k", envelope("d", other, None, 3000)),
    ]
    last = T.latest_per_user(T.parse_events(kafka_rows(spark, msgs)))
    got = {r.user_id: (r.op, r.offset) for r in last.collect()}
    assert got == {u["user_id"]: ("u", 1), other["user_id"]: ("d", 3)}
    row = T.derive_users(last.filter(F.col("op") != "d")).collect()
    assert [r.city for r in row] == ["Second"]


def test_utc_timestamp_reads_debezium_text_as_a_cast_would(spark: SparkSession) -> None:
    texts = [
        "1993-07-20T09:44:18.674Z",
        "2026-06-15T11:59:59.000000Z",
        "1993-07-20T11:44:18.674+02:00",
        "1993-07-20 09:44:18",
        "yesterdayZ",
        "Z",
        "",
        None,
    ]
    df = spark.createDataFrame([(t,) for t in texts], "t string")
    got = df.select(T.utc_timestamp(F.col("t")).alias("ours"), F.col("t").cast("timestamp").alias("cast")).collect()
    assert [r.ours for r in got] == [r.cast for r in got]
    assert got[2].ours == got[0].ours
    assert [r.ours for r in got[4:]] == [None] * 4


def test_analytics_facts_count_signups_once_and_move_users_between_countries(spark: SparkSession) -> None:
    u = staging_row(golden_user(0))  # Australia
    moved = dict(u, country="Norway", nat="NO")
    msgs = [
        ("k", envelope("c", None, u, NOON)),
        ("k", envelope("u", u, moved, NOON + 1000)),
        ("k", envelope("u", moved, dict(moved, city="Same country"), NOON + 2000)),
        ("k", envelope("d", moved, None, NOON + 3000)),
        ("k", None),
        ("k", "garbage"),
    ]
    facts = T.analytics_facts(T.parse_events(kafka_rows(spark, msgs))).collect()
    signups = [(f.country_code, f.signups) for f in facts if f.signups]
    assert signups == [("AU", 1)]
    presence: dict[str, int] = {}
    for f in facts:
        presence[f.country_code] = presence.get(f.country_code, 0) + f.presence
    assert presence == {"AU": 0, "NO": 0}
    assert {f.age_band for f in facts} <= set(T.AGE_BANDS)


def test_dead_letters_carry_reason_and_coordinates_and_no_credentials(spark: SparkSession) -> None:
    msgs = [
        (
            "k1",
            json.dumps(
                {
                    "op": "c",
                    "after": {
                        "user_id": "x",
                        "login": {"password": "hunter2", "sha256": "abc", "Password_Hash": "pw3"},
                        "SSN": "287-56-2054",
                        "extra": {"id": {"name": "TFN", "value": 123456782}, "nino": "QQ 12 34 56 C"},
                        "username": "kept",
                    },
                }
            ),
        )
    ]
    events = T.parse_events(kafka_rows(spark, msgs, partition=2))
    (dl,) = T.dead_letters(events, F.lit(41)).collect()
    assert dl.key == "k1"
    v = json.loads(dl.value)
    assert v["reason"] == "missing source.ts_ms"
    assert (v["source_topic"], v["source_partition"], v["source_offset"], v["batch_id"]) == (TOPIC, 2, 0, 41)
    for secret in ("hunter2", '"abc"', "pw3", "287-56-2054", "123456782", "QQ 12 34 56 C"):
        assert secret not in v["value"], (secret, v["value"])
    original = json.loads(v["value"])  # still JSON, with what explains the failure
    assert original["after"]["login"]["sha256"] == "[removed]"
    assert original["after"]["extra"]["id"] == {"name": "TFN", "value": "[removed]"}
    assert original["after"]["username"] == "kept"


def test_a_user_with_only_an_id_is_derived_and_counted_under_unknown_keys(spark: SparkSession) -> None:
    """A record of an inc/exc-filtered request: every field but user_id may be null. The user is
    written with nulls, and counted in every analytics breakdown (ZZ, unknown), never dropped."""
    bare: dict[str, Any] = {f.name: None for f in T.STAGING_ROW.fields}
    bare.update(
        user_id="0000beef-1f70-40df-82fa-fc12a3c1b0f4",
        batch_id="7a8b9c07-be1a-80ad-9697-7234af8cd5d2",
        ingested_at="2026-06-15T11:59:59.000000Z",
        updated_at="2026-06-15T11:59:59.000000Z",
    )
    named = dict(bare, user_id="0000beef-1f70-40df-82fa-fc12a3c1b0f5", country="Turkey", gender="male")
    events = T.parse_events(
        kafka_rows(spark, [("a", envelope("c", None, bare, NOON)), ("b", envelope("c", None, named, NOON))])
    )
    assert [r.kind for r in events.collect()] == [T.VALID, T.VALID]
    rows = {r.user_id: r for r in T.derive_users(events).collect()}
    r = rows[bare["user_id"]]
    assert (r.full_name, r.gender, r.dob, r.age, r.age_band, r.email_domain, r.country_code, r.nat) == (
        None,
        None,
        None,
        None,
        "unknown",
        None,
        "ZZ",
        None,
    )
    assert rows[named["user_id"]].country_code == "TR"  # no nat: from the country's name
    facts = T.analytics_facts(events).collect()
    assert sorted((f.country_code, f.gender, f.age_band, f.signups, f.presence) for f in facts) == [
        ("TR", "male", "unknown", 1, 1),
        ("ZZ", "unknown", "unknown", 1, 1),
    ]


def test_grouping_ids_route_the_analytics_tables() -> None:
    # Spark's grouping_id(): one bit per GROUP BY column, set when the set leaves it out.
    assert T.grouping_id("minute", "country_code") == 0b0011
    assert T.grouping_id("country_code") == 0b1011
    assert len({T.COUNTRY_MINUTE, T.GENDER_MINUTE, T.AGE_BAND_MINUTE, T.COUNTRY}) == 4


def test_the_analytics_aggregation_gives_each_table_its_groups(spark: SparkSession) -> None:
    """The job's own aggregation (transforms.analytics_groups) on a static DataFrame: the gids
    it yields are the ones the sink routes on."""
    u, v = staging_row(golden_user(0)), staging_row(golden_user(1))
    msgs = [
        ("a", envelope("c", None, u, NOON, lsn=1)),
        ("b", envelope("c", None, v, NOON + 1000, lsn=2)),
    ]
    rows = T.analytics_groups(T.parse_events(kafka_rows(spark, msgs), T.ANALYTICS_ENVELOPE), "10 minutes").collect()
    by_gid: dict[int, list[Any]] = {}
    for r in rows:
        by_gid.setdefault(r.gid, []).append(r)
    assert sorted((r.country_code, r.signups) for r in by_gid[T.COUNTRY_MINUTE]) == [("AU", 1), ("BR", 1)]
    assert sorted((r.country_code, r.users) for r in by_gid[T.COUNTRY]) == [("AU", 1), ("BR", 1)]
    assert sorted((r.gender, r.signups) for r in by_gid[T.GENDER_MINUTE]) == [("female", 1), ("male", 1)]
    assert sum(r.signups for r in by_gid[T.AGE_BAND_MINUTE]) == 2


def test_analytics_statements_upsert_absolute_counts_per_table() -> None:
    minute = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
    groups: list[dict[str, Any]] = [
        {
            "gid": T.COUNTRY_MINUTE,
            "minute": minute,
            "country_code": "NO",
            "country": "Norway",
            "gender": None,
            "age_band": None,
            "signups": 3,
            "users": 3,
        },
        {
            "gid": T.GENDER_MINUTE,
            "minute": minute,
            "country_code": None,
            "country": None,
            "gender": "female",
            "age_band": None,
            "signups": 2,
            "users": 2,
        },
        {
            "gid": T.AGE_BAND_MINUTE,
            "minute": minute,
            "country_code": None,
            "country": None,
            "gender": None,
            "age_band": "unknown",
            "signups": 1,
            "users": 1,
        },
        {
            "gid": T.COUNTRY,
            "minute": None,
            "country_code": "ZZ",
            "country": None,
            "gender": None,
            "age_band": None,
            "signups": 1,
            "users": 4,
        },
        {
            "gid": T.COUNTRY_MINUTE,
            "minute": minute,
            "country_code": "SE",
            "country": "O'Land",
            "gender": None,
            "age_band": None,
            "signups": 0,
            "users": 0,
        },  # a move only: no signup to write
    ]
    statements = analytics_statements(groups, "ks")
    assert statements == [
        "BEGIN UNLOGGED BATCH\nINSERT INTO ks.signups_by_country_minute (day, minute, country_code, country, signups) "
        "VALUES ('2026-06-15', '2026-06-15 12:00:00+0000', 'NO', 'Norway', 3);\nAPPLY BATCH",
        "BEGIN UNLOGGED BATCH\nINSERT INTO ks.signups_by_gender_minute (day, minute, gender, signups) "
        "VALUES ('2026-06-15', '2026-06-15 12:00:00+0000', 'female', 2);\nAPPLY BATCH",
        "BEGIN UNLOGGED BATCH\nINSERT INTO ks.signups_by_age_band_minute (day, minute, age_band, signups) "
        "VALUES ('2026-06-15', '2026-06-15 12:00:00+0000', 'unknown', 1);\nAPPLY BATCH",
        "BEGIN UNLOGGED BATCH\nINSERT INTO ks.users_per_country (scope, country_code, country, users, updated_at) "
        "VALUES ('all', 'ZZ', null, 4, toTimestamp(now()));\nAPPLY BATCH",
    ]
    # Quotes are doubled, and a table's statements are batched 50 at a time.
    many = [dict(groups[0], country_code=f"C{i:03d}", country="O'Land") for i in range(120)]
    batches = analytics_statements(many, "ks")
    assert [b.count("INSERT") for b in batches] == [50, 50, 20]
    assert "'O''Land'" in batches[0]


def test_delete_statements_take_a_hundred_ids_each() -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(250)]
    statements = delete_statements(ids, "ks")
    assert [s.count(",") + 1 for s in statements] == [100, 100, 50]
    assert statements[2] == "DELETE FROM ks.users WHERE user_id IN (" + ", ".join(ids[200:]) + ")"


def test_the_streaming_analytics_keeps_absolute_counts_across_micro_batches(
    spark: SparkSession, tmp_path: Path
) -> None:
    """The streaming query itself (file source in place of Kafka), over three micro-batches: a
    later batch's update moves a user counted in an earlier one, and the counts the sink last
    received are the absolute ones. (Kafka Connect's resends never reach the job: it reads the
    topic read_committed, and Connect writes in transactions; the fault suite kills Connect.)"""
    schema = "key binary, value binary, topic string, partition int, offset long"
    users = [staging_row(golden_user(i)) for i in range(3)]
    creates = [(f"k{i}", envelope("c", None, u, NOON + i, lsn=100 + i)) for i, u in enumerate(users)]
    moved = dict(users[0], country="Norway", nat="NO")
    update = ("k0", envelope("u", users[0], moved, NOON + 10, lsn=200))
    fourth = ("k3", envelope("c", None, staging_row(golden_user(3)), NOON + 20, lsn=300))
    rounds = [creates[:2], [creates[2], update], [fourth]]

    latest: dict[tuple[Any, ...], tuple[int, int]] = {}

    def sink(groups: DataFrame, _batch_id: int) -> None:
        for r in groups.collect():  # update mode: absolute values of the groups that changed
            latest[(r.gid, r.minute, r.country_code, r.gender, r.age_band)] = (r.signups, r.users)

    source = tmp_path / "source"
    for messages in rounds:
        kafka_rows(spark, messages).coalesce(1).write.mode("append").parquet(str(source))
        stream = spark.readStream.schema(schema).parquet(str(source))
        q = (
            T.analytics_groups(T.parse_events(stream, T.ANALYTICS_ENVELOPE), "10 minutes")
            .writeStream.outputMode("update")
            .foreachBatch(sink)
            .option("checkpointLocation", str(tmp_path / "ckpt"))
            .trigger(availableNow=True)
            .start()
        )
        q.awaitTermination(120)
        assert q.exception() is None, q.exception()

    by_country = {k[2]: v[1] for k, v in latest.items() if k[0] == T.COUNTRY}
    signups = sum(v[0] for k, v in latest.items() if k[0] == T.COUNTRY_MINUTE)
    assert signups == 4
    assert sum(v[0] for k, v in latest.items() if k[0] == T.GENDER_MINUTE) == 4
    assert sum(by_country.values()) == 4
    assert by_country["NO"] == 1 and by_country["AU"] == 0  # users[0] moved from Australia


def test_processing_time_is_read_per_row_not_folded_into_the_plan(spark: SparkSession) -> None:
    # current_timestamp() becomes a literal of the batch's time in the optimised plan, hence in
    # the generated code: a new class to compile for every micro-batch. processing_time() must
    # leave the plan, and so the code, the same from one batch to the next.
    def plans(col: Column) -> list[str]:
        out = []
        for _ in range(2):
            time.sleep(0.01)
            p = spark.range(3).select(col.alias("t"))._jdf.queryExecution().optimizedPlan()
            out.append(re.sub(r"#\d+", "#", p.toString()))  # expression ids differ anyway
        return out

    folded = plans(F.current_timestamp())
    assert folded[0] != folded[1]  # the control: its literal moves with the clock
    per_row = plans(T.processing_time())
    assert per_row[0] == per_row[1]
    before = int(time.time() * 1000)
    got = spark.range(3).select(F.unix_millis(T.processing_time()).alias("t")).collect()
    after = int(time.time() * 1000)
    assert all(before <= r.t <= after for r in got)


def test_a_query_runs_its_batches_in_its_own_scheduler_pool(spark: SparkSession, tmp_path: Path) -> None:
    sc = spark.sparkContext
    seen: list[str | None] = []
    spark.range(2).write.parquet(str(tmp_path / "source"))
    stream = spark.readStream.schema("id long").parquet(str(tmp_path / "source"))
    writer = (
        stream.writeStream.foreachBatch(
            lambda df, _id: seen.append(df.sparkSession.sparkContext.getLocalProperty("spark.scheduler.pool"))
        )
        .option("checkpointLocation", str(tmp_path / "ckpt"))
        .trigger(availableNow=True)
    )
    q = start_in_pool(sc, "users", writer)
    q.awaitTermination(120)
    assert q.exception() is None, q.exception()
    assert seen and set(seen) == {"users"}
    assert sc.getLocalProperty("spark.scheduler.pool") is None  # the caller's thread is reset
