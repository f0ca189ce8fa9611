"""What the end-to-end and fault tests check on a running stack: the users on both sides, the
analytics totals, and the Kafka topics (through kcat)."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

from conftest import REPO, LocalStack, streamflow_bin

ANALYTICS_SIGNUP_TABLES = ("signups_by_country_minute", "signups_by_gender_minute", "signups_by_age_band_minute")


def staging_ids(stack: LocalStack) -> set[str]:
    """The users Cassandra must hold: staging's, and those housekeeping purged from staging once
    Cassandra had them (a purge is not a delete: Cassandra keeps them)."""
    with stack.pg_connect() as conn:
        return {
            str(r[0])
            for r in conn.execute("SELECT user_id FROM staging.users UNION SELECT user_id FROM staging.purged_users")
        }


def staged_count(stack: LocalStack) -> int:
    """len(staging_ids(stack)), counted by PostgreSQL."""
    with stack.pg_connect() as conn:
        (n,) = conn.execute(
            "SELECT count(*) FROM (SELECT user_id FROM staging.users UNION SELECT user_id FROM staging.purged_users) u"
        ).fetchone() or (0,)
        return int(n)


def staging_count(stack: LocalStack) -> int:
    """The rows in staging.users now (the chaos runs purge nothing, so it grows by each signup)."""
    with stack.pg_connect() as conn:
        (n,) = conn.execute("SELECT count(*) FROM staging.users").fetchone() or (0,)
        return int(n)


class Cassandra:
    def __init__(self, stack: LocalStack):
        self.cluster, self.session = stack.cql_session()
        self.session.set_keyspace("streamflow")
        self.cluster.profile_manager.default.request_timeout = 60

    def close(self) -> None:
        self.cluster.shutdown()

    def rows(self, cql: str, *params: Any) -> list[Any]:
        return list(self.session.execute(cql, params or None))

    def user_ids(self) -> list[str]:
        from cassandra.query import SimpleStatement

        stmt = SimpleStatement("SELECT user_id FROM users", fetch_size=5000)
        return [str(r.user_id) for r in self.session.execute(stmt)]

    def totals(self) -> dict[str, int]:
        """Each analytics table summed over everything it holds."""
        out = {"users_per_country": sum(r.users for r in self.rows("SELECT users FROM users_per_country"))}
        for table in ANALYTICS_SIGNUP_TABLES:
            out[table] = sum(r.signups for r in self.rows(f"SELECT signups FROM {table}"))
        return out


def paced_ingest(stack: LocalStack, users: int, rate: int, batch_size: int, seed: str) -> subprocess.Popen[str]:
    """`streamflow ingest` of `users` users at `rate` users/s, started in the background: the
    run a fault test kills a component during."""
    argv = [
        str(streamflow_bin()),
        "ingest",
        "-q",
        "-n",
        str(users),
        "--rate",
        str(rate),
        "--batch-size",
        str(batch_size),
        "--seed",
        seed,
    ]
    return subprocess.Popen(argv, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def latest_arrived(stack: LocalStack, cass: Cassandra, n: int = 20) -> bool:
    """The `n` users staging changed last are all in Cassandra (a few point reads). The job writes
    the analytics and the users table in two queries, so agreeing totals alone do not mean that
    the users table has caught up: the waits below read every user id (seconds on a loaded ring)
    only once this holds too."""
    import uuid

    from cassandra.query import ValueSequence

    with stack.pg_connect() as conn:
        latest = [
            r[0] for r in conn.execute("SELECT user_id FROM staging.users ORDER BY updated_at DESC LIMIT %s", (n,))
        ]
    if not latest:
        return True
    ids = [u if isinstance(u, uuid.UUID) else uuid.UUID(str(u)) for u in latest]
    found = cass.rows("SELECT user_id FROM users WHERE user_id IN %s", ValueSequence(ids))
    return len(found) == len(set(ids))


def lost_and_duplicated(
    stack: LocalStack, cass: Cassandra, expected: int, totals: dict[str, int] | None = None
) -> tuple[int, int]:
    """What is there, against what must be after a fault: every one of `expected` users once in
    staging and once in Cassandra, and each analytics table counting each of them once (`totals`:
    the analytics just read, if they were)."""
    pg = staging_ids(stack)
    ids = cass.user_ids()
    totals = totals or cass.totals()
    tables = (*ANALYTICS_SIGNUP_TABLES, "users_per_country")
    lost = max(0, expected - len(pg)) + len(pg - set(ids))
    lost += max(0, expected - min(totals[t] for t in tables))
    duplicated = (len(ids) - len(set(ids))) + len(set(ids) - pg)
    duplicated += max(0, max(totals[t] for t in tables) - expected)
    return lost, duplicated


def assert_consistent(stack: LocalStack, cass: Cassandra, created: int) -> None:
    """Cassandra holds exactly staging's users, once each, and the analytics agree: current users
    per country sum to the user count; signups (never decremented) sum to every user ever
    created, in each of the three breakdowns."""
    pg = staging_ids(stack)
    ids = cass.user_ids()
    assert len(ids) == len(set(ids))
    assert set(ids) == pg, (
        f"missing in Cassandra: {sorted(pg - set(ids))[:5]}, not in staging: {sorted(set(ids) - pg)[:5]}"
    )
    t = cass.totals()
    assert t["users_per_country"] == len(pg), t
    for table in ANALYTICS_SIGNUP_TABLES:
        assert t[table] == created, (table, t, created)


def settled_signups(stack: LocalStack, cass: Cassandra, timeout: float = 180, period: float = 6.0) -> int:
    """The signups a stack has counted so far, once the pipeline has settled: Cassandra holds
    exactly staging's users, the current users per country add up to them, the three signup
    breakdowns agree, and all of that held for one analytics trigger period (`period`). A test
    states what it expects relative to this, so it passes alone and after any other test."""
    state: dict[str, Any] = {}

    def snapshot() -> tuple[int, int] | None:
        # The totals (a few hundred rows) while they move; every user id once they held.
        t, staged = cass.totals(), staged_count(stack)
        signups = {t[table] for table in ANALYTICS_SIGNUP_TABLES}
        if t["users_per_country"] != staged or len(signups) != 1:
            return None
        return (staged, signups.pop())

    def same_users_on_both_sides() -> bool:
        ids = cass.user_ids()
        return len(ids) == len(set(ids)) and set(ids) == staging_ids(stack)

    def settled() -> tuple[int, int] | None:
        try:
            now = snapshot()
            if now is None or now != state.get("last"):
                state.update(last=now, since=time.monotonic())
                return None
            if time.monotonic() - float(state["since"]) < period:
                return None
            if same_users_on_both_sides():
                return now
        except Exception:  # noqa: BLE001 - a service restarting: try again
            pass
        state.update(last=None, since=time.monotonic())
        return None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = settled()
        if found is not None:
            return found[1]
        time.sleep(1.0)
    raise AssertionError(f"the pipeline did not settle within {timeout} s (last: {state.get('last')})")


def _once_totals_agree(
    stack: LocalStack, cass: Cassandra, signups: int, timeout: float, verdict: Callable[[dict[str, int]], str]
) -> tuple[float, str]:
    """Polls until the analytics agree with staging (the current users per country add up to the
    staged users, each signup breakdown to `signups`) and the users staging changed last are in
    Cassandra; then asks `verdict` (given the totals just read), which reads every user id and
    says what is wrong ("" for nothing). Returns (seconds, "") once the verdict is clean, or
    (-1, the last thing found) after `timeout`. Only the totals (a few hundred rows) and a few
    point reads are made while the pipeline catches up."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        try:
            t, staged = cass.totals(), staged_count(stack)
            if (
                t["users_per_country"] == staged
                and all(t[table] == signups for table in ANALYTICS_SIGNUP_TABLES)
                and latest_arrived(stack, cass)
            ):
                last = verdict(t)
                if not last:
                    return time.monotonic() - start, ""
            else:
                last = f"analytics {t} against {staged} staged users and {signups} signups"
        except Exception as e:  # noqa: BLE001 - a service restarting: try again
            last = f"{type(e).__name__}: {str(e)[:300]}"
        time.sleep(1.0)
    return -1.0, last


