"""Fault tolerance on the real stack: a corpus of bad input, then SIGKILL of every component in
the middle of a 100,000-user run. Writes bench/results/chaos.json.

Issue: "End-to-end benchmark and fault-tolerance suite". One stack of its own (with the Spark
job); the tests run in file order and share it:

1. The bad-input corpus. Each case ends in its reject table (staging.user_rejects, or
   staging.ingest_batches for a response the API never got right) or in the dead-letter topic,
   with a reason, or is retried to success; the valid records around it land.
2. The faults. The run is cut into one segment per component. In each, ingest runs at a steady
   rate, and when a third of the segment is in PostgreSQL the component is SIGKILLed.
   supervisord starts it again by itself (no command is run; `status` counts the restart);
   ingest, like an Airflow task retry, is run again with the same seed. Then PostgreSQL and Cassandra must hold exactly the same users, once each, and the
   analytics must add up. `recovery_s` is the time from the kill until that is true again (the
   rest of the segment included).
3. A Cassandra restart just after a schema change, which hangs the Cassandra driver in the
   job: the job's stall watch restarts the job, and every user still arrives.
4. After all of it, the pipeline still runs and nothing valid is missing anywhere.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import LocalStack, REPO, row, wait_for
from pipeline_checks import (
    Cassandra,
    ChangeEncoder,
    confluent_header,
    dead_letters,
    kcat_produce,
    paced_ingest,
    kcat_topics,
    staging_count,
    staging_ids,
    wait_until_consistent,
    wait_until_whole,
)

sys.path.insert(0, str(REPO / "bench"))
import result  # noqa: E402  (bench/result.py: the machine description of every result file)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

TOPIC = "streamflow.staging.users"
DLQ = "streamflow.dlq"
PARTITIONS = 3  # kafka.partitions
NOT_AVRO = "value is not Avro in the Confluent wire format (magic byte 0, schema id)"
CHAOS_JSON = REPO / "bench/results/chaos.json"

# Filled by the tests, written to chaos.json when the module is done (only after a full run).
REPORT: dict[str, Any] = {"bad_input": {}, "faults": []}


@pytest.fixture(scope="module")
def faults_stack() -> Iterator[LocalStack]:
    s = LocalStack("faults", spark=True)
    # A batch stuck in the Cassandra driver ends in a restart of the job after this long (the
    # default is 180 s); longer than a batch waits for a killed broker or node to come back.
    s.env["STREAMFLOW_SPARK_STALL_TIMEOUT_S"] = str(STALL_TIMEOUT_S)
    try:
        s.up(timeout=600)
        yield s
    finally:
        s.destroy()
    if len(REPORT["faults"]) == len(COMPONENTS) and len(REPORT["bad_input"]) == len(ALL_CASES):
        result.write(
            str(CHAOS_JSON),
            {
                "faults": REPORT["faults"],
                "bad_input_cases": len(REPORT["bad_input"]),
                "bad_input_failures": sum(1 for ok in REPORT["bad_input"].values() if not ok),
            },
        )


@pytest.fixture(scope="module")
def cass(faults_stack: LocalStack) -> Iterator[Cassandra]:
    c = Cassandra(faults_stack)
    yield c
    c.close()


def ingest(stack: LocalStack, *args: str, timeout: float = 300) -> tuple[int, dict[str, Any], str]:
    """(exit status, the JSON summary ({} when none was printed), stderr)."""
    proc = stack.run("ingest", "-q", *args, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    summary: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return proc.returncode, summary, proc.stderr


# ---- a scripted API: each request answered as a case says ------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False  # close the connection without an answer


class ScriptedApi:
    """A randomuser-compatible endpoint on loopback whose answers are scripted per seed (and
    optionally page): the n-th request gets the n-th reply, the last one repeats."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server interface
                q = parse_qs(urlparse(self.path).query)
                seed, page = q.get("seed", [""])[0], q.get("page", ["1"])[0]
                key = f"{seed}/{page}" if f"{seed}/{page}" in api.scripts else seed
                with api.lock:
                    n = api.calls.get(key, 0)
                    api.calls[key] = n + 1
                    script = api.scripts.get(key) or [Reply(404, b'{"error": "no such case"}')]
                reply = script[min(n, len(script) - 1)]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                try:
                    self.send_response(reply.status)
                    for k, v in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout case)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def api() -> Iterator[ScriptedApi]:
    a = ScriptedApi()
    yield a
    a.close()


def scripted(api: ScriptedApi, seed: str, users: int, retries: int | None = None) -> list[str]:
    """ingest's options for `users` users in batches of 3 from the scripted API under `seed`."""
    args = ["--url", api.url, "--seed", seed, "-n", str(users), "--batch-size", "3"]
    return args + (["--max-retries", str(retries)] if retries is not None else [])


