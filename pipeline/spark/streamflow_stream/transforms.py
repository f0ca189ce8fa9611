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

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
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


def parse_events(raw: DataFrame, schema: StructType = ENVELOPE) -> DataFrame:
    """Unpacks the envelope and classifies every message as valid, invalid (with a reason), a
    tombstone or a purge. Keeps the source coordinates (topic, partition, offset) for the dead-letter topic.

    Output columns: topic, partition, offset, key_text, value_text, kind, reason, op, image
    (after for c/u/r, before for d), before, after, committed_at (commit time, timestamp),
    source_ts_ms, lsn.
    """
    df = raw.select(
        F.col("topic"),
        F.col("partition"),
        F.col("offset"),
        _text(F.col("key")).alias("key_text"),
        _text(F.col("value")).alias("value_text"),
    )
    env = F.from_json(
        F.col("value_text"),
        schema,
        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"},
    )
    # explode(array(x)) is an optimisation barrier: without it Spark's optimiser inlines the
    # parse into every one of the ~70 expressions that read a field, and parses each message
    # that many times (measured: 220k events took 61 s instead of 9 s).
    df = df.select("*", F.explode(F.array(env)).alias("env"))
    op = F.col("env.op")
    image = F.when(op == "d", F.col("env.before")).otherwise(F.col("env.after"))
    df = df.select(
        "topic",
        "partition",
        "offset",
        "key_text",
        "value_text",
        op.alias("op"),
        image.alias("image"),
        F.col("env.before").alias("before"),
        F.col("env.after").alias("after"),
        F.col("env.source.ts_ms").alias("source_ts_ms"),
        F.col("env.source.lsn").alias("lsn"),
        (F.col("env").isNull() | F.col("env._corrupt").isNotNull()).alias("_unparsed"),
    )
    upsert = F.col("op").isin(*UPSERT_OPS)
    img = field_of("image")
    checks: list[tuple[Column, Column]] = [
        (F.col("_unparsed"), F.lit("value is not a JSON object")),
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
        (upsert & img("dob").isNotNull() & img("dob").cast("timestamp").isNull(), F.lit("dob is not a timestamp")),
        (upsert & img("nat").isNotNull() & ~img("nat").rlike(NAT_RE), F.lit("nat is not a two-letter code")),
    ]
    reason: Column | None = None
    for cond, why in checks:
        reason = F.when(cond, why) if reason is None else reason.when(cond, why)
    assert reason is not None
    df = df.withColumn(
        "kind",
        F.when(F.col("value_text").isNull(), F.lit(TOMBSTONE))
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


def derive_users(events: DataFrame) -> DataFrame:
    """Valid create/update/read events -> rows of Cassandra `users` (pipeline/cql/V001).

    The image is the row after the change. `processed_at` is left to the sink (processing_time())."""
    image = field_of("image")
    dob = image("dob").cast("timestamp")
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
        image("registered").cast("timestamp").alias("registered"),
        *kept("phone", "cell", "picture_large", "picture_medium", "picture_thumbnail", "nat"),
        image("ingested_at").cast("timestamp").alias("ingested_at"),
        F.col("committed_at"),
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


def dead_letters(events: DataFrame, batch_id: Column | None = None) -> DataFrame:
    """Invalid events as dead-letter records: the original key, and a JSON value with the reason,
    the source coordinates and the original value (credentials scrubbed)."""
    payload = F.struct(
        F.col("reason"),
        F.col("topic").alias("source_topic"),
        F.col("partition").alias("source_partition"),
        F.col("offset").alias("source_offset"),
        scrub_secrets(F.col("value_text")).alias("value"),
        F.date_format(F.current_timestamp(), "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").alias("failed_at"),
        (batch_id if batch_id is not None else F.lit(None).cast("long")).alias("batch_id"),
    )
    return events.filter(F.col("kind") == INVALID).select(
        F.col("key_text").alias("key"), F.to_json(payload).alias("value")
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
            age_band(age_at(r("dob").cast("timestamp"), F.col("committed_at"))).alias(f"{img}_band"),
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

    A change can also reach the topic twice: Kafka Connect (or Debezium after PostgreSQL
    restarted) re-sends what it sent after its last committed offset. Such a copy has the same
    WAL position, user and op, so the changes are de-duplicated on those, within the watermark,
    before they are counted.

    Columns: minute, country_code, gender, age_band (null where the set leaves them out),
    country, signups, users, gid (grouping_id(), which says the set)."""
    valid = (
        events.filter(F.col("kind") == VALID)
        .withColumn("minute", F.date_trunc("minute", F.col("committed_at")))
        .withWatermark("minute", watermark)
    )
    # Within the watermark on a stream; a static DataFrame is whole, so plainly.
    change = ["lsn", "user_id", "op"]
    valid = valid.dropDuplicatesWithinWatermark(change) if valid.isStreaming else valid.dropDuplicates(change)
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
