"""The job's Avro path on local DataFrames: change events in the Confluent wire format (magic
byte 0, 4-byte schema id, Avro body), written here with fastavro as Debezium's Avro converter
writes them, decoded by schema id into the same columns as the JSON path; dead letters in Avro.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from pathlib import Path
from typing import Any

import fastavro
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "pipeline/spark"))

from py4j.java_gateway import JavaPackage, JVMView  # noqa: E402
from pyspark.sql import DataFrame, Observation, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql.types import IntegerType, LongType  # noqa: E402
from test_transforms import TOPIC, envelope, golden_user, kafka_rows, local_session, staging_row  # noqa: E402

from streamflow_stream import transforms as T  # noqa: E402
from streamflow_stream.job import PINNED_JVM_NAMES, pin_jvm_names  # noqa: E402
from streamflow_stream.registry import RegistryError, unknown_schema_id, wait_for_registry  # noqa: E402

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    return local_session()


def avro_type(spark_type: Any) -> str:
    return "long" if isinstance(spark_type, LongType) else "int" if isinstance(spark_type, IntegerType) else "string"


def debezium_schema(drop: tuple[str, ...] = (), add: tuple[str, ...] = ()) -> dict[str, Any]:
    """staging.users' change events as Debezium's Avro converter describes them: the row as a
    record (user_id required, every other column optional), in a ["null", Value] union for
    before and after, the source block, op and ts_ms. `drop`/`add`: columns removed or added
    (nullable text) by a later migration."""
    fields: list[dict[str, Any]] = []
    for f in T.STAGING_ROW.fields:
        if f.name in drop:
            continue
        if f.name == "user_id":
            fields.append({"name": "user_id", "type": {"type": "string", "connect.name": "io.debezium.data.Uuid"}})
        else:
            fields.append({"name": f.name, "type": ["null", avro_type(f.dataType)], "default": None})
    fields += [{"name": name, "type": ["null", "string"], "default": None} for name in add]
    value = {"type": "record", "name": "Value", "namespace": "streamflow.staging.users", "fields": fields}
    source = {
        "type": "record",
        "name": "Source",
        "namespace": "io.debezium.connector.postgresql",
        "fields": [
            {"name": "version", "type": "string"},
            {"name": "connector", "type": "string"},
            {"name": "name", "type": "string"},
            {"name": "ts_ms", "type": "long"},
            {"name": "snapshot", "type": ["string", "null"], "default": "false"},
            {"name": "db", "type": "string"},
            {"name": "schema", "type": "string"},
            {"name": "table", "type": "string"},
            {"name": "txId", "type": ["null", "long"], "default": None},
            {"name": "lsn", "type": ["null", "long"], "default": None},
        ],
    }
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": "streamflow.staging.users",
        "fields": [
            {"name": "before", "type": ["null", value], "default": None},
            {"name": "after", "type": ["null", "Value"], "default": None},
            {"name": "source", "type": source},
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": ["null", "long"], "default": None},
        ],
    }


def encode(schema: dict[str, Any], schema_id: int, event: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), event)
    return T.confluent_header(schema_id) + buf.getvalue()


def change(
    schema: dict[str, Any], op: str, before: dict[str, Any] | None, after: dict[str, Any] | None, ts_ms: int = 1000
) -> dict[str, Any]:
    """A change event with the row images cut to the schema's columns."""
    value = schema["fields"][0]["type"][1]
    names = {f["name"] for f in value["fields"]}

    def cut(row: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if row is None else {k: v for k, v in row.items() if k in names}

    source = {"version": "3.7.0.Final", "connector": "postgresql", "name": "streamflow", "ts_ms": ts_ms}
    source |= {"snapshot": "false", "db": "streamflow", "schema": "staging", "table": "users", "txId": 7, "lsn": 1}
    return {"before": cut(before), "after": cut(after), "source": source, "op": op, "ts_ms": ts_ms}


def binary_rows(spark: SparkSession, messages: list[tuple[bytes | None, bytes | None]]) -> DataFrame:
    rows = [(k, v, TOPIC, 0, i) for i, (k, v) in enumerate(messages)]
    return spark.createDataFrame(rows, "key binary, value binary, topic string, partition int, offset long")


V1 = debezium_schema()
# A later migration: one nullable column added, one dropped.
V2 = debezium_schema(drop=("cell",), add=("nickname",))
WRITERS = T.AvroWriters({11: json.dumps(V1), 12: json.dumps(V2)}, frozenset({404}))


def test_an_avro_change_event_gives_the_same_columns_as_its_json(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    avro = T.parse_events(binary_rows(spark, [(b"k", encode(V1, 11, change(V1, "c", None, u)))]), avro=WRITERS)
    json_ = T.parse_events(kafka_rows(spark, [("k", envelope("c", None, u, 1000))]))
    columns = ["kind", "reason", "op", "user_id", "image", "before", "committed_at", "source_ts_ms", "lsn"]
    (a,) = avro.select(*columns).collect()
    (j,) = json_.select(*columns).collect()
    assert a == j
    assert a.kind == T.VALID and a.image.email == u["email"]
    # ... and the derived user is the same.
    assert T.derive_users(avro).collect() == T.derive_users(json_).collect()


def test_avro_kinds_and_reasons(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    good = encode(V1, 11, change(V1, "c", None, u))
    msgs: list[tuple[bytes | None, bytes | None]] = [
        (b"k", good),
        (b"k", None),  # tombstone after a delete
        (b"k", envelope("c", None, u, 1000).encode()),  # JSON: no magic byte
        (b"k", b"\x00\x00"),  # too short for a schema id
        (b"k", T.confluent_header(404) + good[5:]),  # an id the registry does not have
        (b"k", good[:40]),  # the body cut short
        (b"k", encode(V1, 11, change(V1, "x", None, u))),
        (b"k", encode(V1, 11, change(V1, "c", None, None))),
        (b"k", encode(V1, 11, change(V1, "d", None, None))),
        (b"k", encode(V1, 11, change(V1, "c", None, dict(u, user_id="not-a-uuid")))),
        (b"k", encode(V1, 11, change(V1, "c", None, dict(u, nat="usa")))),
        (b"k", encode(V1, 11, change(V1, "c", None, dict(u, dob="yesterday")))),
        (b"k", encode(V2, 12, change(V2, "u", u, dict(u, nickname="Ada")))),
    ]
    got = [
        (r.kind, r.reason) for r in T.parse_events(binary_rows(spark, msgs), avro=WRITERS).orderBy("offset").collect()
    ]
    narrow = T.parse_events(binary_rows(spark, msgs), T.ANALYTICS_ENVELOPE, WRITERS).orderBy("offset").collect()
    assert [(r.kind, r.reason) for r in narrow] == got
    not_framed = "value is not Avro in the Confluent wire format (magic byte 0, schema id)"
    assert got == [
        (T.VALID, None),
        (T.TOMBSTONE, None),
        (T.INVALID, not_framed),
        (T.INVALID, not_framed),
        (T.INVALID, "unknown schema id 404"),
        (T.INVALID, "value is not valid Avro for schema id 11"),
        (T.INVALID, "unknown op 'x'"),
        (T.INVALID, "op 'c' without after"),
        (T.INVALID, "op 'd' without before"),
        (T.INVALID, "user_id is not a uuid"),
        (T.INVALID, "nat is not a two-letter code"),
        (T.INVALID, "dob is not a timestamp"),
        (T.VALID, None),
    ]


def test_a_later_version_of_the_schema_is_read_into_the_same_columns(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    msgs: list[tuple[bytes | None, bytes | None]] = [
        (b"k", encode(V1, 11, change(V1, "c", None, u))),
        (b"k", encode(V2, 12, change(V2, "c", None, dict(u, nickname="Ada")))),
    ]
    rows = T.parse_events(binary_rows(spark, msgs), avro=WRITERS).orderBy("offset").collect()
    assert [r.kind for r in rows] == [T.VALID, T.VALID]
    assert rows[0].image.cell == u["cell"]
    assert rows[1].image.cell is None  # the column V2 dropped
    assert rows[1].image.email == u["email"]
    assert rows[0].image.asDict().keys() == rows[1].image.asDict().keys()


def test_a_schema_id_the_plan_does_not_know_stops_it_naming_the_id(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    msgs: list[tuple[bytes | None, bytes | None]] = [(b"k", encode(V1, 13, change(V1, "c", None, u)))]
    with pytest.raises(Exception) as raised:
        T.parse_events(binary_rows(spark, msgs), avro=WRITERS).collect()
    assert unknown_schema_id(raised.value) == 13
    # Once the registry has been asked, the same message decodes (or is a dead letter).
    learned = T.AvroWriters({**WRITERS.by_id, 13: json.dumps(V1)}, WRITERS.absent)
    (row,) = T.parse_events(binary_rows(spark, msgs), avro=learned).collect()
    assert row.kind == T.VALID
    gone = T.AvroWriters(WRITERS.by_id, WRITERS.absent | {13})
    (row,) = T.parse_events(binary_rows(spark, msgs), avro=gone).collect()
    assert (row.kind, row.reason) == (T.INVALID, "unknown schema id 13")


def test_avro_dead_letters_carry_reason_coordinates_and_original_bytes(spark: SparkSession) -> None:
    u = staging_row(golden_user())
    bad = encode(V1, 11, change(V1, "c", None, dict(u, user_id="not-a-uuid")))
    leaked = json.dumps({"op": "c", "after": {"user_id": "x", "login": {"password": "hunter2"}}}).encode()
    events = T.parse_events(binary_rows(spark, [(b"k1", bad), (b"k2", leaked)]), avro=WRITERS)
    letters = T.dead_letters(events, F.lit(41), avro_schema_id=7).orderBy("key").collect()
    schema = fastavro.parse_schema(json.loads(T.DEAD_LETTER_SCHEMA))
    decoded: list[dict[str, Any]] = []
    for dl in letters:
        assert bytes(dl.value[:5]) == T.confluent_header(7)
        record = fastavro.schemaless_reader(io.BytesIO(bytes(dl.value[5:])), schema, None)
        assert isinstance(record, dict)
        decoded.append(record)
    first, second = decoded
    assert bytes(letters[0].key) == b"k1" and first["key"] == b"k1"
    assert first["reason"] == "user_id is not a uuid"
    assert (first["source_topic"], first["source_partition"], first["source_offset"], first["batch_id"]) == (
        TOPIC,
        0,
        0,
        41,
    )
    assert first["value"] == bad  # the original bytes
    assert second["reason"] == "value is not Avro in the Confluent wire format (magic byte 0, schema id)"
    assert b"hunter2" not in second["value"]  # credentials never reach a second topic
    assert json.loads(second["value"])["after"]["login"]["password"] == "[removed]"


def test_a_users_batch_looks_up_no_jvm_class_by_name_once_the_names_are_pinned(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """py4j resolves a JVM class name by trying Class.forName through the gateway's imports and
    package by package, and PySpark looks names up on every column function, cast and
    observation. With PINNED_JVM_NAMES pinned, what the users sink does to a batch (Avro decode,
    observed counters, each user's last change, the derived rows) and its run look up none."""
    u = staging_row(golden_user())
    raw = binary_rows(spark, [(b"k", encode(V1, 11, change(V1, "c", None, u)))])
    pin_jvm_names(spark.sparkContext._jvm, PINNED_JVM_NAMES)
    looked_up: list[str] = []
    for cls in (JVMView, JavaPackage):

        def counting(self: Any, name: str, original: Any = cls.__getattr__) -> Any:
            looked_up.append(name)
            return original(self, name)

        monkeypatch.setattr(cls, "__getattr__", counting)
    events = T.parse_events(raw, T.users_envelope(), WRITERS)
    stats = Observation("pinned_names")
    observed = events.observe(stats, F.count(F.lit(1)).alias("events"))
    users = T.derive_users(T.latest_per_user(observed.filter(F.col("kind") == T.VALID)))
    assert [r.user_id for r in users.collect()] == [u["user_id"]]
    assert stats.get["events"] == 1
    assert looked_up == []


# ---- columns added to staging after the job was written (schema evolution) ----------------------


def with_columns(schema: dict[str, Any], columns: dict[str, Any]) -> dict[str, Any]:
    """`schema` with row columns of the given Avro types added (nullable, as Debezium writes a
    column that a migration added)."""
    out: dict[str, Any] = json.loads(json.dumps(schema))
    value = out["fields"][0]["type"][1]
    value["fields"] += [{"name": n, "type": ["null", t], "default": None} for n, t in columns.items()]
    return out


def test_derive_users_writes_the_columns_users_columns_names() -> None:
    spark = local_session()
    u = staging_row(golden_user())
    derived = T.derive_users(T.parse_events(kafka_rows(spark, [("k", envelope("c", None, u, 1000))])))
    assert derived.columns + ["processed_at"] == list(T.USER_COLUMNS)


def test_added_columns_are_carried_when_cassandra_has_them_and_never_secrets() -> None:
    v3 = with_columns(
        V2,
        {
            "loyalty_tier": "int",
            "id_hash": "string",
            "ssn": "string",
            "password_sha1": "string",
            "age": "int",
            "first_seen": {"type": "int", "connect.name": "io.debezium.time.Date"},
            "tags": {"type": "array", "items": "string"},
        },
    )
    added = T.added_columns(T.AvroWriters({11: json.dumps(V1), 12: json.dumps(V2), 13: json.dumps(v3)}))
    # id_hash is staging's own (never carried, not new); cell is dropped by V2 but still in
    # STAGING_ROW: neither is an added column.
    assert set(added) == {"nickname", "loyalty_tier", "ssn", "password_sha1", "age", "first_seen", "tags"}
    everything = set(added) | {"user_id"}
    carried, skipped = T.carried_columns(added, everything - {"loyalty_tier"})
    assert [c.name for c in carried] == ["first_seen", "nickname"]
    assert carried[0].connect_name == "io.debezium.time.Date"
    assert set(skipped) == {"loyalty_tier", "ssn", "password_sha1", "age", "tags"}
    assert "CQL migration" in skipped["loyalty_tier"]
    assert "never carried" in skipped["ssn"] and "never carried" in skipped["password_sha1"]
    assert "derives" in skipped["age"]
    assert "not carried" in skipped["tags"]
    # Nothing added: the users query parses what it always did.
    assert T.added_columns(T.AvroWriters({11: json.dumps(V1)})) == {}
    assert T.users_envelope(()) == T.ENVELOPE


def test_a_carried_column_reaches_the_users_rows_and_is_null_before_it_existed(spark: SparkSession) -> None:
    v3 = with_columns(V2, {"first_seen": {"type": "int", "connect.name": "io.debezium.time.Date"}})
    writers = T.AvroWriters({11: json.dumps(V1), 12: json.dumps(V2), 13: json.dumps(v3)})
    carried, _ = T.carried_columns(T.added_columns(writers), {"nickname", "first_seen"})
    a, b, c = (staging_row(golden_user()) for _ in range(3))
    b["user_id"], c["user_id"] = "0" * 8 + a["user_id"][8:], "1" * 8 + a["user_id"][8:]
    msgs: list[tuple[bytes | None, bytes | None]] = [
        (b"a", encode(V1, 11, change(V1, "c", None, a))),
        (b"b", encode(V2, 12, change(V2, "c", None, dict(b, nickname="Ada")))),
        (b"c", encode(v3, 13, change(v3, "c", None, dict(c, nickname="Bo", first_seen=20000)))),
    ]
    events = T.parse_events(binary_rows(spark, msgs), T.users_envelope(carried), writers)
    rows = {r.user_id: r for r in T.derive_users(events, carried).collect()}
    assert (rows[a["user_id"]].nickname, rows[a["user_id"]].first_seen) == (None, None)
    assert (rows[b["user_id"]].nickname, rows[b["user_id"]].first_seen) == ("Ada", None)
    assert rows[c["user_id"]].nickname == "Bo"
    assert str(rows[c["user_id"]].first_seen) == "2024-10-04"  # day 20000 after 1970-01-01
    assert rows[c["user_id"]].email == c["email"]


class FakeColumns:
    def __init__(self, columns: set[str]):
        self.columns = columns
        self.reads = 0

    def __call__(self) -> set[str]:
        self.reads += 1
        return set(self.columns)


def test_cassandra_columns_are_read_again_while_an_added_column_waits_for_its_cql_migration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from streamflow_stream.sinks import CarriedColumns

    now = [0.0]
    cql = FakeColumns({"user_id"})
    carried = CarriedColumns(cql, "ks", clock=lambda: now[0])
    writers = T.AvroWriters({11: json.dumps(V1), 12: json.dumps(V2)})
    assert carried.for_writers(writers) == ()
    assert "staging column nickname: not carried to ks.users" in capsys.readouterr().out
    assert carried.for_writers(writers) == () and cql.reads == 1  # not asked again at once
    cql.columns.add("nickname")  # the CQL migration
    now[0] += CarriedColumns.RECHECK_S
    assert [c.name for c in carried.for_writers(writers)] == ["nickname"]
    assert "staging column nickname: carried to ks.users" in capsys.readouterr().out
    now[0] += 100
    carried.for_writers(writers)
    assert cql.reads == 2  # nothing waits any more: no more reads until the schemas change


class RecordingStop(threading.Event):
    """A job's stop event whose waits return at once and are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


def test_the_job_asks_a_registry_that_does_not_answer_yet_again_every_2_s_at_most() -> None:
    """The registry starts beside the job: a wait that grows to 15 s kept a job from its Spark
    session for up to 15 s after the registry was up."""
    stop = RecordingStop()
    logged: list[str] = []
    asked: list[int] = []

    def load() -> None:
        asked.append(1)
        if len(asked) <= 6:
            raise RegistryError("did not answer GET /subjects/t-value/versions: Connection refused")

    assert wait_for_registry(load, "the schemas of t", stop, logged.append)
    assert len(asked) == 7 and stop.waits == [1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert all(line.startswith("waiting for the schema registry (the schemas of t): ") for line in logged)
    # A job that is stopping asks no more.
    stop = RecordingStop()
    stop.set()
    assert not wait_for_registry(load, "the schemas of t", stop, logged.append)
