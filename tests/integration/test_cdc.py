"""Change data capture: staging.users -> Debezium on Kafka Connect -> the CDC topic, in Avro
with its schemas in the registry.

Issues: "Streaming path: Debezium CDC -> Kafka -> Spark Structured Streaming -> Cassandra",
item 1 (CDC); "Schema Registry and Avro on the CDC path", items 1 and 2.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import LocalStack, free_ports, http_call, row, streamflow_bin, wait_for
from pipeline_checks import cdc_events, kafka_tool, kcat_consume_raw, registry_get

pytestmark = pytest.mark.integration

TOPIC = "streamflow.staging.users"
CONNECTOR = "streamflow-staging"


def connect_get(stack: LocalStack, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports['connect_port']}{path}", timeout=10) as r:
        return json.load(r)


def now_ms() -> int:
    """Now, as Kafka stamps a record (epoch ms): a test reads the topic from its own start, not
    through what the modules before it wrote there."""
    return int(time.time() * 1000)


def events(stack: LocalStack, since_ms: int, topic: str = TOPIC) -> list[dict[str, Any]]:
    """The topic's messages stamped since `since_ms`, key and value decoded from Avro through
    the registry: {"key": ..., "value": ... or None, "partition": ..., "offset": ...}."""
    return cdc_events(stack, topic, since_ms)


def events_for(stack: LocalStack, user_ids: set[str], since_ms: int) -> list[dict[str, Any]]:
    return [e for e in events(stack, since_ms) if e["key"] and e["key"].get("user_id") in user_ids]


def staged_ids(stack: LocalStack, seed_like: str) -> set[str]:
    """The user ids staged by the ingest runs whose seed matches `seed_like` (SQL LIKE)."""
    with stack.pg_connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT u.user_id::text FROM staging.users u JOIN staging.ingest_batches b USING (batch_id) "
                "WHERE b.seed LIKE %s",
                (seed_like,),
            ).fetchall()
        }


def running(stack: LocalStack) -> bool:
    try:
        st = connect_get(stack, f"/connectors/{CONNECTOR}/status")
    except OSError:
        return False
    return bool(st["connector"]["state"] == "RUNNING" and [t["state"] for t in st["tasks"]] == ["RUNNING"])


def test_up_registers_the_connector_and_status_shows_it_and_the_slot(stack: LocalStack) -> None:
    wait_for(lambda: running(stack), 60, "connector and task RUNNING")
    config = connect_get(stack, f"/connectors/{CONNECTOR}/config")
    assert config["table.include.list"] == "staging.users"
    assert config["database.password"].startswith("${file:")  # never in clear in Connect's topic
    facts = stack.status()["connect"]["facts"]
    assert facts["connector"].startswith("RUNNING") and "task0=RUNNING" in facts["connector"]
    assert facts["slot"] == "streamflow_cdc active"
    # The connector confirms what it has read, and a heartbeat keeps the slot moving when staging
    # is idle: once it has caught up, the slot holds no more than a few WAL segments.
    limit = 64 * 1024 * 1024
    retained = wait_for(
        lambda: (lambda b: b if b < limit else None)(
            int(stack.status()["connect"]["facts"]["slot_retained_wal_bytes"])
        ),
        120,
        "the slot to hold less than 64 MiB of WAL",
    )
    assert 0 <= retained < limit


def test_inserts_reach_the_topic_once_and_a_no_op_rerun_emits_nothing(stack: LocalStack) -> None:
    wait_for(lambda: running(stack), 60, "connector RUNNING")
    since = now_ms()
    seed = f"cdc-{uuid.uuid4().hex[:6]}"
    proc = stack.run("ingest", "-q", "-n", "2000", "--batch-size", "1000", "--seed", seed)
    assert proc.returncode == 0, proc.stderr
    ids = staged_ids(stack, seed)
    assert len(ids) == 2000
    got = wait_for(
        lambda: (lambda e: e if len(e) >= 2000 else None)(events_for(stack, ids, since)), 60, "2000 CDC events"
    )
    assert len(got) == 2000 and {e["key"]["user_id"] for e in got} == ids
    sample = got[0]["value"]
    assert sample["op"] in ("c", "r") and sample["after"]["user_id"] in ids
    assert sample["source"]["table"] == "users" and sample["source"]["schema"] == "staging"
    assert "password" not in json.dumps(sample) and "id_hash" in sample["after"]

    proc = stack.run("ingest", "-q", "-n", "2000", "--batch-size", "1000", "--seed", seed)
    assert proc.returncode == 0
    # A marker change after the re-run proves the connector has caught up past it.
    marker = sorted(ids)[0]
    with stack.pg_connect() as conn:
        conn.execute("UPDATE staging.users SET city = 'Marker City' WHERE user_id = %s", (marker,))
    wait_for(
        lambda: any(e["value"] and e["value"]["op"] == "u" for e in events_for(stack, {marker}, since)),
        60,
        "the marker update",
    )
    per_id: dict[str, int] = {}
    for e in events_for(stack, ids, since):
        if e["value"] and e["value"]["op"] in ("c", "r"):
            per_id[e["key"]["user_id"]] = per_id.get(e["key"]["user_id"], 0) + 1
    assert set(per_id.values()) == {1}, "a no-op re-run emitted change events"
    assert len([e for e in events_for(stack, ids, since) if e["value"] and e["value"]["op"] == "u"]) == 1


def kafka_transactions(stack: LocalStack, *args: str) -> list[dict[str, str]]:
    """Kafka's own kafka-transactions tool against the stack's brokers: its table, one dict
    per row by the header's column names."""
    proc = kafka_tool(stack.kafka_bootstrap(), "TransactionsCommand", *args)
    assert proc.returncode == 0, proc.stderr
    lines = [line.split() for line in proc.stdout.splitlines() if line.strip()]
    return [dict(zip(lines[0], cells, strict=False)) for cells in lines[1:]]