def real_records(stack: LocalStack, seed: str, n: int, nat: str = "") -> list[dict[str, Any]]:
    """n valid records as the local randomuser-compatible mock serves them."""
    url = f"{stack.mock_url}?results={n}&seed={seed}&page=1" + (f"&nat={nat}" if nat else "")
    with urllib.request.urlopen(url, timeout=30) as r:
        records: list[dict[str, Any]] = json.load(r)["results"]
        return records


def page(records: list[Any], seed: str, page_no: int = 1) -> bytes:
    return json.dumps(
        {"results": records, "info": {"seed": seed, "results": len(records), "page": page_no, "version": "1.4"}}
    ).encode()


def setp(record: Any, path: str, value: Any) -> Any:
    *head, last = path.split(".")
    node = record
    for k in head:
        node = node[k]
    node[last] = value
    return record


def delp(record: Any, path: str) -> Any:
    *head, last = path.split(".")
    node = record
    for k in head:
        node = node[k]
    del node[last]
    return record


def rejects_of(stack: LocalStack, seed: str) -> list[tuple[int, str, str]]:
    """(record index, reason, payload text) of every reject of the case's batches."""
    with stack.pg_connect() as conn:
        return [
            (r[0], r[1], json.dumps(r[2]))
            for r in conn.execute(
                "SELECT r.record_index, r.reason, r.payload FROM staging.user_rejects r "
                "JOIN staging.ingest_batches b USING (batch_id) WHERE b.seed = %s ORDER BY 1",
                (seed,),
            )
        ]


def staged(stack: LocalStack, user_id: str) -> dict[str, Any]:
    """The staged row of a user, or {} when it is not there."""
    with stack.pg_connect() as conn:
        cur = conn.execute("SELECT * FROM staging.users WHERE user_id = %s", (user_id,))
        found = cur.fetchone()
        names = [d.name for d in cur.description or []]
        return dict(zip(names, found, strict=True)) if found else {}