def wait_until_consistent(stack: LocalStack, cass: Cassandra, created: int, timeout: float) -> float:
    """Seconds until Cassandra and the analytics match staging (`assert_consistent`, `created`
    signups in all); fails after `timeout` with the last difference seen."""

    def verdict(_: dict[str, int]) -> str:
        try:
            assert_consistent(stack, cass, created)
        except AssertionError as e:
            return str(e)[:500]
        return ""

    took, last = _once_totals_agree(stack, cass, created, timeout, verdict)
    if took < 0:
        raise AssertionError(f"Cassandra did not match staging within {timeout} s: {last}")
    return took


def wait_until_whole(stack: LocalStack, cass: Cassandra, expected: int, timeout: float) -> tuple[int, int, str]:
    """After a fault: waits until every one of `expected` users is in staging and in Cassandra
    once and each analytics table counts each of them once. Returns (lost, duplicated, why not
    whole): (0, 0, "") as soon as that holds, from the one read of every user id that found it;
    after `timeout`, what one more look finds."""

    def verdict(totals: dict[str, int]) -> str:
        lost, duplicated = lost_and_duplicated(stack, cass, expected, totals)
        return f"lost {lost}, duplicated {duplicated}" if (lost, duplicated) != (0, 0) else ""

    took, last = _once_totals_agree(stack, cass, expected, timeout, verdict)
    if took >= 0:
        return 0, 0, ""
    lost, duplicated = lost_and_duplicated(stack, cass, expected)
    return lost, duplicated, f"not whole within {timeout} s: {last}"