def test_the_connector_writes_its_changes_with_its_offsets_in_kafka_transactions(stack: LocalStack) -> None:
    """Each batch the task hands over and its source offsets commit together: a task killed
    mid-batch leaves an aborted transaction, which the streaming job (read_committed) skips,
    and resumes after what it committed. The fault suite kills Connect mid-run and counts."""
    wait_for(lambda: running(stack), 60, "connector RUNNING")
    config = connect_get(stack, f"/connectors/{CONNECTOR}/config")
    assert (config["exactly.once.support"], config["transaction.boundary"]) == ("required", "poll")
    seed = f"eos-{uuid.uuid4().hex[:6]}"
    since = now_ms()
    proc = stack.run("ingest", "-q", "-n", "300", "--batch-size", "100", "--seed", seed)
    assert proc.returncode == 0, proc.stderr
    ids = staged_ids(stack, seed)
    # Read as the job reads (kcat: librdkafka's default isolation is read_committed).
    got = wait_for(
        lambda: (lambda e: e if len(e) >= 300 else None)(events_for(stack, ids, since)), 60, "300 CDC events"
    )
    assert len(got) == 300
    # The task's producer is transactional (Connect names it <group>-<connector>-<task>) and
    # its transactions commit.
    task = f"streamflow-connect-{CONNECTOR}-0"
    mine = [t for t in kafka_transactions(stack, "list") if t.get("TransactionalId") == task]
    assert len(mine) == 1, kafka_transactions(stack, "list")
    described = kafka_transactions(stack, "describe", "--transactional-id", task)
    assert described and described[0]["TransactionState"] in ("Ongoing", "PrepareCommit", "CompleteCommit"), described