class Outcome:
    """Marks a case failed unless the test reaches its end."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> Outcome:
        REPORT["bad_input"][self.name] = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: Any) -> None:
        REPORT["bad_input"][self.name] = exc_type is None


# ---- 1a. records the decoder must reject (one bad record between two good ones) -------------

HUGE = "X" * 1_000_000
RECORD_CASES: dict[str, tuple[Callable[[Any], Any], str]] = {
    # name: (how the record is broken, what the reject reason says)
    "missing_uuid": (lambda r: delp(r, "login.uuid"), "login.uuid: missing"),
    "uuid_not_a_uuid": (lambda r: setp(r, "login.uuid", "not-a-uuid"), "login.uuid: not a UUID"),
    "uuid_sql_injection": (
        lambda r: setp(r, "login.uuid", "1'; DROP TABLE staging.users; --"),
        "login.uuid: not a UUID",
    ),
    "email_a_number": (lambda r: setp(r, "email", 42), "email: expected a string, got number"),
    "email_without_at": (lambda r: setp(r, "email", "someone.example.com"), "email: not an email address"),
    "first_name_a_number": (lambda r: setp(r, "name.first", 42), "name.first: expected a string, got number"),
    "name_an_array": (lambda r: setp(r, "name", ["Ada", "Lovelace"]), "name: expected an object, got array"),
    "login_a_string": (lambda r: setp(r, "login", "user:hunter2"), "login: expected an object, got string"),
    "control_character": (
        lambda r: setp(r, "location.city", "Bad\u0007City"),
        "location.city: contains control character U+0007",
    ),
    "nul_byte": (lambda r: setp(r, "name.first", "An\u0000na"), "name.first: contains control character U+0000"),
    "huge_field": (lambda r: setp(r, "name.last", HUGE), "name.last: longer than 256 bytes"),
    "latitude_out_of_range": (lambda r: setp(r, "location.coordinates.latitude", "97.5"), "not a latitude"),
    "longitude_not_a_number": (lambda r: setp(r, "location.coordinates.longitude", "east"), "not a longitude"),
    "timezone_offset_out_of_range": (lambda r: setp(r, "location.timezone.offset", "+25:00"), "not an offset"),
    "unknown_gender": (lambda r: setp(r, "gender", "unknown"), "gender: expected male or female"),
    "three_letter_nat": (lambda r: setp(r, "nat", "AUS"), "nat: expected a two-letter nationality"),
    "dob_epoch_out_of_range": (lambda r: setp(r, "dob", -99999999999999), "dob: not a timestamp in epoch seconds"),
    "pre_1_2_record_without_uuid": (
        lambda r: setp(delp(r, "login.uuid"), "dob", 932871968),
        "login.uuid: missing (API versions before 1.2 served no uuid",
    ),
    "impossible_date": (lambda r: setp(r, "dob.date", "1988-02-30T06:22:31.120Z"), "not an ISO 8601 timestamp"),
    "location_a_string": (lambda r: setp(r, "location", "Sydney"), "location: expected an object, got string"),
    "postcode_an_object": (lambda r: setp(r, "location.postcode", {"code": 1}), "location.postcode: expected"),
    "age_a_string": (lambda r: setp(r, "dob.age", "forty"), "dob.age: expected a whole number, got string"),
    "record_a_string": (lambda r: "just a string", "record: expected an object, got string"),
    "record_null": (lambda r: None, "record: expected an object"),
    "record_an_array": (lambda r: [r], "record: expected an object"),
}


@pytest.mark.parametrize("name", list(RECORD_CASES))
def test_a_bad_record_is_rejected_with_its_reason_and_its_neighbours_land(
    faults_stack: LocalStack, api: ScriptedApi, name: str
) -> None:
    with Outcome(name):
        seed = f"bad-{name}"
        good_a, victim, good_b = real_records(faults_stack, seed, 3)
        breaks, reason = RECORD_CASES[name]
        bad = breaks(copy.deepcopy(victim))
        api.scripts[seed] = [Reply(body=page([good_a, bad, good_b], seed))]
        rc, summary, err = ingest(faults_stack, *scripted(api, seed, users=3, retries=1))
        assert rc == 0, err
        assert (summary["inserted"], summary["rejected"]) == (2, 1), summary
        (rej,) = rejects_of(faults_stack, seed)
        assert rej[0] == 1 and reason in rej[1], rej[:2]
        assert len(rej[2]) < 100_000, "a reject keeps a bounded excerpt of the record"
        for good in (good_a, good_b):
            assert staged(faults_stack, good["login"]["uuid"]), "a good neighbour did not land"


def test_a_duplicate_uuid_within_a_batch_keeps_the_first(faults_stack: LocalStack, api: ScriptedApi) -> None:
    with Outcome("duplicate_uuid_in_batch"):
        seed = "bad-duplicate-in-batch"
        a, b = real_records(faults_stack, seed, 2)
        twin = setp(copy.deepcopy(a), "location.city", "Elsewhere")
        api.scripts[seed] = [Reply(body=page([a, b, twin], seed))]
        rc, summary, err = ingest(faults_stack, *scripted(api, seed, users=3))
        assert rc == 0, err
        assert (summary["inserted"], summary["rejected"]) == (2, 1), summary
        (rej,) = rejects_of(faults_stack, seed)
        assert rej[0] == 2 and "duplicate of record #0" in rej[1], rej[:2]
        assert staged(faults_stack, a["login"]["uuid"])["city"] == a["location"]["city"]


def test_a_duplicate_uuid_across_batches_is_one_user_with_the_latest_data(
    faults_stack: LocalStack, api: ScriptedApi, cass: Cassandra
) -> None:
    with Outcome("duplicate_uuid_across_batches"):
        seed = "bad-duplicate-across"
        a, b = real_records(faults_stack, seed, 2)
        later = setp(copy.deepcopy(a), "location.city", "Moved Later")
        api.scripts[f"{seed}/1"] = [Reply(body=page([a], seed, 1))]
        api.scripts[f"{seed}/2"] = [Reply(body=page([b], seed, 2))]
        api.scripts[f"{seed}/3"] = [Reply(body=page([later], seed, 3))]
        rc, summary, err = ingest(
            faults_stack, "--url", api.url, "--seed", seed, "-n", "3", "--batch-size", "1", "--concurrency", "1"
        )
        assert rc == 0, err
        assert summary["rejected"] == 0, summary
        uid = a["login"]["uuid"]
        assert staged(faults_stack, uid)["city"] == "Moved Later"
        wait_for(
            lambda: [r.city for r in cass.rows("SELECT city FROM users WHERE user_id = %s", uuid.UUID(uid))]
            == ["Moved Later"],
            90,
            "the later version in Cassandra",
        )


# ---- 1b. hostile or unusual text that is valid: stored exactly, end to end ---------------

ACCEPTED_CASES = {
    # name: (path in the API record, value, staging column = Cassandra column)
    "sql_injection_in_a_name": ("name.last", "O'Brien'); DROP TABLE staging.users; --", "last_name"),
    "cql_injection_in_a_city": ("location.city", "x'); DROP KEYSPACE streamflow; --", "city"),
    "quotes_and_backslashes": ("location.street.name", 'Rue "du" \\ Moulin \'s', "street_name"),
    "script_cyrillic": ("name.first", "Олександра", "first_name"),
    "script_persian_with_zwnj": ("name.last", "نیک\u200cنام", "last_name"),
    "script_devanagari": ("name.first", "अनन्या", "first_name"),
    "script_latin_diacritics": ("name.last", "Øztürk-Ævarsdóttir", "last_name"),
    "script_greek": ("name.first", "Ελένη", "first_name"),
    "script_cjk": ("location.city", "北京市", "city"),
    "emoji_four_byte_utf8": ("location.street.name", "Fox Lane 🦊", "street_name"),
    "combining_marks": ("name.first", "Zoe\u0308", "first_name"),
    "longest_allowed_field": ("name.first", "é" * 128, "first_name"),  # 256 bytes exactly
}


@dataclass
class LandedCase:
    record: dict[str, Any]
    index: int  # in the one batch every case rode in
    summary: dict[str, Any]

    @property
    def user_id(self) -> str:
        uid: str = self.record["login"]["uuid"]
        return uid


@pytest.fixture(scope="module")
def landed_cases(faults_stack: LocalStack, api: ScriptedApi) -> dict[str, LandedCase]:
    """Every case of ACCEPTED_CASES and ABSENT_CASES as one record each, all in one batch of
    one ingest run (the cases are independent records: one run, one wait for Cassandra)."""
    seed = "cases-valid-but-unusual"
    names = list(ACCEPTED_CASES) + list(ABSENT_CASES)
    records = real_records(faults_stack, seed, len(names))
    for name, rec in zip(names, records, strict=True):
        if name in ACCEPTED_CASES:
            path, value, _ = ACCEPTED_CASES[name]
            setp(rec, path, value)
        else:
            ABSENT_CASES[name][0](rec)
    api.scripts[seed] = [Reply(body=page(records, seed))]
    rc, summary, err = ingest(
        faults_stack, "--url", api.url, "--seed", seed, "-n", str(len(names)), "--batch-size", str(len(names))
    )
    assert rc == 0, err
    summary["rejects"] = rejects_of(faults_stack, seed)
    return {name: LandedCase(rec, i, summary) for i, (name, rec) in enumerate(zip(names, records, strict=True))}


def staged_case(stack: LocalStack, case: LandedCase) -> dict[str, Any]:
    """The case's staged row; fails when its record was rejected or did not land."""
    assert not [r for r in case.summary["rejects"] if r[0] == case.index], case.summary["rejects"]
    found = staged(stack, case.user_id)
    assert found, f"{case.user_id} is not staged: {case.summary}"
    return found


