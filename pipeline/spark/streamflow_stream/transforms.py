"""The pure core of the streaming job: Debezium envelope -> validated, derived user rows.

Every function here takes and returns DataFrames and does no I/O, so the tests run them on
local DataFrames with the golden vectors of tests/golden (the same cases the C++ decoder runs).
No Python UDFs: everything is a Spark SQL expression, so the JVM never has to call back into
Python for a row.

Input: rows as the Kafka source gives them (`key`, `value` as binary or string, `topic`,
`partition`, `offset`). A Debezium change event (schemaless JSON) looks like
`{"before": {...} | null, "after": {...} | null, "source": {"ts_ms": ..., "lsn": ...}, "op": "c"}`;
a tombstone (value null) follows every delete so that compaction can drop the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BinaryType,
    BooleanType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from .countries import ISO_BY_NAME

# staging.users as Debezium puts it on the wire (pipeline/sql/postgres/V001__staging.sql).
# Timestamps arrive as ISO-8601 strings and are cast here, not by the JSON reader, so that a
# malformed one is a reason in the dead-letter topic rather than a silent null.
STAGING_ROW = StructType(
    [
        StructField("user_id", StringType()),
        StructField("gender", StringType()),
        StructField("title", StringType()),
        StructField("first_name", StringType()),
        StructField("last_name", StringType()),
        StructField("street_number", LongType()),
        StructField("street_name", StringType()),
        StructField("city", StringType()),
        StructField("state", StringType()),
        StructField("country", StringType()),
        StructField("postcode", StringType()),
        StructField("latitude", StringType()),
        StructField("longitude", StringType()),
        StructField("tz_offset", StringType()),
        StructField("tz_description", StringType()),
        StructField("email", StringType()),
        StructField("username", StringType()),
        StructField("dob", StringType()),
        StructField("dob_age", IntegerType()),
        StructField("registered", StringType()),
        StructField("registered_age", IntegerType()),
        StructField("phone", StringType()),
        StructField("cell", StringType()),
        StructField("picture_large", StringType()),
        StructField("picture_medium", StringType()),
        StructField("picture_thumbnail", StringType()),
        StructField("nat", StringType()),
        StructField("batch_id", StringType()),
        StructField("ingested_at", StringType()),
        StructField("updated_at", StringType()),
        # Set only by housekeeping's purge (V002): such events are not changes of the user.
        StructField("purged_at", StringType()),
    ]
)


def envelope_schema(row: StructType) -> StructType:
    """A Debezium change event whose before/after images have the fields of `row`."""
    return StructType(
        [
            StructField("before", row),
            StructField("after", row),
            StructField(
                "source",
                StructType(
                    [
                        StructField("ts_ms", LongType()),
                        StructField("lsn", LongType()),
                        StructField("txId", LongType()),
                        StructField("snapshot", StringType()),
                        StructField("table", StringType()),
                    ]
                ),
            ),
            StructField("op", StringType()),
            StructField("ts_ms", LongType()),
            # The JSON reader puts a value it cannot parse here (columnNameOfCorruptRecord).
            StructField("_corrupt", StringType()),
        ]
    )


ENVELOPE = envelope_schema(STAGING_ROW)

# What validation and the analytics read: parsing only these is much cheaper, and gives the
# same valid/invalid verdicts (the checks read no other field). Only user_id is required: every
# other field may be null (a record of an inc/exc-filtered request, an older API version), and
# a field that is there must be well formed.
VALIDATED_FIELDS = ("user_id", "dob", "nat")
ANALYTICS_ROW = StructType(
    [f for f in STAGING_ROW.fields if f.name in VALIDATED_FIELDS + ("gender", "country", "purged_at")]
)
ANALYTICS_ENVELOPE = envelope_schema(ANALYTICS_ROW)

UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
NAT_RE = r"^[A-Z]{2}$"
UPSERT_OPS = ("c", "u", "r")  # create, update, snapshot read
AGE_BANDS = ("under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
UNKNOWN_BAND = "unknown"
# What the analytics count a user under when a key is unknown (never dropped): the gender and
# the age band "unknown", the country "ZZ" (the code CLDR gives an unknown region; ISO 3166
# leaves it to users).
UNKNOWN_GENDER = "unknown"
UNKNOWN_COUNTRY = "ZZ"

# Event kinds after parsing. A purge is housekeeping removing a row from staging that Cassandra
# already holds (the row is stamped with purged_at, then deleted): skipped, like a tombstone.
VALID, INVALID, TOMBSTONE, PURGE = "valid", "invalid", "tombstone", "purge"

# Credentials and national ids that a rogue producer might put on the topic: scrubbed from
# dead-letter copies so that they never reach a second topic. The same names as the ingest
# sanitiser's (src/model/sanitise.h), any case: credentials, the national-id names of every API
# version, a scalar `id`, and the `value` of an `id` object.
CREDENTIAL_NAMES = r"password[a-z0-9_]*|passwd|salt|md5|sha1|sha224|sha256|sha384|sha512|[a-z0-9_]+hash|hash"
NATIONAL_ID_NAMES = (
    r"ssn|tfn|cpf|sin|avs|svnr|cpr|dni|hetu|insee|nino|pps|uidai|nss|bsn|fn|sid|tc|sn"
    r"|national_id|nationalid|social_security_number|id"
)
_JSON_SCALAR = r'(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)'
_SECRET_JSON = rf'(?i)"({CREDENTIAL_NAMES}|{NATIONAL_ID_NAMES})"\s*:\s*{_JSON_SCALAR}'
_ID_VALUE_JSON = rf'(?i)("id"\s*:\s*\{{[^{{}}]*?"value"\s*:\s*){_JSON_SCALAR}'


def field_of(struct: str) -> Callable[[str], Column]:
    """The fields of a struct column: field_of("image")("email")."""

    def field(name: str) -> Column:
        return F.col(struct).getField(name)

    return field


def _text(col: Column) -> Column:
    return col.cast("string")


def _blank(col: Column) -> Column:
    return col.isNull() | (F.trim(col) == F.lit(""))


@dataclass(frozen=True)
class AvroWriters:
    """The writer schemas an Avro-reading plan knows, by the schema id on the wire (the
    registry's content id), and the ids the registry said it does not have. A message with an
    id in neither stops the batch (UNKNOWN_SCHEMA_ID in the error) so that the job can ask the
    registry and plan again: a new version of the schema is never taken for poison."""

    by_id: Mapping[int, str] = field(default_factory=dict)
    absent: frozenset[int] = frozenset()


# The error a plan raises for a schema id it does not know; the job reads the id back from it.
UNKNOWN_SCHEMA_ID = "streamflow-unknown-schema-id:"
UNKNOWN_SCHEMA_ID_RE = re.compile(re.escape(UNKNOWN_SCHEMA_ID) + r"(-?[0-9]+)")


def _named_record_defs(schema: Any, found: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Every record defined in a schema, by name and full name -> its definition."""
    found = {} if found is None else found
    if isinstance(schema, list):
        for branch in schema:
            _named_record_defs(branch, found)
    elif isinstance(schema, dict) and schema.get("type") == "record":
        found[schema["name"]] = schema
        if schema.get("namespace"):
            found[f"{schema['namespace']}.{schema['name']}"] = schema
        for f in schema.get("fields", []):
            _named_record_defs(f["type"], found)
    elif isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
        _named_record_defs(schema["type"], found)
    return found


def _avro_named_records(schema: Any) -> dict[str, set[str]]:
    """Every record defined in a schema, by name and full name -> its field names (a later
    field may refer to a record by name only, as Debezium's `after` refers to `Value`)."""
    return {name: {f["name"] for f in rec.get("fields", [])} for name, rec in _named_record_defs(schema).items()}


def _avro_record_fields(schema: Any, named: dict[str, set[str]]) -> set[str]:
    """The field names of a record schema, of the record in a ["null", record] union, or of a
    record named by reference."""
    if isinstance(schema, list):
        return set().union(*(_avro_record_fields(branch, named) for branch in schema))
    if isinstance(schema, str):
        return named.get(schema, set())
    if isinstance(schema, dict) and schema.get("type") == "record":
        return {f["name"] for f in schema.get("fields", [])}
    if isinstance(schema, dict):
        return _avro_record_fields(schema.get("type"), named)
    return set()


# ---- columns added to staging after STAGING_ROW (schema evolution) ------------------------------
# A nullable column added to staging.users by a later migration reaches the topic as a new
# version of the value schema. The Avro path carries such a column to Cassandra `users` as it is
# when that table has a column of the same name (a CQL migration adds it), converting Debezium's
# time types; the JSON path has no schema to learn it from and leaves it in staging.

# What derive_users writes (and the sink's processed_at): an added staging column of one of
# these names would clash with a derived value, so it is not carried.
USER_COLUMNS = (
    "user_id",
    "gender",
    "title",
    "first_name",
    "last_name",
    "full_name",
    "street_number",
    "street_name",
    "city",
    "state",
    "country",
    "country_code",
    "postcode",
    "latitude",
    "longitude",
    "tz_offset",
    "tz_description",
    "email",
    "email_domain",
    "username",
    "dob",
    "age",
    "age_band",
    "registered",
    "phone",
    "cell",
    "picture_large",
    "picture_medium",
    "picture_thumbnail",
    "nat",
    "ingested_at",
    "committed_at",
    "processed_at",
)
# Staging columns that are not in STAGING_ROW on purpose and are never carried: the national
# id's hash and name (nothing downstream of staging needs them). A column added later with the
# name of a credential or national id is not carried either.
STAGING_ONLY = frozenset({"id_hash", "id_name"})
_SECRET_NAME = re.compile(rf"(?i)^(?:{CREDENTIAL_NAMES}|{NATIONAL_ID_NAMES})$")
_AVRO_PRIMITIVES: dict[str, DataType] = {
    "string": StringType(),
    "int": IntegerType(),
    "long": LongType(),
    "boolean": BooleanType(),
    "float": FloatType(),
    "double": DoubleType(),
    "bytes": BinaryType(),
}


def utc_timestamp(text: Column) -> Column:
    """ISO-8601 text as a timestamp; null when it is not one. Debezium writes timestamptz
    columns in UTC with a trailing Z (io.debezium.time.ZonedTimestamp): that Z is cut and the
    rest read in the session's zone, which is UTC. Casting text that names its zone makes Spark
    3.5 compile a regular expression per row (getZoneId's replaceFirst), which was 6% of the
    job's CPU. Other zones and offsets are cast as they are."""
    return F.when(text.endswith("Z"), text.substr(F.lit(1), F.length(text) - 1).cast("timestamp")).otherwise(
        text.cast("timestamp")
    )


# Debezium's time types as they are on the wire -> a Spark timestamp or date.
_DEBEZIUM_TIME: dict[str, Callable[[Column], Column]] = {
    "io.debezium.time.ZonedTimestamp": utc_timestamp,
    "io.debezium.time.Timestamp": F.timestamp_millis,
    "io.debezium.time.MicroTimestamp": F.timestamp_micros,
    "io.debezium.time.Date": F.date_from_unix_date,
}


@dataclass(frozen=True)
class AddedColumn:
    """A staging column that the writer schemas have and STAGING_ROW has not."""

    name: str
    decoded: DataType  # what from_avro gives for it
    connect_name: str | None = None  # Debezium's semantic type, if any

    def value(self, col: Column) -> Column:
        """The value as written to Cassandra: Debezium's time types as timestamps and dates,
        everything else as decoded (the connector converts to the CQL column's type)."""
        convert = _DEBEZIUM_TIME.get(self.connect_name or "")
        return convert(col) if convert else col


def _row_fields(writer: str) -> dict[str, Any]:
    """The row record's fields (the `after` image's) of an envelope schema: name -> Avro type."""
    top = json.loads(writer)
    named = _named_record_defs(top)
    after = next((f["type"] for f in top.get("fields", []) if f["name"] == "after"), None)
    for branch in after if isinstance(after, list) else [after]:
        record = named.get(branch) if isinstance(branch, str) else branch
        if isinstance(record, dict) and record.get("type") == "record":
            return {f["name"]: f["type"] for f in record.get("fields", [])}
    return {}


def _added_column(name: str, avro_type: Any) -> AddedColumn | str:
    """The column's decoded type, or why it is not carried."""
    if isinstance(avro_type, list):
        branches = [b for b in avro_type if b != "null"]
        if len(branches) != 1:
            return f"its Avro type {json.dumps(avro_type)} is a union"
        avro_type = branches[0]
    spec = avro_type if isinstance(avro_type, dict) else {"type": avro_type}
    base = spec.get("type")
    if spec.get("logicalType") == "decimal" and base == "bytes":
        precision, scale = int(spec.get("precision", 0)), int(spec.get("scale", 0))
        if 0 < precision <= 38:
            return AddedColumn(name, DecimalType(precision, scale))
        return "a decimal without a precision (numeric without one) is not carried"
    if not isinstance(base, str) or base not in _AVRO_PRIMITIVES:
        return f"its Avro type {json.dumps(avro_type)} is not carried (only primitive types)"
    return AddedColumn(name, _AVRO_PRIMITIVES[base], spec.get("connect.name"))


def added_columns(writers: AvroWriters) -> dict[str, AddedColumn | str]:
    """The row columns of the writer schemas beyond STAGING_ROW, each with its type as the
    newest writer that has it gives it, or why it cannot be carried."""
    known = set(STAGING_ROW.fieldNames()) | STAGING_ONLY
    out: dict[str, AddedColumn | str] = {}
    for schema_id in sorted(writers.by_id):
        for name, avro_type in _row_fields(writers.by_id[schema_id]).items():
            if name not in known:
                out[name] = _added_column(name, avro_type)
    return out


def carried_columns(
    added: Mapping[str, AddedColumn | str], cassandra_columns: set[str]
) -> tuple[tuple[AddedColumn, ...], dict[str, str]]:
    """Which added columns go to Cassandra `users` (in name order), and why each other does not."""
    carried: list[AddedColumn] = []
    skipped: dict[str, str] = {}
    for name in sorted(added):
        column = added[name]
        if _SECRET_NAME.match(name):
            skipped[name] = "a national id or credential column is never carried"
        elif name in USER_COLUMNS:
            skipped[name] = "the job derives a users column of that name"
        elif isinstance(column, str):
            skipped[name] = column
        elif name not in cassandra_columns:
            skipped[name] = "Cassandra users has no column of that name (a CQL migration adds it)"
        else:
            carried.append(column)
    return tuple(carried), skipped


def users_envelope(carried: tuple[AddedColumn, ...] = ()) -> StructType:
    """The envelope the users query parses: STAGING_ROW and the carried columns."""
    if not carried:
        return ENVELOPE
    return envelope_schema(StructType(STAGING_ROW.fields + [StructField(c.name, c.decoded) for c in carried]))


def _project(struct: Column, present: set[str], target: StructType) -> Column:
    """`struct` as a struct of `target`'s fields and types: a field the writer did not have is
    null (a column added later), one it had is cast (the registry refuses type changes that
    would not cast)."""
    fields = [
        (struct.getField(f.name) if f.name in present else F.lit(None)).cast(f.dataType).alias(f.name)
        for f in target.fields
    ]
    return F.when(struct.isNull(), F.lit(None)).otherwise(F.struct(*fields))


def _normalised_envelope(decoded: Column, writer: str, envelope: StructType) -> Column:
    """A Debezium envelope decoded with its writer's schema, in the shape of `envelope` (the
    JSON path's), so that everything after the decoding is the same for both formats."""
    top = json.loads(writer)
    named = _avro_named_records(top)
    fields = {f["name"]: f["type"] for f in top.get("fields", [])}
    out: list[Column] = []
    for f in envelope.fields:
        if f.name == "_corrupt":
            out.append(F.lit(None).cast(f.dataType).alias(f.name))
        elif f.name not in fields:
            out.append(F.lit(None).cast(f.dataType).alias(f.name))
        elif isinstance(f.dataType, StructType):
            present = _avro_record_fields(fields[f.name], named)
            out.append(_project(decoded.getField(f.name), present, f.dataType).alias(f.name))
        else:
            out.append(decoded.getField(f.name).cast(f.dataType).alias(f.name))
    # from_avro in PERMISSIVE mode gives a record of nulls, not a null, for bytes it cannot
    # decode; a change event always has a source block and an op.
    anything = F.lit(False)
    for name in fields:
        anything = anything | decoded.getField(name).isNotNull()
    return F.when(decoded.isNull() | ~anything, F.lit(None)).otherwise(F.struct(*out))


def _schema_id(value: Column) -> Column:
    """The 4-byte big-endian schema id after the magic byte."""
    return F.conv(F.hex(F.substring(value, 2, 4)), 16, 10).cast("long")


def _unpack_json(df: DataFrame, schema: StructType) -> DataFrame:
    env = F.from_json(
        F.col("value_text"),
        schema,
        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"},
    )
    # explode(array(x)) is an optimisation barrier: without it Spark's optimiser inlines the
    # parse into every one of the ~70 expressions that read a field, and parses each message
    # that many times (measured: 220k events took 61 s instead of 9 s).
    df = df.select("*", F.explode(F.array(env)).alias("env"))
    unparsed = F.col("env").isNull() | F.col("env._corrupt").isNotNull()
    return df.withColumn("_unparsed", F.when(unparsed, F.lit("value is not a JSON object")))


def _unpack_avro(df: DataFrame, schema: StructType, writers: AvroWriters) -> DataFrame:
    """Confluent wire format: magic byte 0, the schema id (4 bytes, big-endian), the Avro body.
    Each message is decoded with the schema it was written with, then brought to one shape."""
    from pyspark.sql.avro.functions import from_avro

    value = F.col("value")
    framed = (F.length(value) >= 5) & (F.substring(value, 1, 1) == F.lit(bytearray(b"\x00")))
    schema_id = F.when(framed, _schema_id(value))
    body = F.expr("substring(value, 6)")
    env: Column = F.lit(None).cast(schema)
    known = sorted(writers.by_id)
    df = df.withColumn("schema_id", schema_id)
    if known:
        # Each message decoded once, into the column of its id, behind the barrier: the
        # normalisation below reads the decoded record some forty times, and Spark does not
        # share a subexpression between the branches of a CASE (measured: 15x the JSON path's
        # time when from_avro sat inside it).
        decoded = F.struct(
            *[
                F.when(
                    F.col("schema_id") == known_id, from_avro(body, writers.by_id[known_id], {"mode": "PERMISSIVE"})
                ).alias(f"w{known_id}")
                for known_id in known
            ]
        )
        df = df.select("*", F.explode(F.array(decoded)).alias("_decoded"))
    cases: Column | None = None
    for known_id in known:
        writer = writers.by_id[known_id]
        normalised = _normalised_envelope(F.col("_decoded").getField(f"w{known_id}"), writer, schema)
        this_id = F.col("schema_id") == known_id
        cases = F.when(this_id, normalised) if cases is None else cases.when(this_id, normalised)
    if cases is not None:
        env = cases
    # The barrier again (see _unpack_json): one normalisation per message.
    df = df.select("*", F.explode(F.array(env)).alias("env"))
    sid = F.col("schema_id")
    sid_text = sid.cast("string")
    unparsed = (
        F.when(~framed, F.lit("value is not Avro in the Confluent wire format (magic byte 0, schema id)"))
        .when(
            sid.isin(*known) & F.col("env").isNull(),
            F.concat(F.lit("value is not valid Avro for schema id "), sid_text),
        )
        .when(sid.isin(*known), F.lit(None).cast("string"))
        .when(sid.isin(*sorted(writers.absent)), F.concat(F.lit("unknown schema id "), sid_text))
        .otherwise(F.raise_error(F.concat(F.lit(UNKNOWN_SCHEMA_ID), sid_text)).cast("string"))
    )
    return df.withColumn("_unparsed", F.when(value.isNotNull(), unparsed))


def parse_events(raw: DataFrame, schema: StructType = ENVELOPE, avro: AvroWriters | None = None) -> DataFrame:
    """Unpacks the envelope (schemaless JSON, or Avro when `avro` gives the writer schemas) and
    classifies every message as valid, invalid (with a reason), a tombstone or a purge. Keeps
    the source coordinates (topic, partition, offset) and the original bytes for the
    dead-letter topic.

    Output columns: topic, partition, offset, key, value (the original bytes), value_text
    (JSON only), kind, reason, op, image (after for c/u/r, before for d), before, after,
    committed_at (commit time, timestamp), source_ts_ms, lsn.
    """
    df = raw.select(
        F.col("topic"),
        F.col("partition"),
        F.col("offset"),
        F.col("key"),
        F.col("value"),
        (_text(F.col("value")) if avro is None else F.lit(None).cast("string")).alias("value_text"),
    )
    df = _unpack_json(df, schema) if avro is None else _unpack_avro(df, schema, avro)
    op = F.col("env.op")
    image = F.when(op == "d", F.col("env.before")).otherwise(F.col("env.after"))
    df = df.select(
        "topic",
        "partition",
        "offset",
        "key",
        "value",
        "value_text",
        op.alias("op"),
        image.alias("image"),
        F.col("env.before").alias("before"),
        F.col("env.after").alias("after"),
        F.col("env.source.ts_ms").alias("source_ts_ms"),
        F.col("env.source.lsn").alias("lsn"),
        F.col("_unparsed"),
    )
    upsert = F.col("op").isin(*UPSERT_OPS)
    img = field_of("image")
    checks: list[tuple[Column, Column]] = [
        (F.col("_unparsed").isNotNull(), F.col("_unparsed")),
        (F.col("op").isNull(), F.lit("not a Debezium change event: no op")),
        (
            ~F.col("op").isin(*UPSERT_OPS, "d"),
            F.concat(F.lit("unknown op '"), F.col("op"), F.lit("'")),
        ),
        (upsert & F.col("after").isNull(), F.concat(F.lit("op '"), F.col("op"), F.lit("' without after"))),
        ((F.col("op") == "d") & F.col("before").isNull(), F.lit("op 'd' without before")),
        (F.col("source_ts_ms").isNull(), F.lit("missing source.ts_ms")),
        (_blank(img("user_id")), F.lit("missing user_id")),
        (~F.lower(img("user_id")).rlike(UUID_RE), F.lit("user_id is not a uuid")),
    ]
    checks += [
        (upsert & img("dob").isNotNull() & utc_timestamp(img("dob")).isNull(), F.lit("dob is not a timestamp")),
        (upsert & img("nat").isNotNull() & ~img("nat").rlike(NAT_RE), F.lit("nat is not a two-letter code")),
    ]
    reason: Column | None = None
    for cond, why in checks:
        reason = F.when(cond, why) if reason is None else reason.when(cond, why)
    assert reason is not None
    df = df.withColumn(
        "kind",
        F.when(F.col("value").isNull(), F.lit(TOMBSTONE))
        .when(reason.isNotNull(), F.lit(INVALID))
        .when(img("purged_at").isNotNull(), F.lit(PURGE))
        .otherwise(F.lit(VALID)),
    )
    df = df.withColumn("reason", F.when(F.col("kind") == INVALID, reason).otherwise(F.lit(None).cast("string")))
    return (
        df.withColumn("user_id", F.lower(img("user_id")))
        .withColumn("committed_at", F.timestamp_millis(F.col("source_ts_ms")))
        .drop("_unparsed")
    )


def country_code(country: Column, nat: Column) -> Column:
    """ISO 3166-1 alpha-2 from what is present: the nationality, else the country's name, else
    UNKNOWN_COUNTRY (so that every user is counted somewhere)."""
    mapping = F.create_map(*[F.lit(x) for kv in sorted(ISO_BY_NAME.items()) for x in kv])
    return F.coalesce(nat, mapping[F.lower(F.trim(country))], F.lit(UNKNOWN_COUNTRY))


def full_name(first: Column, last: Column) -> Column:
    """First and last name joined; null when the record has neither."""
    joined = F.concat_ws(" ", first, last)
    return F.when(joined != "", joined)


def _instant_in_year(ts: Column) -> Column:
    """Month, day and time of day as one number that orders like the instant within its year
    (integer arithmetic: formatting dates as text per row is several times slower)."""
    millis_of_second = F.pmod(F.unix_millis(ts), F.lit(1000))  # pmod: right before 1970 too
    day_hour = (F.month(ts) * 100 + F.dayofmonth(ts)) * 100 + F.hour(ts)  # fits an int
    return (
        day_hour.cast("long") * 10_000_000 + (F.minute(ts) * 60 + F.second(ts)).cast("long") * 1000 + millis_of_second
    )


def age_at(dob: Column, at: Column) -> Column:
    """Whole years from `dob` to `at` (UTC): the birthday counts from its exact instant.
    Null when dob is after `at`."""
    years = F.year(at) - F.year(dob)
    age = years - F.when(_instant_in_year(at) < _instant_in_year(dob), 1).otherwise(0)
    return F.when(age >= 0, age).otherwise(F.lit(None)).cast("int")


def age_band(age: Column) -> Column:
    return (
        F.when(age.isNull(), F.lit(UNKNOWN_BAND))
        .when(age < 18, F.lit(AGE_BANDS[0]))
        .when(age < 25, F.lit(AGE_BANDS[1]))
        .when(age < 35, F.lit(AGE_BANDS[2]))
        .when(age < 45, F.lit(AGE_BANDS[3]))
        .when(age < 55, F.lit(AGE_BANDS[4]))
        .when(age < 65, F.lit(AGE_BANDS[5]))
        .otherwise(F.lit(AGE_BANDS[6]))
    )


def email_domain(email: Column) -> Column:
    domain = F.lower(F.substring_index(email, "@", -1))
    return F.when(email.contains("@") & (domain != ""), domain)


def coordinate(text: Column, limit: float) -> Column:
    value = F.trim(text).cast("double")
    return F.when(F.abs(value) <= limit, value)


def derive_users(events: DataFrame, carried: tuple[AddedColumn, ...] = ()) -> DataFrame:
    """Valid create/update/read events -> rows of Cassandra `users` (pipeline/cql/V001), with
    the `carried` added columns (parsed with users_envelope(carried)).

    The image is the row after the change. `processed_at` is left to the sink (processing_time())."""
    image = field_of("image")
    dob = utc_timestamp(image("dob"))
    age = age_at(dob, F.col("committed_at"))

    def kept(*names: str) -> list[Column]:
        """Columns copied from the image as they are."""
        return [image(name).alias(name) for name in names]

    return events.select(
        F.col("user_id"),
        *kept("gender", "title", "first_name", "last_name"),
        full_name(image("first_name"), image("last_name")).alias("full_name"),
        *kept("street_number", "street_name", "city", "state", "country"),
        country_code(image("country"), image("nat")).alias("country_code"),
        *kept("postcode"),
        coordinate(image("latitude"), 90.0).alias("latitude"),
        coordinate(image("longitude"), 180.0).alias("longitude"),
        *kept("tz_offset", "tz_description", "email"),
        email_domain(image("email")).alias("email_domain"),
        *kept("username"),
        dob.alias("dob"),
        age.alias("age"),
        age_band(age).alias("age_band"),
        utc_timestamp(image("registered")).alias("registered"),
        *kept("phone", "cell", "picture_large", "picture_medium", "picture_thumbnail", "nat"),
        utc_timestamp(image("ingested_at")).alias("ingested_at"),
        F.col("committed_at"),
        *[c.value(image(c.name)).alias(c.name) for c in carried],
    )


def processing_time() -> Column:
    """The time a row is processed (written), per row.

    Not current_timestamp(): Spark folds that into a literal per micro-batch, and a literal
    timestamp is inlined into the generated Java code, so every batch compiled its write stage
    anew and ran it in the JVM's interpreter before the JIT caught up (seen in the JVM's
    class-loading log: a new GeneratedIteratorForCodegenStage class for every users batch)."""
    millis = F.expr("reflect('java.lang.System', 'currentTimeMillis')").cast("long")
    return F.timestamp_millis(millis)


def latest_per_user(events: DataFrame) -> DataFrame:
    """The last valid change of each user in a micro-batch. A user's changes share a Kafka key,
    hence a partition, so the offset orders them."""
    last = F.max_by(F.struct(*[F.col(c) for c in events.columns]), F.col("offset"))
    return events.groupBy("user_id").agg(last.alias("e")).select("e.*")


def scrub_secrets(text: Column) -> Column:
    """JSON text with the value of every credential and national-id field replaced by
    "[removed]", at any depth (a dead letter keeps why it failed, not what it must not keep)."""
    ids = F.regexp_replace(text, _ID_VALUE_JSON, '$1"[removed]"')
    return F.regexp_replace(ids, _SECRET_JSON, '"$1":"[removed]"')


# The dead-letter topic's records in Avro, registered under <dlq topic>-value by the job.
DEAD_LETTER_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "DeadLetter",
        "namespace": "io.streamflow",
        "doc": "A change event the streaming job could not use: why, where it came from, its bytes.",
        "fields": [
            {"name": "reason", "type": ["null", "string"], "default": None},
            {"name": "source_topic", "type": ["null", "string"], "default": None},
            {"name": "source_partition", "type": ["null", "int"], "default": None},
            {"name": "source_offset", "type": ["null", "long"], "default": None},
            {"name": "key", "type": ["null", "bytes"], "default": None},
            {"name": "value", "type": ["null", "bytes"], "default": None},
            {"name": "failed_at", "type": ["null", "string"], "default": None},
            {"name": "batch_id", "type": ["null", "long"], "default": None},
        ],
    },
    separators=(",", ":"),
)