def test_update_carries_the_old_row_and_delete_ends_in_a_tombstone(stack: LocalStack) -> None:
    wait_for(lambda: running(stack), 60, "connector RUNNING")
    seed = f"cdc-ud-{uuid.uuid4().hex[:6]}"
    since = now_ms()
    assert stack.run("ingest", "-q", "-n", "10", "--batch-size", "10", "--seed", seed).returncode == 0
    with stack.pg_connect() as conn:
        victim, other = [
            r[0]
            for r in conn.execute(
                "SELECT u.user_id::text FROM staging.users u JOIN staging.ingest_batches b USING (batch_id) "
                "WHERE b.seed = %s ORDER BY 1 LIMIT 2",
                (seed,),
            ).fetchall()
        ]
        old_city = row(conn, "SELECT city FROM staging.users WHERE user_id = %s", (other,))[0]
        conn.execute("UPDATE staging.users SET city = 'Updated City' WHERE user_id = %s", (other,))
        conn.execute("DELETE FROM staging.users WHERE user_id = %s", (victim,))

    def changes() -> list[dict[str, Any]] | None:
        evs = events_for(stack, {victim, other}, since)
        ops = [(e["key"]["user_id"], e["value"]["op"] if e["value"] else "tombstone") for e in evs]
        return evs if (other, "u") in ops and (victim, "d") in ops and (victim, "tombstone") in ops else None

    evs = wait_for(changes, 60, "update, delete and tombstone")
    update = next(e["value"] for e in evs if e["value"] and e["value"]["op"] == "u")
    assert update["before"]["city"] == old_city  # REPLICA IDENTITY FULL: the old row is there
    assert update["after"]["city"] == "Updated City"
    delete = next(e["value"] for e in evs if e["value"] and e["value"]["op"] == "d")
    assert delete["before"]["user_id"] == victim and delete["after"] is None


def test_registering_twice_is_harmless_and_a_changed_config_is_applied(stack: LocalStack) -> None:
    wait_for(lambda: running(stack), 60, "connector RUNNING")
    proc = stack.up()
    assert "up to date" in proc.stdout
    assert running(stack) or wait_for(lambda: running(stack), 60, "RUNNING after re-registration")
    proc = stack.run("up", check=True, extra_env={"STREAMFLOW_CDC_HEARTBEAT_MS": "15000"})
    assert connect_get(stack, f"/connectors/{CONNECTOR}/config")["heartbeat.interval.ms"] == "15000"
    wait_for(lambda: running(stack), 60, "RUNNING after a config change")
    stack.up()  # back to the default for the tests that follow
    assert connect_get(stack, f"/connectors/{CONNECTOR}/config")["heartbeat.interval.ms"] == "10000"


def test_events_are_avro_with_the_schemas_the_connector_registered(stack: LocalStack) -> None:
    wait_for(lambda: running(stack), 60, "connector RUNNING")
    seed = f"cdc-avro-{uuid.uuid4().hex[:6]}"
    since = now_ms()
    assert stack.run("ingest", "-q", "-n", "20", "--batch-size", "20", "--seed", seed).returncode == 0
    wait_for(
        lambda: {f"{TOPIC}-key", f"{TOPIC}-value"} <= set(registry_get(stack, "/subjects")),
        60,
        "the connector's subjects in the registry",
    )
    ids = {registry_get(stack, f"/subjects/{TOPIC}-{side}/versions/latest")["id"] for side in ("key", "value")}
    # Every event: magic byte 0 and a schema id the connector registered, then its Avro body.
    events = wait_for(lambda: cdc_events(stack, TOPIC, since) or None, 60, "this test's events on the topic")
    with_value = [e for e in events if e["value"] is not None]
    assert with_value and all(isinstance(e["value"]["op"], str) for e in with_value)
    raw = subprocess.run(
        [
            "kcat",
            "-b",
            stack.kafka_bootstrap(),
            "-t",
            TOPIC,
            "-C",
            "-o",
            "beginning",
            "-e",
            "-q",
            "-c",
            "5",
            "-f",
            "%s",
        ],
        capture_output=True,
        timeout=60,
    ).stdout
    assert raw[:1] == b"\x00" and int.from_bytes(raw[1:5], "big") in ids
    # Compact: no field names on the wire (a create was about 1.5 KB in schemaless JSON; an
    # update carries the row twice, before and after).
    creates = [e["value_bytes"] for e in with_value if e["value"]["op"] in ("c", "r")]
    assert creates and max(creates) < 1000, creates
    # The subject is held to the registry's level.
    assert registry_get(stack, "/config")["compatibilityLevel"] == "BACKWARD_TRANSITIVE"


