"""Cassandra through the C++ CQL bridge: `up` applies the CQL migrations, `migrate` is
idempotent, a changed applied file is refused, and `streamflow cql` round-trips typed values.

Everything goes through the real binary (`streamflow cql --json`), so these tests also check
the bridge's value conversions against a real Cassandra.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import signal
import shutil
import subprocess
import uuid
from typing import Any
from pathlib import Path

import pytest

from conftest import REPO, LocalStack, streamflow_bin, wait_for

pytestmark = pytest.mark.integration

MIGRATIONS = REPO / "pipeline/cql"
USERS_TABLES = {"users"}
ANALYTICS_TABLES = {
    "signups_by_country_minute",
    "signups_by_gender_minute",
    "signups_by_age_band_minute",
    "users_per_country",
}
ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def cql(stack: LocalStack, statement: str, *args: str, extra_env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    proc = stack.run("cql", "--json", *args, statement, timeout=120, extra_env=extra_env)
    assert proc.returncode == 0, f"streamflow cql {statement!r} exited {proc.returncode}: {proc.stderr}"
    rows: list[dict[str, Any]] = json.loads(proc.stdout)
    return rows


def tables_of(stack: LocalStack, keyspace: str) -> set[str]:
    rows = cql(stack, "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", "-k", "", "-p", keyspace)
    return {r["table_name"] for r in rows}


def fresh_keyspace() -> str:
    return f"sf_it_{uuid.uuid4().hex[:12]}"


def test_up_created_the_keyspace_tables_and_migration_records(stack: LocalStack) -> None:
    (ks,) = cql(
        stack,
        "SELECT keyspace_name, replication FROM system_schema.keyspaces WHERE keyspace_name = 'streamflow'",
        "-k",
        "",
    )
    assert "SimpleStrategy" in ks["replication"] and "'replication_factor':'1'" in ks["replication"]
    assert USERS_TABLES | ANALYTICS_TABLES | {"schema_migrations"} <= tables_of(stack, "streamflow")

    applied = cql(stack, "SELECT version, name, checksum, applied_at FROM schema_migrations")
    assert sorted((m["version"], m["name"]) for m in applied) == [("001", "users"), ("002", "analytics")]
    for m in applied:
        file = MIGRATIONS / f"V{m['version']}__{m['name']}.cql"
        assert m["checksum"] == hashlib.sha256(file.read_bytes()).hexdigest()
        assert ISO_MILLIS.match(m["applied_at"]), m["applied_at"]


def test_status_reports_the_keyspace_and_its_migrations(stack: LocalStack) -> None:
    facts = stack.status()["cassandra"]["facts"]
    assert facts == {"keyspace": "streamflow", "migrations_applied": "2"}


def test_migrate_applies_each_cql_migration_once(stack: LocalStack) -> None:
    keyspace = fresh_keyspace()
    env = {"STREAMFLOW_CASSANDRA_KEYSPACE": keyspace}
    first = stack.run("migrate", extra_env=env, timeout=180)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "applied migration V001" in first.stdout and "applied migration V002" in first.stdout
    assert f"2 CQL migration(s) applied (keyspace {keyspace})" in first.stdout
    assert USERS_TABLES | ANALYTICS_TABLES <= tables_of(stack, keyspace)

    second = stack.run("migrate", extra_env=env, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "applied migration" not in second.stdout
    assert f"0 CQL migration(s) applied (keyspace {keyspace})" in second.stdout
    versions = cql(stack, "SELECT version FROM schema_migrations", "-k", keyspace)
    assert sorted(r["version"] for r in versions) == ["001", "002"]
    cql(stack, f"DROP KEYSPACE {keyspace}", "-k", "")


def test_a_migration_changed_after_it_was_applied_is_refused(stack: LocalStack, tmp_path: Path) -> None:
    keyspace = fresh_keyspace()
    migrations = tmp_path / "cql"
    shutil.copytree(MIGRATIONS, migrations)
    env = {"STREAMFLOW_CASSANDRA_KEYSPACE": keyspace, "STREAMFLOW_CASSANDRA_MIGRATIONS_DIR": str(migrations)}
    assert stack.run("migrate", extra_env=env, timeout=180).returncode == 0

    changed = migrations / "V002__analytics.cql"
    changed.write_text(changed.read_text() + "\n-- an innocent-looking edit\n")
    proc = stack.run("migrate", extra_env=env, timeout=180)
    assert proc.returncode == 78, proc.stdout + proc.stderr  # failed_precondition
    assert "V002__analytics.cql changed after it was applied" in proc.stderr

    # A new file is applied; a broken one fails with its name and statement, and is not recorded.
    (migrations / "V002__analytics.cql").write_text((MIGRATIONS / "V002__analytics.cql").read_text())
    (migrations / "V003__extra.cql").write_text(
        "CREATE TABLE IF NOT EXISTS extra (k text PRIMARY KEY);\nCREATE TABLE oops (;\n"
    )
    proc = stack.run("migrate", extra_env=env, timeout=180)
    assert proc.returncode == 64, proc.stdout + proc.stderr  # invalid_argument: a syntax error
    assert "V003__extra.cql failed at statement 2 (CREATE TABLE oops ()" in proc.stderr
    versions = cql(stack, "SELECT version FROM schema_migrations", "-k", keyspace)
    assert sorted(r["version"] for r in versions) == ["001", "002"]
    cql(stack, f"DROP KEYSPACE {keyspace}", "-k", "")


def test_cql_round_trips_typed_values_through_prepared_parameters(stack: LocalStack) -> None:
    user_id = str(uuid.uuid4())
    cql(
        stack,
        "INSERT INTO users (user_id, first_name, dob, latitude, age, street_number) VALUES (?, ?, ?, ?, ?, ?)",
        "-p",
        user_id,
        "-p",
        "Zoë\tTab",
        "-p",
        "1993-07-20T11:44:18.674+02:00",
        "-p",
        "-33.8688",
        "-p",
        "32",
        "-p",
        "9000000000",
    )
    (row,) = cql(
        stack,
        "SELECT user_id, first_name, dob, latitude, age, street_number, city FROM users WHERE user_id = ?",
        "-p",
        user_id,
    )
    assert row == {
        "user_id": user_id,
        "first_name": "Zoë\tTab",
        "dob": "1993-07-20T09:44:18.674Z",
        "latitude": "-33.8688",
        "age": "32",
        "street_number": "9000000000",
        "city": None,
    }
    tsv = stack.run(
        "cql", "SELECT user_id, first_name, city FROM users WHERE user_id = ?", "-p", user_id, check=True
    ).stdout
    assert tsv == f"user_id\tfirst_name\tcity\n{user_id}\tZoë\\tTab\t\\N\n"
    cql(stack, "DELETE FROM users WHERE user_id = ?", "-p", user_id)
    assert cql(stack, "SELECT user_id FROM users WHERE user_id = ?", "-p", user_id) == []


def test_cql_pages_through_large_answers(stack: LocalStack) -> None:
    from cassandra.concurrent import execute_concurrent_with_args

    day = "2031-01-01"
    midnight = 1924992000000  # 2031-01-01T00:00:00Z in epoch milliseconds
    cluster, session = stack.cql_session()
    try:
        insert = session.prepare(
            "INSERT INTO streamflow.signups_by_gender_minute (day, minute, gender, signups) VALUES (?, ?, ?, ?)"
        )
        rows = [
            (
                datetime.date(2031, 1, 1),
                datetime.datetime.fromtimestamp((midnight + i * 60000) / 1000, datetime.timezone.utc),
                g,
                i,
            )
            for i in range(1440)
            for g in ("female", "male", "other", "unknown", "x")
        ]
        for ok, result in execute_concurrent_with_args(session, insert, rows, concurrency=64):
            assert ok, result
    finally:
        cluster.shutdown()
    # 7200 rows: more than the driver's page of 5000, so the bridge must fetch a second page.
    got = cql(stack, "SELECT day, minute, gender, signups FROM signups_by_gender_minute WHERE day = ?", "-p", day)
    assert len(got) == 7200
    assert got[0] == {"day": day, "minute": "2031-01-01T00:00:00.000Z", "gender": "female", "signups": "0"}
    assert got[-1] == {"day": day, "minute": "2031-01-01T23:59:00.000Z", "gender": "x", "signups": "1439"}
    cql(stack, "DELETE FROM signups_by_gender_minute WHERE day = ?", "-p", day)


def test_cql_reports_bad_input_clearly(stack: LocalStack) -> None:
    bad_uuid = stack.run("cql", "SELECT * FROM users WHERE user_id = ?", "-p", "not-a-uuid")
    assert bad_uuid.returncode == 64, bad_uuid.stderr
    assert "column user_id (uuid): 'not-a-uuid' is not a uuid" in bad_uuid.stderr
    syntax = stack.run("cql", "SELEKT 1")
    assert syntax.returncode == 64 and "syntax" in syntax.stderr.lower(), syntax.stderr
    missing = stack.run("cql", "SELECT * FROM no_such_table")
    assert missing.returncode == 64 and "no_such_table" in missing.stderr
    no_keyspace = stack.run("cql", "SELECT * FROM users", "-k", "no_such_keyspace")
    assert no_keyspace.returncode != 0 and "no_such_keyspace" in no_keyspace.stderr


def test_bridge_batches_pages_and_errors_against_this_cassandra(stack: LocalStack) -> None:
    """The C++ bridge's own integration test (src/cql/tests/session_it.cc) on this stack."""
    binary = streamflow_bin().resolve().parents[2] / "src/cql/cql_session_it"
    if not binary.exists():
        pytest.skip(f"{binary} is not built (a preset without tests)")
    env = dict(stack.env, STREAMFLOW_CQL_CONTACT_POINT=f"127.0.0.1:{stack.ports['cassandra_port']}")
    proc = subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "[  PASSED  ] 4 tests." in proc.stdout, proc.stdout
    assert "SKIPPED" not in proc.stdout