@pytest.mark.parametrize("name", list(ACCEPTED_CASES))
def test_unusual_but_valid_text_is_stored_exactly(
    faults_stack: LocalStack, landed_cases: dict[str, LandedCase], cass: Cassandra, name: str
) -> None:
    with Outcome(name):
        case = landed_cases[name]
        _, value, column = ACCEPTED_CASES[name]
        assert staged_case(faults_stack, case)[column] == value
        got = wait_for(
            lambda: cass.rows(f"SELECT {column} FROM users WHERE user_id = %s", uuid.UUID(case.user_id)),
            90,
            f"user {case.user_id} in Cassandra",
        )
        assert getattr(got[0], column) == value


# ---- 1b'. absent or empty fields are not faults: only login.uuid is required -----------------

ABSENT_CASES: dict[str, tuple[Callable[[Any], Any], str]] = {
    # name: (how the record loses the field, the staging (= Cassandra) column that is then null)
    "absent_email": (lambda r: delp(r, "email"), "email"),
    "absent_name": (lambda r: delp(r, "name"), "first_name"),
    "empty_last_name": (lambda r: setp(r, "name.last", " \ufeff "), "last_name"),
    "absent_dob": (lambda r: delp(r, "dob"), "dob"),
    "null_gender": (lambda r: setp(r, "gender", None), "gender"),
    "absent_nat": (lambda r: delp(r, "nat"), "nat"),
}


@pytest.mark.parametrize("name", list(ABSENT_CASES))
def test_a_record_without_a_field_lands_with_null_there(
    faults_stack: LocalStack, landed_cases: dict[str, LandedCase], cass: Cassandra, name: str
) -> None:
    with Outcome(name):
        case = landed_cases[name]
        column = ABSENT_CASES[name][1]
        assert staged_case(faults_stack, case)[column] is None
        got = wait_for(
            lambda: cass.rows(
                f"SELECT {column}, age_band, country_code FROM users WHERE user_id = %s", uuid.UUID(case.user_id)
            ),
            90,
            f"user {case.user_id} in Cassandra",
        )
        assert getattr(got[0], column) is None
        assert got[0].age_band and got[0].country_code  # derived from what is there, never null


# ---- 1c. whole responses that go wrong: retried to success, or recorded as a failed batch -----


def transient(first: Reply) -> Callable[[bytes], list[Reply]]:
    return lambda good: [first, Reply(body=good)]