def test_capture_goes_on_while_the_registry_is_down(stack: LocalStack) -> None:
    """The converter looks each cached schema up in the registry again every
    registry.schema_recheck_s (this stack: 5 s). A registry that does not answer then
    (restarting, or its PostgreSQL restarting) must not stop capture: the task keeps the ids it
    has, and every change reaches the topic."""
    wait_for(lambda: running(stack), 60, "connector RUNNING")
    config = connect_get(stack, f"/connectors/{CONNECTOR}/config")
    recheck_s = int(config["value.converter.apicurio.registry.check-period-ms"]) / 1000
    assert recheck_s == int(stack.env["STREAMFLOW_REGISTRY_SCHEMA_RECHECK_S"]), config
    prefix = f"cdc-noreg-{uuid.uuid4().hex[:6]}"
    since = now_ms()
    connect_log = stack.state_dir / "logs" / "connect.log"
    kept_ids = "Fault tolerant load using expired value"  # the converter's warning when it does

    def ingest(round_: int) -> None:
        proc = stack.run("ingest", "-q", "-n", "20", "--batch-size", "20", "--seed", f"{prefix}-{round_}")
        assert proc.returncode == 0, proc.stderr

    def ids() -> set[str]:
        return staged_ids(stack, f"{prefix}-%")

    def all_on_the_topic() -> bool:
        want = ids()
        return {e["key"]["user_id"] for e in events_for(stack, want, since)} == want

    ingest(0)  # the schemas are in the converter's cache
    wait_for(all_on_the_topic, 60, "the first round on the topic")
    # ... and the heartbeat topic's, which a task (re)started by an earlier test may not have
    # converted yet: a schema never seen needs the registry. One heartbeat interval (10 s).
    time.sleep(12)
    warnings_before = connect_log.read_text(errors="replace").count(kept_ids)
    stack.kill_and_hold_down("registry")
    try:
        down_since = time.monotonic()
        rounds = 1
        # Changes keep coming for three recheck periods, so that lookups fail.
        while time.monotonic() - down_since < 3 * recheck_s:
            ingest(rounds)
            rounds += 1
            time.sleep(2)
            assert running(stack), connect_get(stack, f"/connectors/{CONNECTOR}/status")
        time.sleep(recheck_s + 2)  # the last round converted, and any failure reported
        assert running(stack), connect_get(stack, f"/connectors/{CONNECTOR}/status")
        # A lookup did fail while the registry was down, and the task went on with the ids it had.
        assert connect_log.read_text(errors="replace").count(kept_ids) > warnings_before
    finally:
        stack.up()
    assert len(ids()) == 20 * rounds
    wait_for(all_on_the_topic, 60, "every round on the topic")


