"""Airflow orchestration: the DAG files, and each DAG run with dag.test() on the real stack.

Issue: "Orchestration with Airflow 3". The DagBag tests need no stack. The others share
`airflow_stack`: the whole pipeline's stack of the e2e and serve tests, with Airflow started on
it (the other modules' consistency checks count the users housekeeping purges from staging, as
reconcile does). Its DAGs stay paused, so only these runs happen. Each test passes alone and in any order: those that need users in the
pipeline ask for `landed_users`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import LocalStack, REPO, free_ports, row, wait_for

DAGS = REPO / "pipeline/airflow/dags"
AIRFLOW_PY = REPO / ".venv-airflow/bin/python"


def check_dagbag(folder: Path, tmp_path: Path) -> dict[str, Any]:
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(tmp_path / "airflow-home"),
        PYTHONPATH=str(folder),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    proc = subprocess.run(
        [str(AIRFLOW_PY), str(REPO / "tests/airflow/check_dagbag.py"), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    bag: dict[str, Any] = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    return bag


# ---- the DAG files (no stack) ----------------------------------------------------------------


@pytest.mark.unit
def test_every_dag_file_imports_without_error_or_work_at_import_time(tmp_path: Path) -> None:
    bag = check_dagbag(DAGS, tmp_path)
    assert bag["import_errors"] == {}
    assert bag["dag_ids"] == ["streamflow_housekeeping", "streamflow_ingest", "streamflow_reconcile"]
    assert bag["schedules"] == {
        "streamflow_ingest": "@continuous",
        "streamflow_reconcile": "@hourly",
        "streamflow_housekeeping": "@daily",
    }
    assert all(n == 1 for n in bag["max_active_runs"].values()), bag["max_active_runs"]
    assert bag["tasks"]["streamflow_housekeeping"] == ["prune_files", "purge_rejects", "purge_staging", "vacuum"]
    assert bag["seconds"] < 5, f"parsing the DAG folder took {bag['seconds']:.1f} s"


@pytest.mark.unit
def test_a_dag_file_that_works_at_import_time_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    shutil.copytree(DAGS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "heavy.py").write_text(
        "import subprocess\nfrom airflow.sdk import dag\n"
        "subprocess.run(['true'])\n"
        "@dag(dag_id='heavy', schedule=None)\ndef heavy():\n    pass\nheavy()\n"
    )
    bag = check_dagbag(folder, tmp_path)
    assert "heavy" not in bag["dag_ids"]
    (error,) = [v for k, v in bag["import_errors"].items() if k.endswith("heavy.py")]
    assert "a subprocess at DAG import time" in error


# ---- the stack's Airflow ---------------------------------------------------------------------


def pg_count(stack: LocalStack, sql: str, *params: Any) -> int:
    with stack.pg_connect() as conn:
        count: int = row(conn, sql, params)[0]
        return count


class Cass:
    def __init__(self, stack: LocalStack):
        self.cluster, self.session = stack.cql_session()
        self.session.set_keyspace("streamflow")

    def has(self, uid: str) -> bool:
        return bool(list(self.session.execute("SELECT user_id FROM users WHERE user_id = %s", (uuid.UUID(uid),))))

    def committed_at(self, uid: str) -> datetime | None:
        rows = list(self.session.execute("SELECT committed_at FROM users WHERE user_id = %s", (uuid.UUID(uid),)))
        return rows[0].committed_at if rows else None

    def delete(self, uid: str) -> None:
        self.session.execute("DELETE FROM users WHERE user_id = %s", (uuid.UUID(uid),))


@pytest.fixture(scope="module")
def airflow_stack(streaming_stack: LocalStack) -> LocalStack:
    """The whole pipeline's stack (the e2e and serve tests'), with Airflow's four components
    started on it: `up` starts what is enabled and not running."""
    streaming_stack.env["STREAMFLOW_AIRFLOW_ENABLED"] = "true"
    # Airflow's retries of a failed ingest wait 1, 2, then 4 s here (5, 10, 20 by default).
    streaming_stack.env["STREAMFLOW_AIRFLOW_INGEST_RETRY_DELAY_S"] = "1"
    streaming_stack.up(timeout=600)
    return streaming_stack


@pytest.fixture(scope="module")
def landed_users(airflow_stack: LocalStack) -> int:
    """At least 2,000 users in staging and in Cassandra (ingested by the CLI, not a DAG)."""
    staged = pg_count(airflow_stack, "SELECT count(*) FROM staging.users")
    if staged < 2000:
        proc = airflow_stack.run("ingest", "-q", "-n", "2000", "--seed", f"airflow-{uuid.uuid4().hex[:8]}")
        assert proc.returncode == 0, proc.stderr
    wait_until_reconciled(airflow_stack, timeout=180)
    return pg_count(airflow_stack, "SELECT count(*) FROM staging.users")


@pytest.fixture(scope="module")
def cass(airflow_stack: LocalStack) -> Iterator[Cass]:
    c = Cass(airflow_stack)
    yield c
    c.cluster.shutdown()


def reconcile(stack: LocalStack, freshness: int = 120) -> tuple[int, dict[str, Any]]:
    proc = stack.run("reconcile", "--freshness", str(freshness), timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return proc.returncode, report


def wait_until_reconciled(stack: LocalStack, timeout: float = 120) -> dict[str, Any]:
    """Until nothing is in flight and reconcile passes."""

    def settled() -> dict[str, Any] | None:
        code, report = reconcile(stack)
        return report if code == 0 and report["in_flight"] == 0 else None

    return wait_for(settled, timeout, "staging and Cassandra to agree", interval=2)


def touch(stack: LocalStack, uids: list[str], age: str = "0 seconds") -> float:
    """Sets the users' updated_at (a change that flows through CDC again); returns the time."""
    with stack.pg_connect() as conn:
        conn.execute(
            "UPDATE staging.users SET updated_at = now() - %s::interval WHERE user_id = ANY(%s::uuid[])", (age, uids)
        )
    return time.time()