RESPONSE_CASES: dict[str, Callable[[bytes], list[Reply]]] = {
    # name: build the script from the good page
    "http_429_with_retry_after": transient(Reply(429, b'{"error": "rate limited"}', {"Retry-After": "1"})),
    "http_500": transient(Reply(500, b"Internal Server Error")),
    "http_502_html": transient(Reply(502, b"<html><body>Bad Gateway</body></html>", {"Content-Type": "text/html"})),
    "http_503": transient(Reply(503, b"")),
    "timeout": transient(Reply(delay_s=4.0)),
    "connection_dropped": transient(Reply(drop=True)),
    "truncated_body": lambda good: [Reply(body=good[: len(good) // 2]), Reply(body=good)],
    "malformed_json": transient(Reply(body=b'{"results": [{"gender": "female",,}]')),
    "error_body_with_200": transient(
        Reply(
            body=b'{"error": "Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."}'
        )
    ),
    "empty_body_with_200": transient(Reply(body=b"")),
    "results_not_an_array": transient(Reply(body=b'{"results": {"gender": "male"}, "info": {}}')),
    "not_json_at_all": transient(Reply(body=b"\xff\xfe\x00\x01 binary junk")),
}


@pytest.mark.parametrize("name", list(RESPONSE_CASES))
def test_a_response_that_goes_wrong_is_retried_to_success(
    faults_stack: LocalStack, api: ScriptedApi, name: str
) -> None:
    with Outcome(name):
        seed = f"retry-{name}"
        records = real_records(faults_stack, seed, 3)
        api.scripts[seed] = RESPONSE_CASES[name](page(records, seed))
        rc, summary, err = ingest(faults_stack, *scripted(api, seed, users=3, retries=3), "--timeout", "2")
        assert rc == 0, err
        assert summary["inserted"] == 3 and summary["retries"] == 1, summary
        assert api.calls[seed] == 2
        for r in records:
            assert staged(faults_stack, r["login"]["uuid"]), "a record of the batch did not land"


FAILING_CASES = {
    # name: (the reply that never gets better, what the failed batch's error says)
    "api_keeps_failing": (Reply(500, b"down"), "HTTP 500"),
    "api_refuses_with_404": (Reply(404, b'{"error": "not found"}'), "HTTP 404"),
}


@pytest.mark.parametrize("name", list(FAILING_CASES))
def test_a_batch_the_api_never_serves_is_recorded_failed_and_the_run_goes_on(
    faults_stack: LocalStack, api: ScriptedApi, name: str
) -> None:
    with Outcome(name):
        seed = f"fail-{name}"
        reply, why = FAILING_CASES[name]
        records = real_records(faults_stack, seed, 3)
        api.scripts[f"{seed}/1"] = [reply]
        api.scripts[f"{seed}/2"] = [Reply(body=page(records, seed, 2))]
        rc, summary, err = ingest(faults_stack, *scripted(api, seed, users=6, retries=2), "--timeout", "2")
        assert rc == 69, (rc, err)  # the API kept failing for some batch
        assert summary["inserted"] == 3 and summary["failed_batches"] == 1, summary
        with faults_stack.pg_connect() as conn:
            rows = conn.execute(
                "SELECT page, status, error FROM staging.ingest_batches WHERE seed = %s ORDER BY page", (seed,)
            ).fetchall()
        assert [(p, s) for p, s, _ in rows] == [(1, "failed"), (2, "landed")], rows
        assert why in rows[0][2], rows


# ---- 1d. poison on the CDC topic, on every partition: dead-lettered with the reason ----------

STAGED_AFTER: dict[str, Any] = {
    "user_id": "b0c1d2e3-f405-4617-8829-3a4b5c6d7e8f",
    "gender": "female",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "dob": "1990-01-01T00:00:00.000000Z",
    "nat": "GB",
    "country": "United Kingdom",
}


# name: (the message value, written with the registered schema where the case needs Avro; the
# dead letter's reason). A rogue producer's bytes: not Avro, an id the registry does not have, a
# body cut short; and well-formed Avro whose change event is wrong.
POISON_CASES: dict[str, tuple[Callable[[ChangeEncoder], bytes], str]] = {
    "poison_json_not_avro": (
        lambda enc: json.dumps({"op": "c", "after": STAGED_AFTER, "source": {"ts_ms": 1}}).encode(),
        NOT_AVRO,
    ),
    "poison_not_utf8": (lambda enc: b"\xff\xfe\x00\x80garbage", NOT_AVRO),
    "poison_too_short_for_a_schema_id": (lambda enc: b"\x00\x00\x01", NOT_AVRO),
    "poison_unknown_schema_id": (
        lambda enc: confluent_header(987654) + enc.change("c", STAGED_AFTER)[5:],
        "unknown schema id 987654",
    ),
    "poison_truncated_avro": (lambda enc: enc.change("c", STAGED_AFTER)[:30], "value is not valid Avro for schema id"),
    "poison_unknown_op": (lambda enc: enc.change("x", STAGED_AFTER), "unknown op 'x'"),
    "poison_create_without_after": (lambda enc: enc.change("c", None), "op 'c' without after"),
    "poison_delete_without_before": (lambda enc: enc.change("d", None), "op 'd' without before"),
    "poison_user_id_not_a_uuid": (
        lambda enc: enc.change("c", {**STAGED_AFTER, "user_id": "42'; DROP KEYSPACE x"}),
        "user_id is not a uuid",
    ),
    "poison_missing_user_id": (lambda enc: enc.change("c", {**STAGED_AFTER, "user_id": ""}), "missing user_id"),
    "poison_bad_nat": (
        lambda enc: enc.change("c", {**STAGED_AFTER, "nat": "Great Britain"}),
        "nat is not a two-letter code",
    ),
    "poison_dob_not_a_timestamp": (
        lambda enc: enc.change("c", {**STAGED_AFTER, "dob": "yesterday"}),
        "dob is not a timestamp",
    ),
    "poison_huge_message": (
        lambda enc: enc.change("c", {**STAGED_AFTER, "user_id": "u" * 600_000}),
        "user_id is not a uuid",
    ),
}


def test_poison_on_every_partition_of_the_cdc_topic_is_dead_lettered_with_its_reason(
    faults_stack: LocalStack, cass: Cassandra
) -> None:
    marker = uuid.uuid4().hex
    enc = ChangeEncoder(faults_stack, TOPIC)
    for name, (value, _) in POISON_CASES.items():
        for p in range(PARTITIONS):
            kcat_produce(faults_stack, TOPIC, f"{marker}-{name}-{p}", value(enc), partition=p)

    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 120
    while len(found) < len(POISON_CASES) * PARTITIONS and time.monotonic() < deadline:
        time.sleep(2)
        for letter in dead_letters(faults_stack, DLQ):
            if (letter["message_key"] or "").startswith(marker):
                found[letter["message_key"]] = letter
    for name, (value, reason) in POISON_CASES.items():
        with Outcome(name):
            for p in range(PARTITIONS):
                v = found.get(f"{marker}-{name}-{p}")
                assert v is not None, f"no dead letter for {name} on partition {p} within 120 s"
                assert reason in v["reason"], (name, v["reason"])
                assert (v["source_topic"], v["source_partition"]) == (TOPIC, p)
                assert isinstance(v["source_offset"], int)
                assert v["key"] == f"{marker}-{name}-{p}".encode()
                assert v["value"] == value(enc)  # the original bytes
    # The user in the poison messages never reached Cassandra (none of them was valid).
    assert not cass.rows("SELECT user_id FROM users WHERE user_id = %s", uuid.UUID(STAGED_AFTER["user_id"]))


ALL_CASES = (
    list(RECORD_CASES)
    + ["duplicate_uuid_in_batch", "duplicate_uuid_across_batches"]
    + list(ACCEPTED_CASES)
    + list(ABSENT_CASES)
    + list(RESPONSE_CASES)
    + list(FAILING_CASES)
    + list(POISON_CASES)
)


def test_after_the_corpus_nothing_valid_is_missing_and_no_credential_was_kept(
    faults_stack: LocalStack, cass: Cassandra
) -> None:
    assert len(ALL_CASES) >= 30
    created = len(staging_ids(faults_stack))  # no deletes in this stack: every user is one signup
    wait_until_consistent(faults_stack, cass, created, timeout=180)
    with faults_stack.pg_connect() as conn:
        (leaks,) = row(
            conn,
            "SELECT count(*) FROM staging.user_rejects WHERE payload::text ~ '\"(password|salt|md5|sha1|sha256)\":'",
        )
    assert leaks == 0, "a reject kept a credential"


# ---- 2. SIGKILL each component in the middle of a 100,000-user run ---------------------------

TOTAL_USERS = 100_000
COMPONENTS = ("spark", "connect", "kafka", "cassandra", "postgres", "ingest")
RATE = 2500  # users/s: below the pipeline's sustained rate, so each segment runs ~7 s
RECOVERY_TIMEOUT = 420
STALL_TIMEOUT_S = 60


def segment_users(component: str) -> int:
    n = TOTAL_USERS // len(COMPONENTS)
    return n + (TOTAL_USERS % len(COMPONENTS) if component == COMPONENTS[-1] else 0)


@pytest.mark.parametrize("component", COMPONENTS)
def test_sigkill_mid_run_loses_nothing_and_counts_nothing_twice(
    faults_stack: LocalStack, cass: Cassandra, component: str
) -> None:
    users = segment_users(component)
    before = staging_count(faults_stack)
    expected = before + users

    def start_ingest() -> subprocess.Popen[str]:
        return paced_ingest(faults_stack, users, RATE, 500, f"chaos-{component}")

    # The pid before the run: `status` asks every service and can take longer under load than
    # the rest of the segment's ingest.
    victim = 0 if component == "ingest" else int(faults_stack.status()[component]["pid"])
    proc = start_ingest()
    try:
        wait_for(
            lambda: staging_count(faults_stack) >= before + users // 3,
            120,
            "a third of the segment in PostgreSQL",
            interval=0.2,
        )
        if component == "ingest":
            victim = proc.pid
        killed_at, killed_wall = time.monotonic(), time.time()
        os.kill(victim, signal.SIGKILL)

        # No manual command: supervisord starts every killed service again by itself.
        # Ingest is run again until it succeeds, as Airflow's task retries do: after its own
        # SIGKILL, or when PostgreSQL went away under it (exit 74).
        runs = 1
        while True:
            out, err = proc.communicate(timeout=600)
            if proc.returncode == 0:
                break
            assert time.monotonic() - killed_at < 300 and runs < 30, (proc.returncode, err)
            time.sleep(2)
            proc, runs = start_ingest(), runs + 1
        summary = json.loads(out.strip().splitlines()[-1])
        assert summary["failed_batches"] == 0, summary

        if component != "ingest":

            def restarted() -> dict[str, Any] | None:
                now: dict[str, Any] = faults_stack.status()[component]
                return now if now.get("state") == "healthy" and now.get("pid") not in (None, victim) else None

            back = wait_for(restarted, 300, f"{component} to be back", interval=1)
            # ... and `status` counts the restart, with why (the last exit: a PostgreSQL whose
            # killed predecessor's backends still held its shared memory exits once more first).
            restarts = back["facts"].get("restarts", "")
            assert restarts and int(restarts.split()[0]) >= 1, back
            assert "SIGKILL" in restarts or "exit status" in restarts, restarts
            if component == "spark":
                # Healthy means the new job's queries report: not the killed job's progress file,
                # which stays fresh for a while after the kill.
                doc = json.loads((faults_stack.state_dir / "spark/progress.json").read_text())
                assert doc["started_at"] > killed_wall, (doc["started_at"], killed_wall, back)
        lost, duplicated, error = wait_until_whole(faults_stack, cass, expected, timeout=RECOVERY_TIMEOUT)
        recovery_s = round(time.monotonic() - killed_at, 1)
    except Exception as e:
        raise AssertionError(f"{e}\n{faults_stack.diagnosis()}") from e
    finally:
        if proc.poll() is None:
            proc.kill()

    REPORT["faults"].append(
        {"component": component, "users": users, "lost": lost, "duplicated": duplicated, "recovery_s": recovery_s}
    )
    print(
        f"{component}: killed mid-run, {users} users, lost {lost}, duplicated {duplicated}, "
        f"recovered in {recovery_s} s ({runs} ingest run(s))"
    )
    assert not error and (lost, duplicated) == (0, 0), f"{error}\n{faults_stack.diagnosis()}"


# ---- 3. a Cassandra restart while the job's driver refreshes its schema ----------------------


def test_a_cassandra_restart_during_a_schema_refresh_ends_in_a_job_restart_not_a_stall(
    faults_stack: LocalStack, cass: Cassandra
) -> None:
    """The Cassandra Java driver never clears a schema refresh that could not start because its
    control connection was down ("Control channel not available"), and every later refresh waits
    behind it for good; the connector asks for one each time it plans a write. A schema change
    makes the driver refresh about a second later (its debounce window), so a restart right after
    one lands that refresh in the gap. The job's stall watch (spark.stall_timeout_s) must end the
    stuck batch with a restart of the job, and every user must still arrive, once."""
    log = faults_stack.state_dir / "logs/spark.log"
    mark = log.stat().st_size
    spark_pid = int(faults_stack.status()["spark"]["pid"])
    # The job's driver session is up and writing.
    rc, _, err = ingest(faults_stack, "-n", "1000", "--seed", "stall-warm")
    assert rc == 0, err
    wait_until_consistent(faults_stack, cass, len(staging_ids(faults_stack)), timeout=180)

    try:
        cass.session.execute("CREATE TABLE IF NOT EXISTS stall_probe (k int PRIMARY KEY)")
        time.sleep(0.3)
        restart = subprocess.run(
            [*faults_stack.supervisorctl, "restart", "cassandra"], capture_output=True, text=True, timeout=300
        )
        assert restart.returncode == 0, restart.stdout + restart.stderr
        rc, _, err = ingest(faults_stack, "-n", "4000", "--seed", "stall-after")
        assert rc == 0, err
        took = wait_until_consistent(
            faults_stack, cass, len(staging_ids(faults_stack)), timeout=STALL_TIMEOUT_S + RECOVERY_TIMEOUT
        )
    except Exception as e:
        raise AssertionError(f"{e}\n{faults_stack.diagnosis()}") from e
    finally:
        wait_for(lambda: faults_stack.status()["cassandra"].get("state") == "healthy", 300, "Cassandra back")
        cass.session.execute("DROP TABLE IF EXISTS stall_probe")
    data = log.read_bytes()
    text = data[mark if len(data) >= mark else 0 :].decode(errors="replace")
    hung = "Control channel not available" in text
    watched = "has been in one micro-batch for" in text
    now = int(faults_stack.status()["spark"]["pid"])
    print(
        f"cassandra restarted during a schema refresh: driver refresh aborted {hung}, stall watch fired "
        f"{watched}, job restarted {now != spark_pid}; every user in Cassandra {took:.0f} s after the ingest"
    )
    if hung:
        # The refresh that could not start hangs the next write plan for good: only the watch ends it.
        assert watched and now != spark_pid, text[-4000:]


def test_the_pipeline_still_runs_after_every_fault(faults_stack: LocalStack, cass: Cassandra) -> None:
    st = faults_stack.status()
    assert all(s["state"] == "healthy" for s in st.values()), {k: v["state"] for k, v in st.items()}
    rc, summary, err = ingest(faults_stack, "-n", "1000", "--seed", "chaos-after")
    assert rc == 0, err
    wait_until_consistent(faults_stack, cass, len(staging_ids(faults_stack)), timeout=120)
    proc = faults_stack.run("reconcile", "--freshness", "60")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- 5. the benchmark driver, on the stack that just went through all of that ----------------


def test_streamflow_bench_measures_every_stage_and_draws_its_chart(faults_stack: LocalStack, tmp_path: Path) -> None:
    proc = faults_stack.run(
        "bench",
        "--seconds",
        "4",
        "--rate",
        "500",
        "--baseline-rows",
        "2000",
        "--name",
        "smoke",
        "--out-dir",
        str(tmp_path),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bench " in proc.stderr and "catch-up" in proc.stderr  # the progress lines
    doc = json.loads((tmp_path / "smoke.json").read_text())
    assert doc["users"] == doc["ingested"] >= 1500, (doc["users"], doc["ingested"])
    f = [doc[f"freshness_{p}_s"] for p in ("p50", "p95", "p99", "max")]
    assert 0 < f[0] <= f[1] <= f[2] <= f[3] < 120, f
    for name, stage in doc["stages"].items():
        assert stage["count"] >= doc["ingested"], (name, stage)
        assert 0 < stage["fraction_of_baseline"] < 1, (name, stage)
    assert all(v > 0 for v in doc["baselines"].values()), doc["baselines"]
    assert {"postgres", "kafka", "connect", "cassandra", "spark"} <= set(doc["services"])
    assert all(s["peak_rss_mb"] > 0 for s in doc["services"].values())
    assert doc["peak_stack_rss_mb"] >= sum(s["peak_rss_mb"] for s in doc["services"].values()) / 2
    # Proportional set sizes count a shared page once: less than the RSS sum (PostgreSQL's
    # shared buffers are in every backend's RSS), never nothing.
    assert 0 < doc["peak_stack_pss_mb"] < doc["peak_stack_rss_mb"], doc
    assert len(doc["timeline"]) >= 4 and doc["machine"] and doc["date"]
    assert (tmp_path / "smoke.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The Kafka baseline's topic (the baseline's records) is deleted once measured.
    assert "topic streamflow.bench is left" not in proc.stderr, proc.stderr
    wait_for(
        lambda: "streamflow.bench" not in kcat_topics(faults_stack),
        timeout=30,
        what="the bench's Kafka topic to be deleted",
    )


def test_bench_stages_apart_pauses_the_job_then_times_it_alone(
    faults_stack: LocalStack, cass: Cassandra, tmp_path: Path
) -> None:
    proc = faults_stack.run(
        "bench",
        "--stages-apart",
        "--seconds",
        "3",
        "--rate",
        "1000",
        "--name",
        "apart",
        "--out-dir",
        str(tmp_path),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "capture" in proc.stderr and "process" in proc.stderr  # the progress lines
    doc = json.loads((tmp_path / "apart.json").read_text())
    capture, process = doc["capture"], doc["process"]
    assert doc["users"] == capture["users"] == process["users"] >= 2000, doc
    # Paused (SIGSTOP), the job used no CPU while the capture half ran; the capture's services did.
    by = capture["cpu_us_per_user_by_service"]
    assert by["spark"] == 0, by
    assert min(by["ingest"], by["postgres"], by["connect"]) > 0, by
    assert min(process["cpu_us_per_user_by_service"][s] for s in ("spark", "cassandra")) > 0, process
    assert 0 < capture["seconds"] and 0 < process["seconds"], doc
    total = capture["cpu_us_per_user"] + process["cpu_us_per_user"]
    assert doc["cpu_us_per_user"] == pytest.approx(total, abs=0.2)
    assert doc["ceiling_users_per_s"] == pytest.approx(doc["cores"] * 1e6 / total, rel=0.01)
    assert doc["cpu_us_per_user_at_target"] == pytest.approx(doc["cores"] * 1e6 / 10000)
    assert doc["machine"] and doc["date"]
    # The job was resumed, not left frozen: healthy, and still writing what comes in.
    wait_for(
        lambda: faults_stack.status()["spark"]["state"] == "healthy",
        timeout=60,
        what="the Spark job to report progress again",
    )
    rc, _, err = ingest(faults_stack, "-n", "500", "--seed", "after-stages-apart")
    assert rc == 0, err
    wait_until_consistent(faults_stack, cass, len(staging_ids(faults_stack)), timeout=120)