def confluent_header(schema_id: int) -> bytes:
    """Magic byte 0 and the 4-byte big-endian schema id that precede an Avro body."""
    return b"\x00" + schema_id.to_bytes(4, "big")


def dead_letters(events: DataFrame, batch_id: Column | None = None, avro_schema_id: int | None = None) -> DataFrame:
    """Invalid events as dead-letter records: the original key, and a value with the reason,
    the source coordinates and the original value (credentials scrubbed). JSON, or Avro with
    the registered DEAD_LETTER_SCHEMA when `avro_schema_id` is its id."""
    failed_at = F.date_format(F.current_timestamp(), "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").alias("failed_at")
    batch = (batch_id if batch_id is not None else F.lit(None)).cast("long").alias("batch_id")
    invalid = events.filter(F.col("kind") == INVALID)
    if avro_schema_id is None:
        payload = F.struct(
            F.col("reason"),
            F.col("topic").alias("source_topic"),
            F.col("partition").alias("source_partition"),
            F.col("offset").alias("source_offset"),
            scrub_secrets(F.col("value_text")).alias("value"),
            failed_at,
            batch,
        )
        return invalid.select(_text(F.col("key")).alias("key"), F.to_json(payload).alias("value"))

    from pyspark.sql.avro.functions import to_avro

    original = F.col("value").cast("binary")
    text = original.cast("string")
    # The original bytes, unless they hold a credential or national id in text form.
    secret = text.rlike(_SECRET_JSON) | text.rlike(_ID_VALUE_JSON)
    kept = F.when(secret, scrub_secrets(text).cast("binary")).otherwise(original)
    payload = F.struct(
        F.col("reason"),
        F.col("topic").alias("source_topic"),
        F.col("partition").cast("int").alias("source_partition"),
        F.col("offset").cast("long").alias("source_offset"),
        F.col("key").cast("binary").alias("key"),
        kept.alias("value"),
        failed_at,
        batch,
    )
    header = F.lit(bytearray(confluent_header(avro_schema_id)))
    return invalid.select(
        F.col("key").cast("binary").alias("key"), F.concat(header, to_avro(payload, DEAD_LETTER_SCHEMA)).alias("value")
    )