def some_users(stack: LocalStack, n: int) -> list[str]:
    with stack.pg_connect() as conn:
        return [str(r[0]) for r in conn.execute("SELECT user_id FROM staging.users ORDER BY random() LIMIT %s", (n,))]


@pytest.mark.airflow
@pytest.mark.integration
def test_status_shows_airflow_and_it_listens_on_loopback_only(airflow_stack: LocalStack) -> None:
    st = airflow_stack.status()
    for name in ("airflow-api", "airflow-scheduler", "airflow-dags", "airflow-triggerer"):
        assert st[name]["healthy"], st[name]
    facts = json.dumps(st["airflow-api"])
    assert f"http://127.0.0.1:{airflow_stack.ports['airflow_port']}/" in facts
    assert "simple_auth_manager_passwords.json.generated" in facts
    home = airflow_stack.state_dir / "airflow"
    assert home.stat().st_mode & 0o077 == 0, "AIRFLOW_HOME (with the UI password) must be private"
    passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
    assert list(passwords) == ["admin"] and len(passwords["admin"]) >= 8
    # The api-server answers on loopback, and no log server listens on 8793/8794.
    with socket.create_connection(("127.0.0.1", airflow_stack.ports["airflow_port"]), timeout=5):
        pass
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    for line in listening.splitlines():
        local = line.split()[3]
        assert not local.endswith((":8793", ":8794")), line
        if local.endswith(f":{airflow_stack.ports['airflow_port']}"):
            assert local.startswith("127.0.0.1:"), line


@pytest.mark.airflow
@pytest.mark.integration
def test_the_ingest_dag_lands_users_and_returns_the_summary(airflow_stack: LocalStack) -> None:
    before = pg_count(airflow_stack, "SELECT count(*) FROM staging.users")
    run, logs = airflow_stack.run_dag("streamflow_ingest", {"count": 1500, "batch_size": 500})
    assert run["state"] == "success", logs[-3000:]
    summary = run["tasks"]["ingest"]["xcom"]
    assert summary["inserted"] == 1500 and summary["batches"] == 3 and summary["failed_batches"] == 0
    assert pg_count(airflow_stack, "SELECT count(*) FROM staging.users") == before + 1500


@pytest.mark.airflow
@pytest.mark.integration
def test_the_ingest_dag_fails_visibly_when_the_api_is_down(airflow_stack: LocalStack) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/"
    t0 = time.monotonic()
    run, logs = airflow_stack.run_dag("streamflow_ingest", {"count": 10, "url": dead, "max_retries": 0})
    assert run["state"] == "failed", run
    assert run["tasks"]["ingest"]["state"] == "failed"
    # Airflow retried it (with a growing delay) before giving up, and says why each time.
    assert run["tasks"]["ingest"]["tries"] == 4
    assert logs.count("`streamflow ingest` exited with status 69") == 4
    assert f"gave up after 1 attempts; last: GET {dead}" in logs
    assert time.monotonic() - t0 > 1 + 2 + 4


def free_port() -> int:
    return free_ports(1)[0]


@pytest.mark.airflow
@pytest.mark.integration
def test_reconcile_passes_when_consistent_and_names_a_row_deleted_from_cassandra(
    airflow_stack: LocalStack, cass: Cass, landed_users: int
) -> None:
    wait_until_reconciled(airflow_stack)
    run, logs = airflow_stack.run_dag("streamflow_reconcile")
    assert run["state"] == "success", logs[-3000:]
    report = run["tasks"]["reconcile"]["xcom"]
    assert report["ok"] and report["missing"] == 0 and report["in_flight"] == 0
    assert report["staging_users"] == pg_count(airflow_stack, "SELECT count(*) FROM staging.users")
    assert isinstance(report["dead_letters"], int)  # the dead-letter topic was read

    (victim,) = some_users(airflow_stack, 1)
    cass.delete(victim)
    run, logs = airflow_stack.run_dag("streamflow_reconcile", {"freshness_s": 5})
    assert run["state"] == "failed"
    assert run["tasks"]["reconcile"]["state"] == "failed"
    assert f"1 user(s) missing from Cassandra past 5 s: {victim}" in logs

    # Touching the row sends it through the pipeline again: consistent once more.
    touch(airflow_stack, [victim])
    wait_for(lambda: cass.has(victim), 60, "the touched row back in Cassandra")
    wait_until_reconciled(airflow_stack)


