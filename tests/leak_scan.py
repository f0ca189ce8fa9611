"""Reads every place a stack keeps data, whole, and reports where any of a set of strings appears
in clear: a plain pg_dump of every PostgreSQL database, every Kafka topic end to end (the CDC
topic, the dead letters, Connect's own topics), every table of every Cassandra keyspace with
data, and every log file under the state directory (service logs, Airflow task logs, Kafka log
segments and Cassandra commit logs, which are files named *.log too).

Used with the national ids and credentials that tests/corpus plants: none may appear anywhere.
tests/e2e/test_payloads_end_to_end.py proves the scan finds a leak in each of the four places.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from conftest import LocalStack

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Cassandra's own keyspaces that hold no rows of ours and cannot all be read with SELECT *.
SKIPPED_KEYSPACES = {"system", "system_schema", "system_virtual_schema", "system_views"}


def _grep(needles: list[str], data: bytes | None = None, path: Path | None = None) -> set[str]:
    """The needles found (as fixed strings, in any bytes) in `data` or in the file at `path`."""
    if data is not None and not data:
        return set()
    with tempfile.NamedTemporaryFile("w", prefix="sf-needles-") as f:
        f.write("\n".join(needles) + "\n")
        f.flush()
        argv = ["grep", "-aoF", "-f", f.name] + ([str(path)] if path else [])
        proc = subprocess.run(argv, input=data, capture_output=True, timeout=600)
    if proc.returncode == 2 and path is not None and not path.exists():
        return set()  # a working file (a state store's write-ahead log) deleted since it was listed
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")
    return {line.decode(errors="replace") for line in proc.stdout.splitlines()}


def as_superuser(stack: LocalStack, tool: str) -> list[str]:
    """A PostgreSQL client tool with the options to reach the stack as its superuser, over the local
    socket (trusted there only)."""
    socket_dir = str(stack.state_dir / "run/postgres")
    return [str(PG_BIN / tool), "-h", socket_dir, "-p", str(stack.ports["postgres_port"]), "-U", "postgres"]


def psql(stack: LocalStack, sql: str, database: str = "postgres") -> str:
    """One statement as the superuser; its rows."""
    cmd = [*as_superuser(stack, "psql"), "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def databases(stack: LocalStack) -> list[str]:
    return psql(stack, "SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1").split()


def pg_dump(stack: LocalStack, database: str) -> bytes:
    """A plain-SQL dump of one database, as its superuser."""
    proc = subprocess.run(
        [*as_superuser(stack, "pg_dump"), "--format=plain", database], capture_output=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def topics(stack: LocalStack) -> list[str]:
    proc = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-L", "-J"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return sorted(t["topic"] for t in json.loads(proc.stdout)["topics"])


def topic_bytes(stack: LocalStack, topic: str) -> bytes:
    """Every message of every partition, keys, headers and values, as raw bytes."""
    proc = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\t%h\t%s\n"],
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def cassandra_tables(session: Any) -> list[tuple[str, str]]:
    rows = session.execute("SELECT keyspace_name, table_name FROM system_schema.tables")
    return sorted((r.keyspace_name, r.table_name) for r in rows if r.keyspace_name not in SKIPPED_KEYSPACES)


def table_bytes(session: Any, keyspace: str, table: str) -> bytes:
    from cassandra.query import SimpleStatement

    out = []
    for row in session.execute(SimpleStatement(f'SELECT * FROM "{keyspace}"."{table}"', fetch_size=5000)):
        out.append(repr(tuple(row)))
    return "\n".join(out).encode()


def log_files(state_dir: Path) -> list[Path]:
    """Every log under the state directory: the logs/ folders, and any file named *.log*."""
    out = []
    for path in state_dir.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        if "logs" in path.relative_to(state_dir).parts[:-1] or ".log" in path.name:
            out.append(path)
    return sorted(out)


def scan(stack: LocalStack, needles: list[str]) -> dict[str, dict[str, list[str]]]:
    """{place: {needle: [where...]}} for every needle found in clear; empty when none is."""
    hits: dict[str, dict[str, list[str]]] = {"postgres": {}, "kafka": {}, "cassandra": {}, "logs": {}}

    def note(place: str, where: str, found: set[str]) -> None:
        for needle in found:
            hits[place].setdefault(needle, []).append(where)

    for db in databases(stack):
        note("postgres", f"pg_dump {db}", _grep(needles, pg_dump(stack, db)))
    for topic in topics(stack):
        note("kafka", topic, _grep(needles, topic_bytes(stack, topic)))
    cluster, session = stack.cql_session()
    cluster.profile_manager.default.request_timeout = 120
    try:
        for keyspace, table in cassandra_tables(session):
            note("cassandra", f"{keyspace}.{table}", _grep(needles, table_bytes(session, keyspace, table)))
    finally:
        cluster.shutdown()
    for path in log_files(stack.state_dir):
        note("logs", str(path.relative_to(stack.state_dir)), _grep(needles, path=path))
    return {place: found for place, found in hits.items() if found}


def places_scanned(stack: LocalStack) -> dict[str, int]:
    """How much each place held when scanned (a scan of nothing proves nothing)."""
    cluster, session = stack.cql_session()
    try:
        tables = len(cassandra_tables(session))
    finally:
        cluster.shutdown()
    return {
        "databases": len(databases(stack)),
        "topics": len(topics(stack)),
        "cassandra_tables": tables,
        "log_files": len(log_files(stack.state_dir)),
    }