def test_a_capture_task_stuck_on_the_registry_is_restarted_by_the_watchdog_and_nothing_is_lost_or_doubled(
    stack: LocalStack, tmp_path: Path
) -> None:
    """The Avro converter's registry client sets no timeout: a registry that accepts the
    connection and never answers (here: stopped with SIGSTOP) holds the task in its call while
    Connect says RUNNING. Serve's watchdog sees the table change and capture not move, fires
    cdc_stalled, and restarts the task (in the audit log). Once the registry answers, every change
    is on the topic exactly once: the stuck task's producer was fenced by its successor's."""
    wait_for(lambda: running(stack), 60, "connector RUNNING")
    recheck_s = int(stack.env["STREAMFLOW_REGISTRY_SCHEMA_RECHECK_S"])
    port = free_ports(1)[0]
    log = (tmp_path / "serve.log").open("w")
    env = dict(stack.env)
    env.update(
        {
            "STREAMFLOW_SERVE_PORT": str(port),
            "STREAMFLOW_SERVE_REALTIME": "false",
            "STREAMFLOW_CONTROL_SAMPLE_MS": "500",
            "STREAMFLOW_CDC_STALL_TIMEOUT_S": "10",
        }
    )
    serve = subprocess.Popen([str(streamflow_bin()), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    prefix = f"cdc-stuck-{uuid.uuid4().hex[:6]}"
    since = now_ms()

    def ingest(round_: int) -> None:
        proc = stack.run("ingest", "-q", "-n", "20", "--batch-size", "20", "--seed", f"{prefix}-{round_}")
        assert proc.returncode == 0, proc.stderr

    def firing() -> list[str]:
        status, body = http_call(f"{base}/api/v1/control/alerts")
        return [a["rule"] for a in body["firing"]] if status == 200 else []

    def watchdog_restarts() -> list[dict[str, Any]]:
        status, body = http_call(f"{base}/api/v1/control/audit?limit=50")
        if status != 200:
            return []
        return [e for e in body["entries"] if e["client"] == "watchdog"]

    def cdc_stage() -> dict[str, Any]:
        status, body = http_call(f"{base}/api/v1/health")
        return next((s for s in body["stages"] if s["name"] == "cdc"), {}) if status == 200 else {}

    # serve and the registry are put back whatever happens: a failing assertion must not leave
    # serve running or the registry stopped for the tests after this one.
    try:
        registry_pid = stack.status()["registry"]["pid"]
        try:
            wait_for(lambda: http_call(base + "/healthz")[0] == 200, 60, "serve")
            ingest(0)  # the schemas are in the converter's cache
            ids0 = staged_ids(stack, f"{prefix}-0")
            wait_for(lambda: len(events_for(stack, ids0, since)) == 20, 60, "the first round on the topic")
            time.sleep(12)  # the heartbeat topic's schema too (one heartbeat interval)
            assert watchdog_restarts() == [] and "cdc_stalled" not in firing()
            os.kill(registry_pid, signal.SIGSTOP)
            time.sleep(recheck_s + 2)  # the cached ids expire: the next record asks the registry
            ingest(1)
            time.sleep(6)  # a second round, counted well after capture last moved
            ingest(2)
            wait_for(lambda: "cdc_stalled" in firing(), 60, "the cdc_stalled alert")
            # The dashboard's CDC card says so too.
            wait_for(lambda: "moved nothing" in cdc_stage().get("detail", ""), 10, "the CDC stage behind")
            assert cdc_stage()["state"] == "behind", cdc_stage()
            restarts = wait_for(watchdog_restarts, 60, "the watchdog's restart in the audit log")
            assert restarts[0]["action"] == "restart_task", restarts
            assert restarts[0]["target"] == f"{CONNECTOR}/0" and restarts[0]["outcome"] == "done", restarts
            assert "moved nothing" in restarts[0]["detail"], restarts
            _, metrics = http_call(f"{base}/metrics")
            assert "streamflow_connect_watchdog_restarts_total" in metrics, metrics[-3000:]
            # Still held: nothing of rounds 1 and 2 is on the topic (read_committed; counted without
            # decoding, which would ask the stopped registry).
            assert len(kcat_consume_raw(stack, TOPIC, since)) == 20
        finally:
            os.kill(registry_pid, signal.SIGCONT)
        want = staged_ids(stack, f"{prefix}-%")
        assert len(want) == 60

        def all_once() -> list[str] | None:
            keys = [e["key"]["user_id"] for e in events_for(stack, want, since) if e["value"] is not None]
            return keys if sorted(set(keys)) == sorted(keys) and set(keys) == want else None

        wait_for(all_once, 120, "every round on the topic once")
        wait_for(lambda: "cdc_stalled" not in firing(), 30, "cdc_stalled to clear")
        wait_for(lambda: cdc_stage().get("state") == "ok", 30, "the CDC stage ok again")
        assert running(stack), connect_get(stack, f"/connectors/{CONNECTOR}/status")
        # A few looks later: no change appeared twice (a fenced producer's writes are aborted).
        time.sleep(5)
        keys = [e["key"]["user_id"] for e in events_for(stack, want, since) if e["value"] is not None]
        assert len(keys) == 60 and set(keys) == want
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()
