"""Ingestion against the real PostgreSQL and the mock API, with every fault the mock can inject.

Issue: "Ingestion in C++: randomuser-compatible API -> PostgreSQL". Expected users come from the
fault-free mock: generation is deterministic per seed, page and record index, and a record
broken by --bad-record-rate differs from its clean twin, so the expected rejects are exactly
the records that differ.
"""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conftest import LocalStack, REPO, free_ports, row, streamflow_bin, wait_for

if TYPE_CHECKING:
    import psycopg
from mock_api import MockApi

pytestmark = pytest.mark.integration

GOLDEN = REPO / "tests/golden"
CREDENTIAL_KEYS = ("password", "salt", "md5", "sha1", "sha256")


# --- helpers -------------------------------------------------------------------------------


def fetch(url: str, **params: Any) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    with urllib.request.urlopen(f"{url}?{query}", timeout=30) as r:
        doc: dict[str, Any] = json.load(r)
        return doc


def reference(
    stack: LocalStack, seed: str, pages: int, batch: int, bad_rate: float = 0.0
) -> tuple[list[str], int, list[dict[str, Any]]]:
    """(valid uuids, number of broken records, all raw records) the fault-free mock serves."""
    clean_mock = stack.mock_url
    broken_mock = MockApi("--bad-record-rate", str(bad_rate)) if bad_rate else None
    try:
        valid: list[str] = []
        records: list[dict[str, Any]] = []
        broken = 0
        for page in range(1, pages + 1):
            clean = fetch(clean_mock, results=batch, page=page, seed=seed)["results"]
            served = fetch(broken_mock.url, results=batch, page=page, seed=seed)["results"] if broken_mock else clean
            for c, s in zip(clean, served, strict=False):
                records.append(s)
                if c == s:
                    valid.append(c["login"]["uuid"])
                else:
                    broken += 1
        return valid, broken, records
    finally:
        if broken_mock:
            broken_mock.stop()