@pytest.mark.airflow
@pytest.mark.integration
def test_housekeeping_purges_only_confirmed_rows_older_than_the_retention(
    airflow_stack: LocalStack, cass: Cass, landed_users: int
) -> None:
    wait_until_reconciled(airflow_stack)
    users = some_users(airflow_stack, 30)
    old_confirmed, old_unconfirmed, young = users[:10], users[10:20], users[20:]
    # Ten days old, and the change seen by Cassandra; then ten of them lose their Cassandra row.
    aged_at = touch(airflow_stack, old_confirmed + old_unconfirmed, "10 days")
    wait_for(
        lambda: all(
            (c := cass.committed_at(u)) and c.timestamp() >= aged_at - 2 for u in old_confirmed + old_unconfirmed
        ),
        60,
        "the aged rows in Cassandra",
    )
    for u in old_unconfirmed:
        cass.delete(u)
    # Old and young files in Airflow's log folder.
    logs_dir = airflow_stack.state_dir / "airflow/logs/housekeeping-test"
    logs_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(logs_dir, user="streamflow", group="streamflow")  # as Airflow's own folders
    old_log, new_log = logs_dir / "old.log", logs_dir / "new.log"
    for f in (old_log, new_log):
        f.write_text("x" * 100)
        shutil.chown(f, user="streamflow", group="streamflow")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old_log, (ten_days_ago, ten_days_ago))
    staged = pg_count(airflow_stack, "SELECT count(*) FROM staging.users")
    # Rejects: three a month old, two recent (their batch is a made-up one of this test).
    with airflow_stack.pg_connect() as conn:
        batch = row(conn, "SELECT gen_random_uuid()")[0]
        for i, age in enumerate(["40 days", "31 days", "31 days", "29 days", "1 hour"]):
            conn.execute(
                "INSERT INTO staging.user_rejects (batch_id, source, record_index, reason, payload, "
                "rejected_at) VALUES (%s, 'housekeeping-test', %s, 'test', '{}', now() - %s::interval)",
                (batch, i, age),
            )

    run, logs = airflow_stack.run_dag(
        "streamflow_housekeeping",
        {"staging_retention_h": 24 * 5, "log_retention_h": 24 * 5, "reject_retention_days": 30},
    )
    assert run["state"] == "success", logs[-3000:]
    purge = run["tasks"]["purge_staging"]["xcom"]
    assert (purge["purge_candidates"], purge["purged"], purge["unconfirmed"]) == (20, 10, 10), purge
    assert run["tasks"]["purge_rejects"]["xcom"]["rejects_purged"] == 3
    with airflow_stack.pg_connect() as conn:
        kept = conn.execute(
            "SELECT record_index FROM staging.user_rejects WHERE batch_id = %s ORDER BY 1", (batch,)
        ).fetchall()
    assert [r[0] for r in kept] == [3, 4]
    assert run["tasks"]["vacuum"]["xcom"]["vacuumed"][0] == "staging.users"
    prune = run["tasks"]["prune_files"]["xcom"]
    assert prune["pruned_files"] == 1 and prune["prune_errors"] == [], prune  # old.log, and only it
    assert not old_log.exists() and new_log.exists()

    with airflow_stack.pg_connect() as conn:
        left = {
            str(r[0])
            for r in conn.execute("SELECT user_id FROM staging.users WHERE user_id = ANY(%s::uuid[])", (users,))
        }
        ledger = {str(r[0]) for r in conn.execute("SELECT user_id FROM staging.purged_users")}
    assert left == set(old_unconfirmed + young)
    assert set(old_confirmed) <= ledger
    assert pg_count(airflow_stack, "SELECT count(*) FROM staging.users") == staged - 10
    # The purge is not a delete downstream: Cassandra keeps the purged users, and reconcile,
    # once the unconfirmed rows are back, accounts for them.
    touch(airflow_stack, old_unconfirmed)
    wait_for(lambda: all(cass.has(u) for u in old_unconfirmed), 60, "the unconfirmed rows back")
    report = wait_until_reconciled(airflow_stack)
    assert all(cass.has(u) for u in old_confirmed)
    assert report["purged_users"] >= 10
    assert report["cassandra_users"] == report["staging_users"] + report["purged_users"]
