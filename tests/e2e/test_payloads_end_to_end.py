"""Saved payloads and filtered requests through the whole pipeline: users with absent fields
reach Cassandra and the API as nulls and are counted in the analytics; and after the corpus of
tests/corpus went through, none of its planted national ids or credentials is kept in clear in
any database, topic, table or log. The scan is shown to find a leak in each of those places.

Issue: "Real saved payloads and legacy API shapes". Shares the streaming stack with the other e2e
and serve tests; each test states its expectations relative to what is already there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import LocalStack, REPO, row, wait_for
from leak_scan import places_scanned, psql, scan
from pipeline_checks import Cassandra, settled_signups, wait_until_consistent

sys.path.insert(0, str(REPO / "pipeline/spark"))
from streamflow_stream.countries import ISO_BY_NAME  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CORPUS = REPO / "tests/corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
PLANTED = EXPECTED["planted"]["national_ids"] + EXPECTED["planted"]["credentials"]
INC = "gender,name,location,email,login,phone,picture"


@pytest.fixture(scope="module")
def cass(streaming_stack: LocalStack) -> Iterator[Cassandra]:
    c = Cassandra(streaming_stack)
    yield c
    c.close()


def ingest(stack: LocalStack, *args: str) -> dict[str, Any]:
    proc = stack.run("ingest", "-q", *args, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return summary


def get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as r:
        body: dict[str, Any] = json.load(r)
        return body


def unknown_age_band_signups(cass: Cassandra) -> int:
    return sum(
        r.signups
        for r in cass.rows("SELECT age_band, signups FROM signups_by_age_band_minute")
        if r.age_band == "unknown"
    )


def test_an_inc_filtered_batch_reaches_cassandra_and_the_api_with_nulls_and_is_counted(
    streaming_stack: LocalStack, cass: Cassandra
) -> None:
    signups = settled_signups(streaming_stack, cass)
    unknown_before = unknown_age_band_signups(cass)
    seed = f"inc-{uuid.uuid4().hex[:8]}"
    summary = ingest(
        streaming_stack,
        "--url",
        f"{streaming_stack.mock_url}?inc={INC}",
        "-n",
        "300",
        "--batch-size",
        "100",
        "--seed",
        seed,
    )
    assert (summary["inserted"], summary["rejected"]) == (300, 0), summary
    # Every user once in Cassandra, and counted once in every breakdown (none dropped).
    wait_until_consistent(streaming_stack, cass, signups + 300, timeout=180)
    assert unknown_age_band_signups(cass) == unknown_before + 300  # no dob: age band unknown

    with streaming_stack.pg_connect() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT u.user_id::text FROM staging.users u JOIN staging.ingest_batches b USING (batch_id) "
                "WHERE b.seed = %s",
                (seed,),
            )
        ]
    assert len(ids) == 300
    rows = cass.rows(
        "SELECT user_id, gender, full_name, country, country_code, dob, age, age_band, nat, cell, "
        f"registered, email FROM users WHERE user_id IN ({', '.join(ids)})"
    )
    assert len(rows) == 300
    for r in rows:
        assert (r.dob, r.age, r.nat, r.cell, r.registered) == (None, None, None, None, None), r
        assert r.age_band == "unknown", r
        assert r.gender in ("male", "female") and r.full_name and r.email, r
        # No nat: the country code comes from the country's name.
        assert r.country_code == ISO_BY_NAME[r.country.lower()], r

    user = get(f"{streaming_stack.serve_url}/api/v1/users/{ids[0]}")
    assert (user["dob"], user["age"], user["nat"], user["cell"], user["registered"]) == (None,) * 5, user
    assert user["age_band"] == "unknown" and user["country_code"] and user["email"], user
    bands = get(f"{streaming_stack.serve_url}/api/v1/signups?by=age_band")
    assert bands["totals"].get("unknown", 0) >= 300, bands["totals"]


def hmac_hex(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def test_after_the_corpus_no_planted_secret_is_kept_in_clear_anywhere(
    streaming_stack: LocalStack, cass: Cassandra
) -> None:
    signups = settled_signups(streaming_stack, cass)
    new_users = 0
    for name, want in sorted(EXPECTED["cases"].items()):
        proc = streaming_stack.run("ingest", "-q", "--file", str(CORPUS / "files" / name))
        if want["error"]:
            assert proc.returncode == 65, proc.stderr
            continue
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout.splitlines()[-1])
        assert summary["inserted"] + summary["unchanged"] == len(want["valid"]), (name, summary)
        new_users += summary["inserted"]
    wait_until_consistent(streaming_stack, cass, signups + new_users, timeout=180)

    # The planted ids of valid users did go through: staged as their keyed hash.
    key = (streaming_stack.state_dir / "secrets/id_hash.key").read_bytes().strip()
    with streaming_stack.pg_connect() as conn:
        hashes = {r[0] for r in conn.execute("SELECT id_hash FROM staging.users WHERE id_hash IS NOT NULL")}
    assert sum(hmac_hex(key, v) in hashes for v in EXPECTED["planted"]["national_ids"]) >= 30

    places = places_scanned(streaming_stack)
    assert places["databases"] >= 3 and places["topics"] >= 5, places
    assert places["cassandra_tables"] >= 6 and places["log_files"] >= 5, places
    hits = scan(streaming_stack, PLANTED)
    assert hits == {}, f"planted secrets found in clear: {json.dumps(hits, indent=1)[:3000]}"


def test_the_scan_finds_a_leak_in_each_place_it_reads(streaming_stack: LocalStack, cass: Cassandra) -> None:
    """A build that kept a secret in clear must fail the scan above: plant one in each place,
    the way such a build would (the CDC topic through a row of staging), and find each."""
    probe = {place: f"LEAKPROBE-{place}-{uuid.uuid4().hex}" for place in ("postgres", "kafka", "cassandra", "logs")}
    db = f"leakprobe_{uuid.uuid4().hex[:8]}"
    log = streaming_stack.state_dir / "logs" / f"{db}.log"
    with streaming_stack.pg_connect() as conn:
        uid, id_hash = row(conn, "SELECT user_id, id_hash FROM staging.users LIMIT 1")
    try:
        psql(streaming_stack, f"CREATE DATABASE {db}")
        psql(streaming_stack, f"CREATE TABLE kept (id text); INSERT INTO kept VALUES ('{probe['postgres']}')", db)
        with streaming_stack.pg_connect() as conn:
            conn.execute(
                "UPDATE staging.users SET id_hash = %s, updated_at = now() WHERE user_id = %s", (probe["kafka"], uid)
            )
            conn.execute("UPDATE staging.users SET id_hash = %s, updated_at = now() WHERE user_id = %s", (id_hash, uid))
        cass.session.execute("CREATE TABLE IF NOT EXISTS leak_probe (k text PRIMARY KEY, v text)")
        cass.session.execute("INSERT INTO leak_probe (k, v) VALUES ('k', %s)", (probe["cassandra"],))
        log.write_text(f"something logged {probe['logs']} in clear\n")

        def found() -> dict[str, dict[str, list[str]]] | None:
            hits = scan(streaming_stack, list(probe.values()))
            return hits if all(probe[p] in hits.get(p, {}) for p in probe) else None

        hits = wait_for(found, 60, "the scan to find every planted leak", interval=2)
        assert f"pg_dump {db}" in hits["postgres"][probe["postgres"]]
        assert "streamflow.staging.users" in hits["kafka"][probe["kafka"]]
        assert "streamflow.leak_probe" in hits["cassandra"][probe["cassandra"]]
        assert f"logs/{db}.log" in hits["logs"][probe["logs"]]
    finally:
        log.unlink(missing_ok=True)
        cass.session.execute("DROP TABLE IF EXISTS leak_probe")
        psql(streaming_stack, f"DROP DATABASE IF EXISTS {db}")