def ingest(
    stack: LocalStack, *args: str, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = stack.run("ingest", "-q", *args, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    summary: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return proc, summary


def users_of_seed(conn: Any, seed: str) -> list[str]:
    rows = conn.execute(
        "SELECT u.user_id::text FROM staging.users u JOIN staging.ingest_batches b USING (batch_id) WHERE b.seed = %s",
        (seed,),
    ).fetchall()
    return [r[0] for r in rows]


def rejects_of_seed(conn: Any, seed: str) -> list[tuple[int, str, str, str]]:
    rows: list[tuple[int, str, str, str]] = conn.execute(
        "SELECT r.record_index, r.reason, r.source, r.payload::text FROM staging.user_rejects r "
        "JOIN staging.ingest_batches b USING (batch_id) WHERE b.seed = %s",
        (seed,),
    ).fetchall()
    return rows


# --- the happy path and idempotency --------------------------------------------------------


def test_ingest_lands_every_valid_record_exactly_once(stack: LocalStack) -> None:
    seed = f"once-{uuid.uuid4().hex[:6]}"
    proc, summary = ingest(stack, "-n", "12000", "--batch-size", "3000", "--seed", seed)
    assert proc.returncode == 0, proc.stderr
    assert summary["fetched"] == 12000 and summary["inserted"] == 12000 and summary["failed_batches"] == 0
    expected, _, _ = reference(stack, seed, pages=4, batch=3000)
    with stack.pg_connect() as conn:
        landed = users_of_seed(conn, seed)
        assert len(landed) == len(set(landed)) == 12000
        assert set(landed) == set(expected)
        nats = row(conn, "SELECT count(DISTINCT nat) FROM staging.users")[0]
        assert nats == 21


def test_every_row_of_a_batch_has_its_own_wal_position(stack: LocalStack) -> None:
    """Debezium resumes from an LSN: rows that share one (COPY into the published table writes a
    page of rows as one WAL record) are lost past the first ones when it restarts among them,
    which a SIGKILL of PostgreSQL under load once showed. Ingest must give each row its own."""
    seed = f"lsn-{uuid.uuid4().hex[:6]}"
    slot = f"sf_test_{uuid.uuid4().hex[:8]}"
    with stack.pg_connect() as conn:
        # A temporary slot: dropped with this session, whatever happens.
        conn.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding', true)", (slot,))
        proc, summary = ingest(stack, "-n", "2000", "--batch-size", "1000", "--seed", seed)
        assert proc.returncode == 0 and summary["inserted"] == 2000, (proc.stderr, summary)
        lsns = [
            r[0]
            for r in conn.execute(
                "SELECT lsn::text FROM pg_logical_slot_peek_changes(%s, NULL, NULL) "
                "WHERE data LIKE 'table staging.users: INSERT:%%'",
                (slot,),
            )
        ]
    assert len(lsns) == 2000
    assert len(set(lsns)) == 2000, f"{2000 - len(set(lsns))} rows share a WAL position with another"


def test_rerunning_the_same_seed_changes_nothing(stack: LocalStack) -> None:
    seed = f"rerun-{uuid.uuid4().hex[:6]}"
    proc, first = ingest(stack, "-n", "6000", "--batch-size", "2000", "--seed", seed)
    assert proc.returncode == 0 and first["inserted"] == 6000
    with stack.pg_connect() as conn:
        before = conn.execute(
            "SELECT u.user_id, u.xmin::text, u.updated_at FROM staging.users u JOIN staging.ingest_batches b "
            "USING (batch_id) WHERE b.seed = %s ORDER BY user_id",
            (seed,),
        ).fetchall()
    proc, again = ingest(stack, "-n", "6000", "--batch-size", "2000", "--seed", seed)
    assert proc.returncode == 0
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 6000)
    with stack.pg_connect() as conn:
        after = conn.execute(
            "SELECT u.user_id, u.xmin::text, u.updated_at FROM staging.users u JOIN staging.ingest_batches b "
            "USING (batch_id) WHERE b.seed = %s ORDER BY user_id",
            (seed,),
        ).fetchall()
        runs = row(conn, "SELECT min(runs), max(runs) FROM staging.ingest_batches WHERE seed = %s", (seed,))
    assert before == after  # same row versions: no write, so no CDC event either
    assert runs == (2, 2)


def test_overlapping_batches_update_instead_of_duplicating(stack: LocalStack, tmp_path: Path) -> None:
    """A saved response whose users already exist, one of them changed: upsert, not duplicate."""
    seed = f"overlap-{uuid.uuid4().hex[:6]}"
    proc, _ = ingest(stack, "-n", "500", "--batch-size", "500", "--seed", seed)
    assert proc.returncode == 0
    doc = fetch(stack.mock_url, results=500, page=1, seed=seed)
    doc["results"][0]["location"]["city"] = "Changed City"
    changed_uuid = doc["results"][0]["login"]["uuid"]
    f = tmp_path / "overlap.json"
    f.write_text(json.dumps(doc, ensure_ascii=False))
    proc, summary = ingest(stack, "--file", str(f))
    assert proc.returncode == 0, proc.stderr
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 1, 499)
    with stack.pg_connect() as conn:
        rows = conn.execute("SELECT city FROM staging.users WHERE user_id = %s", (changed_uuid,)).fetchall()
    assert rows == [("Changed City",)]


def test_the_kept_row_count_follows_copies_upserts_deletes_and_truncates(stack: LocalStack, tmp_path: Path) -> None:
    """staging.users_count() (what serve and bench read every second) is count(*) at every step."""

    def counts(conn: psycopg.Connection[tuple[Any, ...]]) -> tuple[Any, ...]:
        return row(conn, "SELECT staging.users_count(), count(*) FROM staging.users")

    seed = f"count-{uuid.uuid4().hex[:6]}"
    # Four concurrent writers on the fast path (COPY straight into the table).
    proc, _ = ingest(stack, "-n", "4000", "--batch-size", "500", "--concurrency", "4", "--seed", seed)
    assert proc.returncode == 0, proc.stderr
    with stack.pg_connect() as conn:
        kept, counted = counts(conn)
        assert kept == counted
    # The upsert path: 500 known users (one changed) and 500 new ones in one response.
    doc = fetch(stack.mock_url, results=500, page=1, seed=seed)
    doc["results"][0]["location"]["city"] = "Counted City"
    doc["results"] += fetch(stack.mock_url, results=500, page=1, seed=f"{seed}-new")["results"]
    f = tmp_path / "mixed.json"
    f.write_text(json.dumps(doc, ensure_ascii=False))
    proc, summary = ingest(stack, "--file", str(f))
    assert proc.returncode == 0, proc.stderr
    assert (summary["inserted"], summary["updated"]) == (500, 1), summary
    with stack.pg_connect() as conn:
        assert counts(conn) == (counted + 500, counted + 500)
        ids = users_of_seed(conn, seed)[:7]
        conn.execute("DELETE FROM staging.users WHERE user_id = ANY(%s::uuid[])", (ids,))
        assert counts(conn) == (counted + 493, counted + 493)
    with stack.pg_connect() as conn:
        with conn.transaction(force_rollback=True):  # the other tests' users stay
            conn.execute("TRUNCATE staging.users CASCADE")
            assert counts(conn) == (0, 0)
        assert counts(conn) == (counted + 493, counted + 493)