def analytics_facts(events: DataFrame, keep: tuple[str, ...] = ()) -> DataFrame:
    """One fact per effect a valid change has on the analytics.

    A create or snapshot read is a signup (counted in its commit minute) and adds one user to its
    country; an update moves a user between countries (minus one before, plus one after, which
    nets to zero when the country is unchanged); a delete removes one. Columns: committed_at,
    country_code, country, gender, age_band, signups, presence, and the `keep` columns as they
    are (a column that carries a watermark keeps it)."""
    valid = events.filter(F.col("kind") == VALID)

    # Each image's keys computed once, as columns: building them inside the fact structs below
    # repeats them per branch and makes Spark's generated code too large to compile.
    def keys(img: str) -> list[Column]:
        r = field_of(img)
        return [
            country_code(r("country"), r("nat")).alias(f"{img}_cc"),
            r("country").alias(f"{img}_country"),
            F.coalesce(r("gender"), F.lit(UNKNOWN_GENDER)).alias(f"{img}_gender"),
            age_band(age_at(utc_timestamp(r("dob")), F.col("committed_at"))).alias(f"{img}_band"),
        ]

    valid = valid.select(
        *keep, "op", "committed_at", F.col("before").isNotNull().alias("has_before"), *keys("before"), *keys("after")
    )

    def side(img: str, signup: int, presence: int) -> Column:
        return F.struct(
            F.col(f"{img}_cc").alias("country_code"),
            F.col(f"{img}_country").alias("country"),
            F.col(f"{img}_gender").alias("gender"),
            F.col(f"{img}_band").alias("age_band"),
            F.lit(signup).cast("long").alias("signups"),
            F.lit(presence).cast("long").alias("presence"),
        )

    op = F.col("op")
    facts = (
        F.when(op.isin("c", "r"), F.array(side("after", 1, 1)))
        .when((op == "u") & ~F.col("has_before"), F.array(side("after", 0, 0)))
        .when(op == "u", F.array(side("before", 0, -1), side("after", 0, 1)))
        .otherwise(F.array(side("before", 0, -1)))
    )
    # An update without its before image (REPLICA IDENTITY not FULL) cannot say what it moved
    # from: it changes nothing. Every key has a value (unknown ones are counted as such).
    return valid.select(*keep, F.col("committed_at"), F.explode(facts).alias("f")).select(*keep, "committed_at", "f.*")