def test_acknowledged_writes_survive_a_sigkill(stack: LocalStack) -> None:
    """A write Cassandra acknowledged is in its commit log on disk: the streaming job commits
    its Kafka offsets once a batch's writes are acknowledged, so a write lost after that is a
    user lost for good. Rows written and acknowledged, then the process killed the moment the
    last acknowledgement arrived, must all be there after the restart's commit-log replay."""
    from cassandra.concurrent import execute_concurrent_with_args

    day = datetime.date(2032, 2, 29)
    midnight = datetime.datetime(2032, 2, 29, tzinfo=datetime.timezone.utc)
    rows = [
        (day, midnight + datetime.timedelta(minutes=i), g, i)
        for i in range(1440)
        for g in ("female", "male", "other", "unknown")
    ]
    old = int(stack.status()["cassandra"]["pid"])
    assert os.getpgid(old) == old, f"cassandra (pid {old}) does not lead its process group"
    cluster, session = stack.cql_session()
    try:
        insert = session.prepare(
            "INSERT INTO streamflow.signups_by_gender_minute (day, minute, gender, signups) VALUES (?, ?, ?, ?)"
        )
        for ok, result in execute_concurrent_with_args(session, insert, rows, concurrency=32):
            assert ok, result
        # No time for a commit-log sync that came after the acknowledgement to save them.
        os.killpg(old, signal.SIGKILL)
    finally:
        cluster.shutdown()

    def back() -> list[dict[str, Any]] | None:
        if int(stack.status()["cassandra"].get("pid") or 0) in (0, old):
            return None
        proc = stack.run(
            "cql",
            "--json",
            "SELECT minute, gender, signups FROM signups_by_gender_minute WHERE day = ?",
            "-p",
            str(day),
            timeout=60,
        )
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    got = wait_for(back, 240, "cassandra to be started again and answer")
    assert len(got) == len(rows), f"{len(rows) - len(got)} of {len(rows)} acknowledged rows lost by the kill"
    assert sum(int(r["signups"]) for r in got) == sum(r[3] for r in rows)
    cql(stack, "DELETE FROM signups_by_gender_minute WHERE day = ?", "-p", str(day))