# --- every fault the mock injects ----------------------------------------------------------

FAULTS = {
    "http_500_503": (["--fail-rate", "0.3"], "failed"),
    "http_429_retry_after": (["--rate-limit-rate", "0.3", "--retry-after", "1"], "rate_limited"),
    "truncated_bodies": (["--truncate-rate", "0.3"], "truncated"),
    "malformed_json": (["--malformed-rate", "0.3"], "malformed"),
    "error_bodies": (["--error-body-rate", "0.3"], "error_bodies"),
    "latency": (["--latency-ms", "300"], "requests"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_transport_faults_lose_and_duplicate_nothing(stack: LocalStack, fault: str) -> None:
    flags, counter = FAULTS[fault]
    mock = MockApi(*flags)
    seed = f"{fault}-{uuid.uuid4().hex[:6]}"
    try:
        proc, summary = ingest(
            stack, "-n", "8000", "--batch-size", "500", "--seed", seed, "--url", mock.url, "--max-retries", "12"
        )
        stats = mock.stats()
    finally:
        mock.stop()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert stats[counter] > 0, f"the mock never injected {fault}: {stats}"
    if fault != "latency":
        assert summary["retries"] > 0
    assert summary["failed_batches"] == 0 and summary["fetched"] == 8000
    expected, _, _ = reference(stack, seed, pages=16, batch=500)
    with stack.pg_connect() as conn:
        landed = users_of_seed(conn, seed)
    assert len(landed) == len(set(landed)) == 8000
    assert set(landed) == set(expected)


def test_bad_records_are_rejected_with_reason_and_the_rest_land(stack: LocalStack) -> None:
    seed = f"bad-{uuid.uuid4().hex[:6]}"
    mock = MockApi("--bad-record-rate", "0.1")
    try:
        proc, summary = ingest(stack, "-n", "4000", "--batch-size", "1000", "--seed", seed, "--url", mock.url)
    finally:
        mock.stop()
    assert proc.returncode == 0, proc.stderr
    expected, broken, _ = reference(stack, seed, pages=4, batch=1000, bad_rate=0.1)
    assert broken > 100
    assert summary["rejected"] == broken and summary["inserted"] == 4000 - broken
    with stack.pg_connect() as conn:
        landed = users_of_seed(conn, seed)
        rejects = rejects_of_seed(conn, seed)
    assert len(landed) == len(set(landed)) and set(landed) == set(expected)
    assert len(rejects) == broken
    for index, reason, source, payload in rejects:
        assert reason and ": " in reason, reason
        assert source == mock.url
        assert 0 <= index < 1000
        assert all(f'"{k}"' not in payload for k in CREDENTIAL_KEYS), payload

    # Re-running the batches against the same source adds no duplicate rejects.
    mock = MockApi("--bad-record-rate", "0.1", port=mock.port)
    try:
        proc, again = ingest(stack, "-n", "4000", "--batch-size", "1000", "--seed", seed, "--url", mock.url)
    finally:
        mock.stop()
    assert proc.returncode == 0 and again["inserted"] == 0 and again["rejected"] == broken
    with stack.pg_connect() as conn:
        assert len(rejects_of_seed(conn, seed)) == broken


# --- failures that stop a batch: clear errors and a record of them -------------------------


def test_api_down_fails_visibly_with_its_exit_code_and_a_failed_batch_record(stack: LocalStack) -> None:
    (port,) = free_ports(1)
    seed = f"down-{uuid.uuid4().hex[:6]}"
    proc, summary = ingest(
        stack,
        "-n",
        "1000",
        "--seed",
        seed,
        "--url",
        f"http://127.0.0.1:{port}/api/",
        "--max-retries",
        "1",
        "--timeout",
        "2",
    )
    assert proc.returncode == 69
    assert "gave up after 2 attempts" in proc.stderr
    assert summary["failed_batches"] == 1 and summary["fetched"] == 0
    with stack.pg_connect() as conn:
        status, error = row(conn, "SELECT status, error FROM staging.ingest_batches WHERE seed = %s", (seed,))
    assert status == "failed" and "gave up" in error


def test_postgres_unreachable_is_its_own_exit_code(stack: LocalStack) -> None:
    (port,) = free_ports(1)
    proc = stack.run("ingest", "-q", "-n", "100", extra_env={"STREAMFLOW_POSTGRES_PORT": str(port)})
    assert proc.returncode == 74, proc.stderr
    assert "PostgreSQL" in proc.stderr


def test_bad_arguments_are_rejected_with_a_message(stack: LocalStack) -> None:
    proc = stack.run("ingest", "-n", "10", "--batch-size", "6000")
    assert proc.returncode == 64 and "1..5000" in proc.stderr
    proc = stack.run("ingest", "-n", "10", "--url", "randomuser.me/api")
    assert proc.returncode == 64 and "not an http(s) URL" in proc.stderr


# --- saved responses (--file): replay, the 1.2 shape, golden cases -------------------------


def test_file_replay_is_idempotent_and_keeps_a_string_street_whole(stack: LocalStack) -> None:
    f = GOLDEN / "api_v1_3_shape/input.json"
    proc, first = ingest(stack, "--file", str(f))
    assert proc.returncode == 0, proc.stderr
    proc, again = ingest(stack, "--file", str(f))
    assert proc.returncode == 0
    assert again["inserted"] == 0 and again["updated"] == 0 and again["unchanged"] == 2
    with stack.pg_connect() as conn:
        street = row(
            conn,
            "SELECT street_number, street_name, postcode FROM staging.users WHERE "
            "user_id = '0000000a-1f70-40df-82fa-fc12a3c1b0f4'",
        )
    assert street == (None, "8150 queen's road", "61725")  # no guess at where the number is


def test_golden_invalid_records_land_in_rejects_with_their_reasons(stack: LocalStack) -> None:
    f = GOLDEN / "invalid_records/input.json"
    expected = json.loads((GOLDEN / "invalid_records/expected.json").read_text())
    proc, summary = ingest(stack, "--file", str(f))
    assert proc.returncode == 0, proc.stderr
    assert summary["rejected"] == len(expected["rejects"])
    with stack.pg_connect() as conn:
        got = conn.execute(
            "SELECT record_index, reason FROM staging.user_rejects WHERE source = %s ORDER BY record_index",
            (f"file:{f}",),
        ).fetchall()
    assert [(r["index"], r["reason"]) for r in expected["rejects"]] == [tuple(g) for g in got]


def test_unusable_file_is_a_data_error(stack: LocalStack, tmp_path: Path) -> None:
    proc, _ = ingest(stack, "--file", str(GOLDEN / "truncated_body/input.json"))
    assert proc.returncode == 65 and "not valid JSON" in proc.stderr
    proc, _ = ingest(stack, "--file", str(tmp_path / "missing.json"))
    assert proc.returncode == 66


# --- credentials never reach a table -------------------------------------------------------


def table_has_column(conn: psycopg.Connection[tuple[Any, ...]], table: str, column: str) -> bool:
    schema, name = table.split(".", 1)
    return bool(
        conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = %s AND column_name = %s",
            (schema.strip('"'), name.strip('"'), column),
        ).fetchone()
    )


def test_no_credential_or_clear_national_id_is_stored_anywhere(stack: LocalStack) -> None:
    """Checks everything stored so far (whatever ran before, and its own batches), by queries."""
    seed = f"creds-{uuid.uuid4().hex[:6]}"
    mock = MockApi("--bad-record-rate", "0.2")
    try:
        proc, _ = ingest(stack, "-n", "3000", "--batch-size", "1000", "--seed", seed, "--url", mock.url)
        assert proc.returncode == 0
        served = []
        for page in (1, 2, 3):
            served += fetch(mock.url, results=1000, page=page, seed=seed)["results"]
    finally:
        mock.stop()
    secrets, ids = set(), set()
    for r in served:
        login = r.get("login") or {}
        for k in ("salt", "md5", "sha1", "sha256"):
            secrets.add(login[k])
        value = (r.get("id") or {}).get("value")
        if value:
            # Whose id it is: one user's national id may well be another's phone number (an
            # 8-digit BSN, an 8-digit Danish phone), which is no leak.
            ids.add((login.get("uuid"), str(value)))
    assert len(secrets) > 10000 and len(ids) > 1000
    with stack.pg_connect() as conn:
        conn.execute("CREATE TEMP TABLE creds (v text PRIMARY KEY)")
        conn.execute("CREATE TEMP TABLE clear_ids (user_id uuid, v text)")
        with conn.cursor().copy("COPY creds FROM STDIN") as cp:
            for v in secrets:
                cp.write_row((v,))
        with conn.cursor().copy("COPY clear_ids FROM STDIN") as cp:
            for user_id, v in ids:
                cp.write_row((user_id, v))
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
                "WHERE table_schema IN ('staging', 'public') AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        assert "staging.users" in tables and "staging.user_rejects" in tables
        for table in tables:
            # Every column of every row, as text, split into tokens: salts and hashes are tokens.
            leaked = row(
                conn,
                f"SELECT count(*) FROM (SELECT regexp_split_to_table(t::text, '[^A-Za-z0-9]+') AS tok "
                f"FROM {table} t) x JOIN creds ON creds.v = x.tok",
            )[0]
            assert leaked == 0, f"{leaked} credential values found in {table}"
            # Every scalar of every row, nested JSON included, compared with the clear ids: of
            # the row's own user where the row names one, of any user where it does not.
            owner = "t.user_id" if table_has_column(conn, table, "user_id") else "NULL::uuid"
            clear = row(
                conn,
                f"WITH vals AS (SELECT {owner} AS u, kv.value AS v FROM {table} t, jsonb_each_text(to_jsonb(t)) kv "
                f"UNION ALL SELECT {owner}, s #>> '{{}}' FROM {table} t, jsonb_each(to_jsonb(t)) kv, "
                f"jsonb_path_query(kv.value, 'strict $.**') s WHERE jsonb_typeof(kv.value) IN ('object', 'array')) "
                f"SELECT count(*) FROM vals JOIN clear_ids c ON c.v = vals.v AND (vals.u IS NULL OR c.user_id = vals.u)",
            )[0]
            assert clear == 0, f"{clear} national ids in clear in {table}"
            keys = row(conn, f"SELECT count(*) FROM {table} t WHERE t::text ~ '\"(password|salt|md5|sha1|sha256)\"'")[0]
            assert keys == 0, f"credential keys in {table}"
        # Every landed user whose record had a national id has it as a keyed hash, and only those.
        landed = set(users_of_seed(conn, seed))
        with_id = sum(
            1 for r in served if (r.get("login") or {}).get("uuid") in landed and (r.get("id") or {}).get("value")
        )
        hashed = row(
            conn,
            "SELECT count(*) FROM staging.users u JOIN staging.ingest_batches b USING (batch_id) "
            "WHERE b.seed = %s AND u.id_hash ~ '^[0-9a-f]{64}$'",
            (seed,),
        )[0]
        assert with_id > 1000 and hashed == with_id


def test_continuous_mode_paces_itself_and_stops_cleanly_on_sigterm(stack: LocalStack) -> None:
    seed = f"cont-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [str(streamflow_bin()), "ingest", "--continuous", "--rate", "2000", "--batch-size", "500", "--seed", seed],
        env=stack.env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with stack.pg_connect() as conn:
            wait_for(lambda: len(users_of_seed(conn, seed)) >= 4000, 60, "4000 users landed")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    # Paced: page p is due (p-1) * 500 / 2000 s after the start, so by the end at most
    # 2000/s * seconds plus the batch each of the 4 workers may have started.
    assert 4000 <= summary["fetched"] <= 2000 * summary["seconds"] + 4 * 500, summary
    assert summary["failed_batches"] == 0 and summary["inserted"] == summary["fetched"]
    with stack.pg_connect() as conn:
        assert len(users_of_seed(conn, seed)) == summary["fetched"]