# The grouping sets of the analytics tables, in GROUP BY order: a grouping_id() bit is set for
# each of these the set leaves out.
GROUP_COLUMNS = ("minute", "country_code", "gender", "age_band")


def grouping_id(*grouped: str) -> int:
    """Spark's grouping_id() for a grouping set over GROUP_COLUMNS: bit set = not grouped."""
    gid = 0
    for col in GROUP_COLUMNS:
        gid = (gid << 1) | (0 if col in grouped else 1)
    return gid


# Which analytics table each grouping set feeds.
COUNTRY_MINUTE = grouping_id("minute", "country_code")
GENDER_MINUTE = grouping_id("minute", "gender")
AGE_BAND_MINUTE = grouping_id("minute", "age_band")
COUNTRY = grouping_id("country_code")


def analytics_groups(events: DataFrame, watermark: str) -> DataFrame:
    """The aggregation behind the analytics tables: signups per commit minute by country, gender
    and age band, and current users per country, in one stateful aggregation (grouping sets).
    On a stream, the watermark on the minute lets Spark drop a minute's state once no event can
    reach it any more, and the checkpointed state makes a replayed batch recount to the same
    absolute values; on a static DataFrame (the tests) it is the same aggregation, once.

    Each change is counted as it comes: Kafka Connect writes the changes in transactions with
    its offsets, and the job reads only committed ones, so a restarted task's resend never
    reaches it (a de-duplication here kept every change's key for twice the watermark and
    scanned them all every batch: a fifth of the job's CPU at half the sustained rate).

    Columns: minute, country_code, gender, age_band (null where the set leaves them out),
    country, signups, users, gid (grouping_id(), which says the set)."""
    # Only what the facts read: the aggregation's shuffle carries these columns, not the whole
    # message (its bytes, key, coordinates and `image`).
    valid = (
        events.filter(F.col("kind") == VALID)
        .select("kind", "user_id", "op", "committed_at", "before", "after")
        .withColumn("minute", F.date_trunc("minute", F.col("committed_at")))
        .withWatermark("minute", watermark)
    )
    facts = analytics_facts(valid, keep=("minute",))
    # GROUPING SETS has no DataFrame form before Spark 4: the statement reads a view of `facts`
    # named after the DataFrame, unique within the session.
    view = f"streamflow_facts_{id(facts)}"
    facts.createOrReplaceTempView(view)
    return facts.sparkSession.sql(
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
