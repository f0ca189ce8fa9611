"""The control room (`/api/v1/control/...` and the dashboard's #control page) on the real stack
with data flowing: every figure against the engine's own tool (kcat, Connect's REST API, the
registry's API, Spark's REST API, CQL, PostgreSQL's catalogs), the actions with and without the
token and their audit log, the alerts in /metrics, `status` and `streamflow alerts`, a real
Prometheus scraping serve with the shipped rules, and the page in a real browser.

Issue: "Control room: what Control Center gives its users, in StreamFlow's dashboard". Uses the
session's `streaming_stack`; the last test kills Kafka Connect and starts it again.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, BrowserScript, LocalStack, continuous_ingest, free_ports, http_call, row, wait_for

pytestmark = [pytest.mark.integration]

CDC_TOPIC = "streamflow.staging.users"
CONNECTOR = "streamflow-staging"
CREDENTIAL_KEYS = {"password", "salt", "md5", "sha1", "sha256"}


def call(url: str, method: str = "GET", token: str | None = None, timeout: float = 30) -> tuple[int, Any]:
    """(status, parsed JSON or text), with the token as a bearer when given; 0 and why when nothing answers."""
    return http_call(url, {"Authorization": f"Bearer {token}"} if token is not None else None, method, timeout)


@pytest.fixture(scope="module")
def flowing(streaming_stack: LocalStack, api: str) -> Iterator[subprocess.Popen[bytes]]:
    """Ingestion in the background for the whole module, and users already in Cassandra."""
    proc = continuous_ingest(streaming_stack, 200)
    try:
        wait_for(lambda: (t := call(api + "/api/v1/totals"))[0] == 200 and t[1]["users"] > 0, 180, "users in Cassandra")
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.fixture(scope="module")
def token(streaming_stack: LocalStack) -> str:
    """The serve token as `status` shows it (the way an operator finds it)."""
    facts = streaming_stack.status()["serve"]["facts"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", facts["action token"]), "status must show the token"
    return str(facts["action token"])


def kcat_metadata(stack: LocalStack) -> dict[str, Any]:
    out = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-L", "-J"], capture_output=True, text=True, timeout=60, check=True
    )
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def kcat_end_offset(stack: LocalStack, topic: str, partition: int) -> int:
    """The partition's end offset as kcat's offset query (-Q, timestamp -1) gives it."""
    out = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-Q", "-t", f"{topic}:{partition}:-1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    m = re.search(r"\[\d+\]\s+offset\s+(-?\d+)", out.stdout)
    assert m, out.stdout
    return int(m.group(1))


def keys_at_any_depth(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_at_any_depth(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_at_any_depth(v)}
    return set()


def test_brokers_and_topics_match_kcat(streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]) -> None:
    meta = kcat_metadata(streaming_stack)
    status, brokers = call(api + "/api/v1/control/kafka/brokers")
    assert status == 200, brokers
    assert {(b["id"], f"{b['host']}:{b['port']}") for b in brokers["brokers"]} == {
        (b["id"], b["name"]) for b in meta["brokers"]
    }
    assert all(b["up"] for b in brokers["brokers"])
    # One node: it is the KRaft quorum's leader, and the broker kcat calls the controller.
    assert brokers["controller_id"] == meta["controllerid"] == 1 and brokers["controller_source"] == "quorum"
    status, topics = call(api + "/api/v1/control/kafka/topics")
    assert status == 200, topics
    ours = {t["name"]: t for t in topics["topics"]}
    assert set(ours) == {t["topic"] for t in meta["topics"]}
    for t in meta["topics"]:
        mine = ours[t["topic"]]
        assert mine["partitions"] == len(t["partitions"])
        by_id = {p["partition"]: p for p in mine["partition_list"]}
        for p in t["partitions"]:
            assert by_id[p["partition"]]["leader"] == p["leader"], (t["topic"], p)
            assert by_id[p["partition"]]["replicas"] == [r["id"] for r in p["replicas"]]
            assert sorted(by_id[p["partition"]]["isr"]) == sorted(r["id"] for r in p["isrs"])
        assert mine["under_replicated"] == 0 and mine["offline"] == 0
    # End offsets against kcat's offset query, on a topic nobody writes during the test (the
    # dead-letter topic), and the CDC topic never behind what kcat saw a moment before.
    dlq = ours["streamflow.dlq"]["partition_list"][0]
    assert dlq["end_offset"] == kcat_end_offset(streaming_stack, "streamflow.dlq", 0)
    before = kcat_end_offset(streaming_stack, CDC_TOPIC, 0)
    status, again = call(api + "/api/v1/control/kafka/topics")
    cdc0 = next(t for t in again["topics"] if t["name"] == CDC_TOPIC)["partition_list"][0]
    assert cdc0["end_offset"] >= before
    assert cdc0["size_bytes"] > 0  # the single layout's log directory is on this host
    # Messages per second come from serve's looks while users flow.
    wait_for(
        lambda: (
            next(t for t in call(api + "/api/v1/control/kafka/topics")[1]["topics"] if t["name"] == CDC_TOPIC)[
                "messages_per_s"
            ]
            or 0
        )
        > 0,
        30,
        "messages per second on the CDC topic",
    )


def test_the_message_browser_decodes_the_cdc_topic_with_no_credential(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    status, page = call(api + f"/api/v1/control/kafka/messages?topic={CDC_TOPIC}&partition=1&limit=5")
    assert status == 200, page
    messages = page["messages"]
    assert len(messages) == 5
    offsets = [m["offset"] for m in messages]
    # Oldest first, each once: the offsets have gaps, where Connect's transactions left their
    # commit markers.
    assert offsets == sorted(set(offsets))
    for m in messages:
        assert m["value_encoding"] == "avro" and isinstance(m["schema_id"], int), m
        after = m["value"]["after"]
        assert re.fullmatch(r"[0-9a-f-]{36}", after["user_id"]), after
        assert not (keys_at_any_depth(m["value"]) & CREDENTIAL_KEYS)
    # The same message as kcat reads it: same offset, same key bytes (the registry-framed key).
    first = messages[0]
    out = subprocess.run(
        [
            "kcat",
            "-b",
            streaming_stack.kafka_bootstrap(),
            "-C",
            "-t",
            CDC_TOPIC,
            "-p",
            "1",
            "-o",
            str(first["offset"]),
            "-c",
            "1",
            "-e",
            "-q",
            "-f",
            "%o %T\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    offset, ts = out.stdout.split()
    assert int(offset) == first["offset"]
    assert first["timestamp"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(int(ts) / 1000)))
    # Errors name what is wrong.
    assert call(api + "/api/v1/control/kafka/messages?partition=0")[0] == 400
    assert call(api + "/api/v1/control/kafka/messages?topic=nope.nothing&partition=0")[0] == 404
    assert call(api + f"/api/v1/control/kafka/messages?topic={CDC_TOPIC}&limit=0")[0] == 400
    # Kafka's and Connect's own topics (offsets, configs, Connect's session key) are not browsed.
    status, body = call(api + "/api/v1/control/kafka/messages?topic=streamflow-connect-configs")
    assert status == 400 and "internal topic" in body["error"], body


def test_consumers_show_the_spark_queries_lag_per_partition(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    def spark_users() -> dict[str, Any] | None:
        status, doc = call(api + "/api/v1/control/consumers")
        assert status == 200, doc
        return next((g for g in doc["groups"] if g["group"] == "spark:users"), None)

    group = wait_for(spark_users, 60, "the Spark job's users query as a consumer")
    assert group["source"] == "spark"
    parts = {(p["topic"], p["partition"]) for p in group["partitions"]}
    assert parts == {(CDC_TOPIC, i) for i in range(3)}
    for p in group["partitions"]:
        assert 0 <= p["committed"] <= p["end"] and p["lag"] == p["end"] - p["committed"]
    # Lag over time: one point per look, for each consumer.
    wait_for(lambda: len(call(api + "/api/v1/control/consumers")[1]["history"]) >= 3, 30, "three looks")


def test_connect_view_matches_connects_rest_api(streaming_stack: LocalStack, api: str) -> None:
    connect = f"http://127.0.0.1:{streaming_stack.ports['connect_port']}"
    status, mine = call(api + "/api/v1/control/connect")
    assert status == 200, mine
    _, theirs = call(f"{connect}/connectors/{CONNECTOR}/status")
    c = next(x for x in mine["connectors"] if x["name"] == CONNECTOR)
    assert c["state"] == theirs["connector"]["state"] and c["worker_id"] == theirs["connector"]["worker_id"]
    assert [(t["id"], t["state"], t["worker_id"]) for t in c["tasks"]] == [
        (t["id"], t["state"], t["worker_id"]) for t in sorted(theirs["tasks"], key=lambda t: t["id"])
    ]
    assert c["class"] == "io.debezium.connector.postgresql.PostgresConnector"
    assert mine["workers"] == [
        {"id": f"127.0.0.1:{streaming_stack.ports['connect_port']}", "up": True, "connectors": 1, "tasks": 1}
    ]


def test_actions_need_the_token_and_land_in_the_audit_log(
    streaming_stack: LocalStack, api: str, token: str, flowing: subprocess.Popen[bytes]
) -> None:
    connect = f"http://127.0.0.1:{streaming_stack.ports['connect_port']}"
    base = f"{api}/api/v1/control/connect/connectors/{CONNECTOR}"
    assert call(f"{base}/pause", "POST")[0] == 401
    assert call(f"{base}/pause", "POST", token="x" * len(token))[0] == 401
    assert call(f"{base}/tasks/0/restart", "POST", token="")[0] == 401
    assert call(f"{connect}/connectors/{CONNECTOR}/status")[1]["connector"]["state"] == "RUNNING"  # untouched
    assert call(f"{api}/api/v1/control/connect/connectors/no-such/pause", "POST", token=token)[0] == 404
    # With the token: pause, resume, restart a task; Connect itself says each happened.
    status, body = call(f"{base}/pause", "POST", token=token)
    assert status == 200 and body["done"] == "pause", body
    wait_for(
        lambda: call(f"{connect}/connectors/{CONNECTOR}/status")[1]["connector"]["state"] == "PAUSED", 60, "PAUSED"
    )
    assert call(f"{base}/resume", "POST", token=token)[0] == 200
    wait_for(
        lambda: call(f"{connect}/connectors/{CONNECTOR}/status")[1]["tasks"][0]["state"] == "RUNNING", 60, "RUNNING"
    )
    status, body = call(f"{base}/tasks/0/restart", "POST", token=token)
    assert status == 200, body
    wait_for(
        lambda: call(f"{connect}/connectors/{CONNECTOR}/status")[1]["tasks"][0]["state"] == "RUNNING",
        60,
        "the restarted task running",
    )
    # The audit log: every attempt, newest first, the token never in it.
    _, audit = call(f"{api}/api/v1/control/audit?limit=7")
    got = [(e["action"], e["outcome"], e["status"]) for e in audit["entries"]]
    assert got == [
        ("restart_task", "done", 200),
        ("resume", "done", 200),
        ("pause", "done", 200),
        ("pause", "failed", 404),
        ("restart_task", "refused", 401),
        ("pause", "refused", 401),
        ("pause", "refused", 401),
    ], got
    text = (streaming_stack.state_dir / "serve" / "audit.log").read_text()
    assert token not in text and "x" * len(token) not in text
    for log in (streaming_stack.state_dir / "logs").glob("*.log"):
        assert token not in log.read_text(errors="replace"), log


def test_schemas_match_the_registry(streaming_stack: LocalStack, api: str) -> None:
    reg = streaming_stack.registry_url
    status, doc = call(api + "/api/v1/control/schemas")
    assert status == 200 and doc["enabled"], doc
    subjects = call(f"{reg}/subjects")[1]
    assert sorted(s["subject"] for s in doc["subjects"]) == sorted(subjects)
    assert doc["compatibility"] == call(f"{reg}/config")[1]["compatibilityLevel"]
    value = f"{CDC_TOPIC}-value"
    mine = next(s for s in doc["subjects"] if s["subject"] == value)
    assert mine["versions"] == call(f"{reg}/subjects/{value}/versions")[1]
    latest = mine["versions"][-1]
    status, v = call(f"{api}/api/v1/control/schemas/{urllib.parse.quote(value)}/versions/{latest}")
    assert status == 200, v
    theirs = call(f"{reg}/subjects/{value}/versions/{latest}")[1]
    assert v["id"] == theirs["id"] and v["schema"] == json.loads(theirs["schema"])
    status, d = call(f"{api}/api/v1/control/schemas/{urllib.parse.quote(value)}/diff?from={latest}&to={latest}")
    assert status == 200 and d["fields_added"] == [] and all(ln["op"] == " " for ln in d["lines"]), d
    assert call(f"{api}/api/v1/control/schemas/{urllib.parse.quote(value)}/versions/9999")[0] == 404
    assert call(f"{api}/api/v1/control/schemas/{urllib.parse.quote(value)}/diff?from=1")[0] == 400


def test_spark_view_matches_sparks_rest_api(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    ui = f"http://127.0.0.1:{streaming_stack.ports['spark_ui_port']}/api/v1/applications"

    def with_application() -> dict[str, Any] | None:
        status, doc = call(api + "/api/v1/control/spark")
        assert status == 200, doc
        return doc if doc["application"] else None

    doc = wait_for(with_application, 60, "the application in the Spark view")
    apps = call(ui)[1]
    assert doc["application"]["id"] == apps[0]["id"]
    executors = call(f"{ui}/{apps[0]['id']}/executors")[1]
    assert sorted(e["id"] for e in doc["executors"]) == sorted(e["id"] for e in executors)
    assert doc["masters"] == []  # the single layout runs the job in local mode
    queries = {q["name"]: q for q in doc["queries"]}
    assert set(queries) == {"users", "analytics"}
    wait_for(lambda: any(q["batches"] for q in call(api + "/api/v1/control/spark")[1]["queries"]), 60, "batches")


def test_cassandra_and_postgres_views_match_their_catalogs(streaming_stack: LocalStack, api: str) -> None:
    status, cass = call(api + "/api/v1/control/cassandra")
    assert status == 200, cass
    cluster, session = streaming_stack.cql_session()
    try:
        local = session.execute("SELECT host_id, data_center, rack, release_version FROM system.local").one()
    finally:
        cluster.shutdown()
    assert len(cass["nodes"]) == 1
    node = cass["nodes"][0]
    assert node["state"] == "up" and node["status"] == "NORMAL", node
    assert node["host_id"] == str(local.host_id) and node["datacenter"] == local.data_center
    assert node["release_version"] == local.release_version

    # A restart of the connector's task (test_actions_need_the_token_... makes one) lets go of the replication
    # slot and takes it again a moment later: read PostgreSQL and the view until both show it taken and agree.
    def agreeing() -> tuple[dict[str, Any], int] | None:
        status, pg = call(api + "/api/v1/control/postgres")
        assert status == 200, pg
        with streaming_stack.pg_connect() as conn:
            slots = {r[0]: r[1] for r in conn.execute("SELECT slot_name, active FROM pg_replication_slots").fetchall()}
            max_conn = int(row(conn, "SHOW max_connections")[0])
        seen = {s["name"]: s["active"] for s in pg["slots"]}
        return (pg, max_conn) if seen == slots and slots.get("streamflow_cdc") is True else None

    pg, max_conn = wait_for(agreeing, 60, "the PostgreSQL view and pg_replication_slots to agree on an active slot")
    assert all(s["retained_wal_bytes"] >= 0 for s in pg["slots"])
    assert pg["max_connections"] == max_conn and pg["connections_total"] >= 1


def test_reconcile_outcome_alerts_metrics_and_status(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    proc = streaming_stack.run("reconcile", "--freshness", "600")
    assert proc.returncode == 0, proc.stderr
    with streaming_stack.pg_connect() as conn:
        ok, report = row(conn, "SELECT ok, report FROM staging.reconcile_runs ORDER BY run_at DESC LIMIT 1")
    assert ok is True and report["missing"] == 0

    def metric(text: str, name: str) -> float | None:
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    # serve reads the outcome within its next reads of it (every 30 s).
    def reconciled() -> str | None:
        body = str(call(api + "/metrics")[1])
        return body if metric(body, "streamflow_reconcile_ok") == 1 else None

    text = wait_for(reconciled, 45, "streamflow_reconcile_ok 1")
    assert metric(text, "streamflow_kafka_under_replicated_partitions") == 0
    assert re.search(r'^streamflow_consumer_lag_messages\{consumer="spark:users"\} \d', text, re.M)
    assert re.search(r'^streamflow_kafka_broker_up\{broker="1"\} 1$', text, re.M)
    status, alerts = call(api + "/api/v1/control/alerts")
    assert status == 200 and {r["name"] for r in alerts["rules"]} >= {
        "service_down",
        "consumer_lag",
        "reconcile_failed",
    }
    assert alerts["thresholds"]["consumer_lag_messages"] == 50000

    # `streamflow alerts` says the same as serve, with its exit status, and `status` the same on
    # serve's line (asked one after the other: a figure may cross a threshold in between).
    def agree() -> bool:
        cli = streaming_stack.run("alerts", "--json")
        firing = json.loads(cli.stdout)["firing"]
        line = str(streaming_stack.status()["serve"]["facts"]["alerts"])
        assert cli.returncode == (1 if firing else 0), (cli.returncode, firing)
        return line.startswith("none firing" if not firing else f"{len(firing)} firing")

    wait_for(agree, 60, "`streamflow alerts` and `status` to agree")


class Prometheus:
    """A real Prometheus (Debian's) scraping serve every second with the shipped rules loaded,
    on its own port and data directory."""

    def __init__(self, target: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sf-prom-"))
        self.port = free_ports(1)[0]
        rules = self.dir / "rules.yml"
        shutil.copy(REPO / "deploy/prometheus/streamflow-alerts.yml", rules)
        (self.dir / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files:\n  - {rules}\n"
            f"scrape_configs:\n  - job_name: streamflow\n    static_configs:\n      - targets: ['{target}']\n"
        )
        self.log = open(self.dir / "prometheus.log", "w")  # closed in stop()
        self.proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for(lambda: call(self.url + "/-/ready")[0] == 200, 60, "Prometheus ready")

    def api(self, path: str) -> Any:
        status, body = call(self.url + path)
        assert status == 200, body
        return body["data"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_the_control_room_in_chromium_and_prometheus_see_kafka_connect_die(
    streaming_stack: LocalStack, api: str, token: str, flowing: subprocess.Popen[bytes]
) -> None:
    prom = Prometheus(api.removeprefix("http://"))
    shot = REPO / "build/control-room.png"
    try:
        with BrowserScript(
            "control.mjs", [api + "/", str(shot), token, CDC_TOPIC, "connect"], REPO / "build/control-room-node.log"
        ) as page:
            lines = page.lines
            wait_for(
                lambda: len(lines) >= 3 or any(ln["step"] == "error" for ln in lines), 240, "the page's first steps"
            )
            steps = {ln["step"]: ln for ln in lines}
            assert "error" not in steps, steps.get("error")
            assert [b["id"] for b in steps["kafka"]["brokers"]] == [1] and steps["kafka"]["brokers"][0]["up"]
            assert CDC_TOPIC in steps["kafka"]["topics"] and "streamflow.dlq" in steps["kafka"]["topics"]
            shown = steps["messages"]["messages"]
            assert shown and all('"after"' in m["value"] and "avro" in m["meta"] for m in shown)
            assert not any(f'"{k}"' in m["value"] for m in shown for k in CREDENTIAL_KEYS)
            acts = steps["actions"]
            assert {"name": CONNECTOR, "state": "RUNNING"} in acts["connectors"]
            assert acts["refused"].startswith("401") and "done" in acts["done"]
            # Newest first: this restart, then the refused one just before it.
            mine = [(e["action"], e["outcome"]) for e in acts["audit"] if e["at"] >= acts["clickedAt"] - 60000]
            assert mine[:2] == [("restart_task", "done"), ("restart_task", "refused")], acts["audit"]
            wait_for(
                lambda: call(f"http://127.0.0.1:{streaming_stack.ports['connect_port']}/connectors/{CONNECTOR}/status")[
                    1
                ]["tasks"][0]["state"]
                == "RUNNING",
                60,
                "the task restarted from the page running",
            )
            # Prometheus: every target up, the rules loaded, nothing about Connect firing yet.
            wait_for(
                lambda: [t["health"] for t in prom.api("/api/v1/targets")["activeTargets"]] == ["up"], 30, "target up"
            )
            shipped = (REPO / "deploy/prometheus/streamflow-alerts.yml").read_text().count("- alert: ")
            assert len(prom.api("/api/v1/rules")["groups"][0]["rules"]) == shipped == 10
            # Kill Kafka Connect: the page's worker row turns red and its alert fires within 10 s;
            # Prometheus fires service_down{service="connect"} from the metrics alone.
            streaming_stack.kill_and_hold_down("connect")
            killed = time.monotonic()
            page.go()
        down = lines[-1]
        assert down["step"] == "down", lines[-1]
        assert down["rowMs"] <= 10000 and down["alertMs"] <= 10000, down
        assert down["color"] == "rgb(255, 240, 240)" and "connect is down" in down["alert"]
        assert down["failures"] == []
        assert shot.stat().st_size > 10000

        def fired() -> bool:
            return any(
                a["labels"].get("alertname") == "service_down"
                and a["labels"].get("service") == "connect"
                and a["state"] == "firing"
                for a in prom.api("/api/v1/alerts")["alerts"]
            )

        wait_for(fired, 30, "Prometheus firing service_down for connect")
        assert time.monotonic() - killed < 40
    finally:
        prom.stop()
        streaming_stack.up(timeout=600)  # Connect back (supervisord restarts it; up waits for its connector)