def kcat_topics(stack: LocalStack) -> set[str]:
    """The names of the broker's topics, from its metadata."""
    proc = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-L", "-J"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return {t["topic"] for t in json.loads(proc.stdout)["topics"]}


def kcat_produce(stack: LocalStack, topic: str, key: str, value: str | bytes, partition: int = 0) -> None:
    """One message, the value byte for byte (newlines and invalid UTF-8 included: kcat sends a
    file named on its command line as one message)."""
    data = value if isinstance(value, bytes) else value.encode()
    with tempfile.NamedTemporaryFile(prefix="sf-message-") as f:
        f.write(data)
        f.flush()
        proc = subprocess.run(
            ["kcat", "-b", stack.kafka_bootstrap(), "-t", topic, "-P", "-p", str(partition), "-k", key, f.name],
            capture_output=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")


# ---- Avro in the Confluent wire format (the CDC and dead-letter topics) -------------------


def registry_get(stack: LocalStack, path: str) -> Any:
    """One GET of the registry's Confluent-compatible API, decoded. A connection the registry
    closed without an answer is asked again (up to three times): a fresh-clone run once met
    that on a read right after Connect's refused registration. A registry that is down still
    fails the caller (connection refused is not retried)."""
    import http.client
    import urllib.request

    url = stack.registry_url + path
    for _ in range(2):
        try:
            with urllib.request.urlopen(url, timeout=10) as res:
                return json.loads(res.read())
        except http.client.RemoteDisconnected:
            time.sleep(1)
    with urllib.request.urlopen(url, timeout=10) as res:  # the third time, whatever happens
        return json.loads(res.read())


def confluent_header(schema_id: int) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big")


def _named(schema: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Every record defined in a schema, by name and full name (a field may refer to one by name)."""
    if isinstance(schema, list):
        for branch in schema:
            _named(branch, found)
    elif isinstance(schema, dict):
        if schema.get("type") == "record":
            found[schema["name"]] = schema
            if schema.get("namespace"):
                found[f"{schema['namespace']}.{schema['name']}"] = schema
            for f in schema["fields"]:
                _named(f["type"], found)
        elif isinstance(schema.get("type"), (dict, list)):
            _named(schema["type"], found)
    return found


def _filled(schema: Any, value: Any, named: dict[str, Any]) -> Any:
    """`value` completed for fastavro: a record's missing required fields get a zero value of
    their type (fields with a default are left to it)."""
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    if isinstance(schema, list):
        if value is None:
            return None
        branch = next(b for b in schema if b != "null")
        return _filled(branch, value, named)
    if isinstance(schema, dict) and schema.get("type") == "record":
        given = dict(value or {})
        out = {}
        for f in schema["fields"]:
            if f["name"] in given:
                out[f["name"]] = _filled(f["type"], given[f["name"]], named)
            elif "default" not in f:
                out[f["name"]] = _filled(f["type"], _zero(f["type"], named), named)
        return out
    return value


def _zero(schema: Any, named: dict[str, Any]) -> Any:
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    kind = schema.get("type") if isinstance(schema, dict) else schema
    if isinstance(schema, list):
        return None if "null" in schema else _zero(schema[0], named)
    if kind == "record":
        return {}
    if kind == "enum":
        return schema["symbols"][0]
    if isinstance(kind, (dict, list)):
        return _zero(kind, named)
    return {"string": "", "long": 0, "int": 0, "boolean": False, "bytes": b"", "double": 0.0, "float": 0.0}.get(
        str(kind), None
    )


class ChangeEncoder:
    """Writes Debezium change events of staging.users as its Avro converter does, with the
    schema it registered (the latest version of <topic>-value): for poison that the job must
    decode before it can find what is wrong."""

    def __init__(self, stack: LocalStack, topic: str = "streamflow.staging.users"):
        import fastavro

        latest = registry_get(stack, f"/subjects/{topic}-value/versions/latest")
        self.schema_id = int(latest["id"])
        self.schema = json.loads(latest["schema"])
        self._parsed = fastavro.parse_schema(self.schema)

    def encode(self, event: dict[str, Any]) -> bytes:
        import io

        import fastavro

        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, self._parsed, _filled(self.schema, event, _named(self.schema, {})))
        return confluent_header(self.schema_id) + buf.getvalue()

    def change(
        self, op: str = "c", after: dict[str, Any] | None = None, before: dict[str, Any] | None = None, ts_ms: int = 1
    ) -> bytes:
        source = {"ts_ms": ts_ms, "lsn": 1, "snapshot": "false", "table": "users"}
        return self.encode({"op": op, "after": after, "before": before, "source": source, "ts_ms": ts_ms})


def kcat_consume_raw(
    stack: LocalStack, topic: str, since_ms: int | None = None
) -> list[tuple[int, int, bytes | None, bytes | None]]:
    """Every message of a topic as (partition, offset, key, value), byte for byte; with
    `since_ms`, only those stamped at or after that time (epoch ms)."""
    proc = subprocess.run(
        [
            "kcat",
            "-b",
            stack.kafka_bootstrap(),
            "-t",
            topic,
            "-C",
            "-o",
            "beginning" if since_ms is None else f"s@{since_ms}",
            "-e",
            "-q",
            "-f",
            "%p %o %K %S\n%k%s",
        ],
        capture_output=True,
        timeout=120,
    )
    if b"Unknown topic or partition" in proc.stderr:
        return []
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    out: list[tuple[int, int, bytes | None, bytes | None]] = []
    data, pos = proc.stdout, 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        partition, offset, key_len, value_len = (int(x) for x in data[pos:end].split())
        pos = end + 1
        key = data[pos : pos + key_len] if key_len >= 0 else None
        pos += max(key_len, 0)
        value = data[pos : pos + value_len] if value_len >= 0 else None
        pos += max(value_len, 0)
        out.append((partition, offset, key, value))
    return out


class AvroReader:
    """Decodes Confluent-framed Avro by the schema id in its header, fetching each id once from
    the registry (what a Confluent deserializer does)."""

    def __init__(self, stack: LocalStack):
        self.stack = stack
        self.schemas: dict[int, Any] = {}

    def decode(self, data: bytes | None) -> Any:
        import io

        import fastavro

        if data is None:
            return None
        assert data[:1] == b"\x00" and len(data) >= 5, f"not Avro in the Confluent wire format: {data[:40]!r}"
        schema_id = int.from_bytes(data[1:5], "big")
        if schema_id not in self.schemas:
            found = registry_get(self.stack, f"/schemas/ids/{schema_id}")
            self.schemas[schema_id] = fastavro.parse_schema(json.loads(found["schema"]))
        return fastavro.schemaless_reader(io.BytesIO(data[5:]), self.schemas[schema_id], None)


def kafka_tool(bootstrap: str, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    """One of Kafka's own command-line tools (org.apache.kafka.tools.`tool`, the jars `setup`
    installed) against `bootstrap`; the caller checks its exit status."""
    return subprocess.run(
        ["java", "-cp", str(REPO / ".deps/kafka/*"), f"org.apache.kafka.tools.{tool}"]
        + ["--bootstrap-server", bootstrap, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def cdc_events(
    stack: LocalStack, topic: str = "streamflow.staging.users", since_ms: int | None = None
) -> list[dict[str, Any]]:
    """Every message of the CDC topic (with `since_ms`, those stamped since then), key and
    value decoded: {"key", "value" (None for a tombstone), "partition", "offset",
    "value_bytes"}."""
    reader = AvroReader(stack)
    return [
        {
            "key": reader.decode(key),
            "value": reader.decode(value),
            "partition": partition,
            "offset": offset,
            "value_bytes": len(value or b""),
        }
        for partition, offset, key, value in kcat_consume_raw(stack, topic, since_ms)
    ]


def dead_letters(stack: LocalStack, topic: str = "streamflow.dlq") -> list[dict[str, Any]]:
    """The dead-letter topic's records, decoded through the registry like any Confluent
    consumer would: by the schema id in each message's header. Each has the record's fields
    (its `value`, the original bytes) and `message_key`, the Kafka key as text."""
    reader = AvroReader(stack)
    out = []
    for _, _, key, value in kcat_consume_raw(stack, topic):
        record = reader.decode(value)
        assert isinstance(record, dict)
        record["message_key"] = key.decode(errors="replace") if key is not None else None
        out.append(record)
    return out
