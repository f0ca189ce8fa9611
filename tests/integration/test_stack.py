"""The local stack of real services: each answers, data survives restarts, failures are clear.

Issue: "Local stack of real services, and the two-command setup".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.request
import uuid
from typing import Any

import pytest

from conftest import LocalStack, row, wait_for

pytestmark = pytest.mark.integration

SERVICES = ["postgres", "kafka", "cassandra", "connect", "registry", "mock-api"]


def kcat(*args: str, data: str | None = None, timeout: float = 60) -> str:
    proc = subprocess.run(["kcat", *args], input=data, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"kcat {args} failed: {proc.stderr}"
    return proc.stdout


def kafka_roundtrip_read(stack: LocalStack, topic: str) -> list[str]:
    out = kcat("-b", stack.kafka_bootstrap(), "-t", topic, "-C", "-o", "beginning", "-e", "-q")
    return [line for line in out.splitlines() if line]


# --- each service answers a real request ---------------------------------------------------


def test_status_reports_every_service_healthy_with_pid_port_and_version(stack: LocalStack) -> None:
    proc = stack.run("status")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    st = stack.status()
    assert sorted(st) == sorted(SERVICES)
    for svc in st.values():
        assert svc["state"] == "healthy", svc
        assert isinstance(svc["pid"], int) and svc["pid"] > 0
        assert os.path.exists(f"/proc/{svc['pid']}")
    assert st["postgres"]["port"] == stack.ports["postgres_port"]
    assert st["postgres"]["version"].startswith("15.")
    assert st["kafka"]["version"].startswith("4.")
    assert st["cassandra"]["version"].startswith("5.0.")
    assert "debezium 3.7.0.Final" in st["connect"]["version"]
    assert st["mock-api"]["version"].startswith("streamflow ")
    assert st["registry"]["version"].startswith("3.")


def test_postgres_select_one_as_streamflow_role(stack: LocalStack) -> None:
    with stack.pg_connect() as conn:
        assert row(conn, "select 1") == (1,)
        user, db = row(conn, "select current_user, current_database()")
        assert (user, db) == ("streamflow", "streamflow")
        assert row(conn, "show wal_level") == ("logical",)
        # Debezium needs the role to be allowed to replicate.
        assert row(conn, "select rolreplication from pg_roles where rolname = current_user") == (True,)


def test_postgres_rejects_a_wrong_password(stack: LocalStack) -> None:
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host="127.0.0.1",
            port=stack.ports["postgres_port"],
            user="streamflow",
            password="not-the-password",
            dbname="streamflow",
            connect_timeout=5,
        )


def test_kafka_produce_consume_roundtrip(stack: LocalStack) -> None:
    topic = f"it-roundtrip-{uuid.uuid4().hex[:8]}"
    messages = [f"message-{i}" for i in range(5)]
    # One partition: Kafka orders messages within a partition only.
    kcat("-b", stack.kafka_bootstrap(), "-t", topic, "-P", "-p", "0", data="\n".join(messages) + "\n")
    # Wait until as many messages are back as were sent, then compare what was read.
    got = wait_for(
        lambda: (lambda read: read if len(read) >= len(messages) else None)(kafka_roundtrip_read(stack, topic)),
        30,
        "the messages back",
    )
    assert got == messages


def test_connect_rest_lists_the_debezium_postgres_plugin(stack: LocalStack) -> None:
    url = f"http://127.0.0.1:{stack.ports['connect_port']}/connector-plugins"
    with urllib.request.urlopen(url, timeout=10) as resp:
        plugins = json.load(resp)
    classes = {p["class"] for p in plugins}
    assert "io.debezium.connector.postgresql.PostgresConnector" in classes
    pg = next(p for p in plugins if p["class"] == "io.debezium.connector.postgresql.PostgresConnector")
    assert pg["version"] == "3.7.0.Final"


def test_cassandra_release_version(stack: LocalStack) -> None:
    cluster, session = stack.cql_session()
    try:
        (row,) = session.execute("select release_version from system.local")
        assert row.release_version.startswith("5.0.")
    finally:
        cluster.shutdown()


def test_every_listener_is_on_loopback(stack: LocalStack) -> None:
    st = stack.status()
    pids = set()
    for svc in st.values():
        pids.add(svc["pid"])
        children = subprocess.run(["pgrep", "-P", str(svc["pid"])], capture_output=True, text=True).stdout
        pids.update(int(p) for p in children.split())
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    listeners = [line for line in out.splitlines() if any(f"pid={p}," in line for p in pids)]
    assert listeners, out
    for line in listeners:
        local = line.split()[3]
        assert local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:", "[::1]:")), line


def test_up_when_already_up_is_harmless(stack: LocalStack) -> None:
    before = {n: s["pid"] for n, s in stack.status().items()}
    proc = stack.up()
    assert "already running" in proc.stdout
    after = {n: s["pid"] for n, s in stack.status().items()}
    assert before == after


def test_logs_show_each_service(stack: LocalStack) -> None:
    proc = stack.run("logs", "-n", "5", check=True)
    for name in SERVICES:
        assert f"==> {name}:" in proc.stdout
    bad = stack.run("logs", "nosuch")
    assert bad.returncode != 0 and "unknown service 'nosuch'" in bad.stderr


# --- data survives down then up -------------------------------------------------------------


def test_data_survives_down_then_up(stack: LocalStack) -> None:
    marker = uuid.uuid4().hex
    topic = f"it-durable-{marker[:8]}"
    with stack.pg_connect() as conn:
        conn.execute("create table if not exists it_durable (id text primary key)")
        conn.execute("insert into it_durable values (%s)", (marker,))
    kcat("-b", stack.kafka_bootstrap(), "-t", topic, "-P", data=marker + "\n")
    wait_for(lambda: kafka_roundtrip_read(stack, topic) == [marker], 30, "message written")
    cluster, session = stack.cql_session()
    try:
        session.execute(
            "create keyspace if not exists it_durable with replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute("create table if not exists it_durable.t (id text primary key)")
        session.execute("insert into it_durable.t (id) values (%s)", (marker,))
    finally:
        cluster.shutdown()

    down = stack.down()
    assert "stopped" in down.stdout
    st = stack.status()
    assert all(s["state"] == "down" for s in st.values()), st
    for port_key in ("postgres_port", "kafka_port", "cassandra_port", "connect_port"):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", stack.ports[port_key])) != 0, f"{port_key} still open after down"

    stack.up()
    with stack.pg_connect() as conn:
        assert row(conn, "select id from it_durable where id = %s", (marker,)) == (marker,)
    assert kafka_roundtrip_read(stack, topic) == [marker]
    cluster, session = stack.cql_session()
    try:
        rows = list(session.execute("select id from it_durable.t where id = %s", (marker,)))
        assert [r.id for r in rows] == [marker]
    finally:
        cluster.shutdown()


# --- a SIGKILLed service is restarted by supervisord, and one that keeps dying is given up ------


# Kafka, Connect, Cassandra, PostgreSQL and Spark are SIGKILLed in the middle of a run by
# tests/faults, which checks that each comes back by itself and that nothing was lost; here the
# two that start in seconds.
@pytest.mark.parametrize("victim", ["postgres", "mock-api"])
def test_a_sigkilled_service_is_restarted_and_status_counts_it(stack: LocalStack, victim: str) -> None:
    before = stack.status()[victim]
    pid = before["pid"]
    restarts = int(before["facts"].get("restarts", "0").split()[0])
    os.kill(pid, signal.SIGKILL)

    def back() -> dict[str, Any] | None:
        st = stack.status()[victim]
        return st if st["state"] == "healthy" and st["pid"] not in (None, pid) else None

    st = wait_for(back, 60, f"{victim} restarted by supervisord", interval=0.5)
    assert st["restarts"] == restarts + 1
    assert st["facts"]["restarts"].startswith(f"{restarts + 1} (last: ")
    assert "terminated by SIGKILL" in st["facts"]["restarts"]
    # What depends on it (the registry's storage, Connect's task) recovers by itself too.
    wait_for(
        lambda: all(s["state"] == "healthy" for s in stack.status().values()),
        120,
        "every service healthy again",
        interval=1,
    )


def test_a_service_that_keeps_dying_at_once_is_given_up_and_up_starts_it(stack: LocalStack) -> None:
    killed: set[int] = set()

    def kill_each_new_process() -> bool:
        st = stack.status()["mock-api"]
        if "not restarted any more" in st["detail"]:
            return True
        if st["pid"] is not None and st["pid"] not in killed:
            killed.add(st["pid"])
            os.kill(st["pid"], signal.SIGKILL)
        return False

    # Each start killed within its first seconds: supervisord backs off (1, 2, 3... s) and
    # gives up after its last try.
    wait_for(kill_each_new_process, 90, "mock-api given up", interval=0.2)
    st = stack.status()["mock-api"]
    assert st["state"] == "down"
    assert "streamflow logs mock-api" in st["detail"] and "streamflow up" in st["detail"], st
    proc = stack.run("status")
    assert proc.returncode == 3 and "not restarted any more" in proc.stdout

    stack.up()
    assert stack.status()["mock-api"]["state"] == "healthy"


# --- bad situations get clear errors and leave nothing running ------------------------------


def assert_nothing_running(s: LocalStack) -> None:
    doc = s.status_doc()
    assert doc["supervisor_pid"] is None, doc
    assert all(svc["state"] == "down" for svc in doc["services"]), doc
    for key in ("postgres_port", "cassandra_port", "cassandra_storage_port", "kafka_controller_port"):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", s.ports[key])) != 0, f"{key} is still served"


def test_port_in_use_fails_naming_the_port_and_starts_nothing(fresh_stack: LocalStack) -> None:
    port = fresh_stack.ports["kafka_port"]
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen(1)
        proc = fresh_stack.run("up")
        assert proc.returncode != 0
        assert f"port {port}" in proc.stderr
        assert f"pid {os.getpid()}" in proc.stderr  # names the process holding it
        assert_nothing_running(fresh_stack)


def test_service_dying_during_start_up_is_reported_with_its_log_and_rolled_back(fresh_stack: LocalStack) -> None:
    # A Kafka data directory that claims to be formatted but is garbage: Kafka exits at start.
    data = fresh_stack.state_dir / "kafka/data"
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("this is not a kafka meta.properties\n")
    proc = fresh_stack.run("up")
    assert proc.returncode != 0
    assert "kafka" in proc.stderr and "died during start-up" in proc.stderr
    assert "last lines of" in proc.stdout and "kafka.log" in proc.stdout
    assert "    | " in proc.stdout  # the log tail itself
    assert "rolling back" in proc.stdout
    assert_nothing_running(fresh_stack)


def test_missing_java_says_what_to_do(fresh_stack: LocalStack) -> None:
    proc = fresh_stack.run("up", extra_env={"STREAMFLOW_JAVA_HOME": "/nonexistent/jvm"})
    assert proc.returncode == 78
    assert "Java 17 is missing" in proc.stderr and "make setup" in proc.stderr
    assert_nothing_running(fresh_stack)


def test_missing_jars_say_what_to_do(fresh_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> None:
    empty = tmp_path_factory.mktemp("nodeps")
    proc = fresh_stack.run("up", extra_env={"STREAMFLOW_DEPS_DIR": str(empty)})
    assert proc.returncode == 78
    assert "jars are missing" in proc.stderr and "make setup" in proc.stderr
    assert_nothing_running(fresh_stack)


def test_bad_setting_is_rejected_with_its_name(fresh_stack: LocalStack) -> None:
    proc = fresh_stack.run("up", extra_env={"STREAMFLOW_KAFKA_PORT": "99999"})
    assert proc.returncode == 64
    assert "kafka.port" in proc.stderr and "between 1 and 65535" in proc.stderr


COMMANDS = (
    "up",
    "down",
    "status",
    "watch",
    "logs",
    "migrate",
    "cql",
    "mock-api",
    "ingest",
    "reconcile",
    "resync",
    "housekeeping",
    "serve",
    "alerts",
    "airflow",
    "bench",
)


@pytest.mark.unit
def test_every_command_is_listed_with_a_summary_and_has_help() -> None:
    from conftest import streamflow_bin

    top = subprocess.run([str(streamflow_bin()), "--help"], capture_output=True, text=True, timeout=30)
    assert top.returncode == 0 and "Usage:" in top.stdout, top.stderr
    listed = [ln.split()[0] for ln in top.stdout.split("Subcommands:")[1].splitlines() if ln.strip()]
    assert tuple(listed) == COMMANDS
    for command in COMMANDS:
        proc = subprocess.run([str(streamflow_bin()), command, "--help"], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, (command, proc.stderr)
        assert f"Usage: {streamflow_bin()} {command}" in proc.stdout, (command, proc.stdout)
