"""Saved randomuser payloads of every API version and framing (tests/corpus), into the real
PostgreSQL: exactly the expected users land and the expected records are rejected, with their
reasons; a re-ingest changes nothing; an unusable file stores nothing; no planted national id or
credential is printed or stored in clear. Also: rejects age out (housekeeping), and requests to
one API host are paced across processes.

Issue: "Real saved payloads and legacy API shapes". The whole-pipeline half (Kafka, Cassandra,
logs, the API) is tests/e2e/test_payloads_end_to_end.py.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from typing import Any

import pytest

from conftest import LocalStack, REPO, row, streamflow_bin
from mock_api import MockApi

pytestmark = pytest.mark.integration

CORPUS = REPO / "tests/corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
CASES = sorted(EXPECTED["cases"])
PLANTED = EXPECTED["planted"]["national_ids"] + EXPECTED["planted"]["credentials"]


def ingest_file(
    stack: LocalStack, name: str, *flags: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], list[dict[str, Any]]]:
    """(the process, its summary ({} when it printed none), the rejects it showed)."""
    proc = stack.run("ingest", "-q", "--file", str(CORPUS / "files" / name), *flags)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    summary = lines[-1] if lines and "reject" not in lines[-1] else {}
    rejects = [line for line in lines if "reject" in line]
    return proc, summary, rejects


def clear_secrets(text: str) -> list[str]:
    return [s for s in PLANTED if s in text]


@pytest.mark.parametrize("name", CASES)
def test_a_dry_run_decodes_and_validates_and_shows_each_reject_sanitised(stack: LocalStack, name: str) -> None:
    want = EXPECTED["cases"][name]
    proc, summary, rejects = ingest_file(stack, name, "--dry-run", "--show-rejects")
    assert not clear_secrets(proc.stdout + proc.stderr), "a planted secret was printed"
    if want["error"]:
        assert proc.returncode == 65, proc.stderr
        assert want["error"] in proc.stderr and "nothing was stored" in proc.stderr, proc.stderr
        assert rejects == []
        return
    assert proc.returncode == 0, proc.stderr
    assert summary["dry_run"] is True
    assert (summary["fetched"], summary["valid"], summary["rejected"], summary["inserted"]) == (
        want["records"],
        len(want["valid"]),
        len(want["rejects"]),
        0,
    )
    assert [(r["reject"], r["reason"]) for r in rejects] == [(r["index"], r["reason"]) for r in want["rejects"]]
    for r in rejects:
        # Every record of the corpus carries a national id: a reject shows it hashed.
        if isinstance(r["payload"], dict):
            assert "hmac-sha256:" in json.dumps(r["payload"]), r


def test_a_dry_run_needs_no_database(stack: LocalStack) -> None:
    env = {"STREAMFLOW_POSTGRES_PORT": "1", "STREAMFLOW_POSTGRES_PASSWORD": ""}
    proc = stack.run("ingest", "-q", "--dry-run", "--file", str(CORPUS / "files/v1.4-envelope.json"), extra_env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["valid"] == len(EXPECTED["cases"]["v1.4-envelope.json"]["valid"])


def staged(conn: Any, uuids: list[str]) -> set[str]:
    rows = conn.execute("SELECT user_id::text FROM staging.users WHERE user_id = ANY(%s::uuid[])", (uuids,))
    return {r[0] for r in rows}


def rejects_of(conn: Any, name: str) -> list[tuple[int, str, str]]:
    rejects: list[tuple[int, str, str]] = conn.execute(
        "SELECT record_index, reason, payload::text FROM staging.user_rejects WHERE source = %s ORDER BY 1",
        (f"file:{CORPUS / 'files' / name}",),
    ).fetchall()
    return rejects


def batches_of(conn: Any, name: str) -> int:
    count: int = row(
        conn, "SELECT count(*) FROM staging.ingest_batches WHERE source = %s", (f"file:{CORPUS / 'files' / name}",)
    )[0]
    return count


@pytest.mark.parametrize("name", CASES)
def test_each_saved_payload_lands_exactly_as_expected_and_a_rerun_changes_nothing(stack: LocalStack, name: str) -> None:
    want = EXPECTED["cases"][name]
    proc, summary, _ = ingest_file(stack, name)
    with stack.pg_connect() as conn:
        if want["error"]:
            assert proc.returncode == 65, proc.stderr
            assert want["error"] in proc.stderr
            assert batches_of(conn, name) == 0 and rejects_of(conn, name) == []  # nothing stored
            return
        assert proc.returncode == 0, proc.stderr
        # The first run inserts every valid user; an earlier run of this test (same stack) makes
        # them unchanged: either way every one is there once.
        assert summary["inserted"] + summary["unchanged"] == len(want["valid"]), summary
        assert summary["rejected"] == len(want["rejects"])
        assert staged(conn, want["valid"]) == set(want["valid"])
        stored = rejects_of(conn, name)
        assert [(i, reason) for i, reason, _ in stored] == [(r["index"], r["reason"]) for r in want["rejects"]]
        for _, _, payload in stored:
            assert not clear_secrets(payload), payload
        snapshot = row(conn, "SELECT count(*), max(xmin::text::bigint) FROM staging.users")

    proc, again, _ = ingest_file(stack, name)
    assert proc.returncode == 0, proc.stderr
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, len(want["valid"])), again
    with stack.pg_connect() as conn:
        assert row(conn, "SELECT count(*), max(xmin::text::bigint) FROM staging.users") == snapshot
        assert len(rejects_of(conn, name)) == len(want["rejects"])  # no duplicate rejects
        assert batches_of(conn, name) == 1


def test_staging_keeps_absent_fields_as_null(stack: LocalStack) -> None:
    want = EXPECTED["cases"]["inc-subset.json"]
    proc, _, _ = ingest_file(stack, "inc-subset.json")
    assert proc.returncode == 0, proc.stderr
    with stack.pg_connect() as conn:
        rows = conn.execute(
            "SELECT dob, nat, cell, id_hash, registered, email, country FROM staging.users "
            "WHERE user_id = ANY(%s::uuid[])",
            (want["valid"],),
        ).fetchall()
    assert len(rows) == len(want["valid"])
    for dob, nat, cell, id_hash, registered, email, country in rows:
        assert (dob, nat, cell, id_hash, registered) == (None, None, None, None, None)
        assert email and country


def test_housekeeping_deletes_rejects_older_than_their_retention(stack: LocalStack) -> None:
    name = "v1.1-envelope.json"
    ingest_file(stack, name)
    with stack.pg_connect() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT reject_id FROM staging.user_rejects WHERE source = %s", (f"file:{CORPUS / 'files' / name}",)
            )
        ]
        assert len(ids) == 3
        conn.execute(
            "UPDATE staging.user_rejects SET rejected_at = now() - interval '40 days' WHERE reject_id = ANY(%s)", (ids,)
        )
        older = row(conn, "SELECT count(*) FROM staging.user_rejects WHERE rejected_at < now() - interval '30 days'")[0]
    dry = stack.run("housekeeping", "--only", "rejects", "--dry-run", "--reject-retention-days", "30", check=True)
    assert json.loads(dry.stdout)["rejects_purged"] == older >= 3
    with stack.pg_connect() as conn:
        assert row(conn, "SELECT count(*) FROM staging.user_rejects WHERE reject_id = ANY(%s)", (ids,))[0] == 3
    real = stack.run("housekeeping", "--only", "rejects", "--reject-retention-days", "30", check=True)
    assert json.loads(real.stdout)["rejects_purged"] == older
    with stack.pg_connect() as conn:
        assert row(conn, "SELECT count(*) FROM staging.user_rejects WHERE reject_id = ANY(%s)", (ids,))[0] == 0
        assert (
            row(conn, "SELECT count(*) FROM staging.user_rejects WHERE rejected_at < now() - interval '30 days'")[0]
            == 0
        )


def test_requests_to_one_api_host_are_paced_across_processes(stack: LocalStack) -> None:
    """Two ingests at once against one host, limited to 5 requests/s between them: the shared
    clock in PostgreSQL spaces all 12 requests, so they cannot take less than 11 intervals."""
    mock = MockApi()
    try:
        env = {"STREAMFLOW_INGEST_LOCAL_REQUESTS_PER_S": "5"}
        seed = uuid.uuid4().hex[:8]
        start = time.monotonic()
        procs = [
            subprocess.Popen(
                [
                    str(streamflow_bin()),
                    "ingest",
                    "-q",
                    "--url",
                    mock.url,
                    "-n",
                    "60",
                    "--batch-size",
                    "10",
                    "--concurrency",
                    "3",
                    "--seed",
                    f"pace-{seed}-{i}",
                ],
                env={**stack.env, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        elapsed = time.monotonic() - start
        for p, (out, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
            assert json.loads(out.splitlines()[-1])["inserted"] == 60
        assert mock.stats()["requests"] == 12
        assert elapsed >= 11 * 0.2 - 0.05, f"12 requests took {elapsed:.2f} s: not paced"
        with stack.pg_connect() as conn:
            hosts = [r[0] for r in conn.execute("SELECT host FROM staging.api_request_clock")]
        assert f"http://127.0.0.1:{mock.port}" in hosts
    finally:
        mock.stop()
