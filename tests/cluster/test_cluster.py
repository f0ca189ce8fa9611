"""The cluster layout (deploy/cluster-local.yaml) on this machine: a ZooKeeper ensemble of three,
two Spark masters (one standing by) and two workers, three Kafka brokers, a Cassandra ring of
three and two Connect workers, each node on its own loopback address. Writes
bench/results/cluster_chaos.json.

Issue: "Cluster mode". One stack of its own, in file order:

1. The layout is what the file says: every node up; topics replicated three times with
   min.insync.replicas 2; the keyspace replicated three times on a ring of three; one master
   leads; the job's executors run on the workers; one Connect group of two.
2. 20,000 users end to end: every user in Cassandra exactly once, the analytics add up.
3. During ingest, one node of each engine in turn is SIGKILLed: the Kafka broker leading a CDC
   partition, a Cassandra node, the active Spark master, a Spark worker, a ZooKeeper node, the
   Connect worker running the Debezium task. No command is run: supervisord starts the node
   again, and the rest of the cluster carries on meanwhile. After each, nothing is lost or
   counted twice, and the node is back (with a new pid; a broker back in every in-sync set).
4. The control room (serve's #control page, in Chromium) lists the three brokers as kcat does;
   a broker SIGKILLed turns its row red and fires its alert within 10 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import REPO, BrowserScript, LocalStack, wait_for
from pipeline_checks import Cassandra, kafka_tool, paced_ingest, staging_count, wait_until_consistent, wait_until_whole

sys.path.insert(0, str(REPO / "bench"))
import result  # noqa: E402  (bench/result.py: the machine description of every result file)

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

TOPOLOGY = REPO / "deploy/cluster-local.yaml"
TOPIC = "streamflow.staging.users"
CHAOS_JSON = REPO / "bench/results/cluster_chaos.json"
VICTIMS = ("kafka_broker", "cassandra_node", "spark_master", "spark_worker", "zookeeper", "connect_worker")
SEGMENT_USERS = 3000
RATE = 500  # users/s: well below what the cluster sustains here, so that each kill lands mid-run
RECOVERY_TIMEOUT = 420

# Filled by the chaos tests, written when the module is done (only after all of them ran).
REPORT: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalStack]:
    s = LocalStack("cluster", spark=True, serve=True, topology=TOPOLOGY)
    try:
        s.up(timeout=1200)
        yield s
    finally:
        s.destroy()
    if set(REPORT) == set(VICTIMS):
        result.write(str(CHAOS_JSON), {victim: REPORT[victim] for victim in VICTIMS})


@pytest.fixture(scope="module")
def cass(cluster: LocalStack) -> Iterator[Cassandra]:
    c = Cassandra(cluster)
    yield c
    c.close()


def http_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def topic_partitions(stack: LocalStack, topic: str = TOPIC) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-L", "-J", "-t", topic], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    topics = json.loads(proc.stdout)["topics"]
    assert topics and topics[0]["topic"] == topic, topics
    partitions: list[dict[str, Any]] = topics[0]["partitions"]
    return partitions


def topic_configs(stack: LocalStack) -> dict[str, dict[str, str]]:
    """Every topic's effective configuration, as Kafka's own kafka-configs tool describes it (one
    run for all topics: the tool is a JVM that takes seconds to start)."""
    proc = kafka_tool(stack.kafka_bootstrap(), "ConfigCommand", "--entity-type", "topics", "--describe", "--all")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("All configs for topic "):
            current = out.setdefault(line.removeprefix("All configs for topic ").removesuffix(" are:"), {})
            continue
        name, sep, rest = line.strip().partition("=")
        if sep and " " not in name:
            current[name] = rest.split(" ", 1)[0]
    return out


def node_names(stack: LocalStack, prefix: str) -> list[str]:
    return sorted(name for name in stack.status() if name.startswith(prefix))


# ---- 1. the layout -----------------------------------------------------------------------


def test_every_node_of_the_file_runs_on_its_own_address(cluster: LocalStack) -> None:
    st = cluster.status()
    expected = (
        [f"zookeeper-{i}" for i in (1, 2, 3)]
        + [f"kafka-{i}" for i in (1, 2, 3)]
        + [f"cassandra-{i}" for i in (1, 2, 3)]
        + ["connect-1", "connect-2", "spark-master-1", "spark-master-2", "spark-worker-1", "spark-worker-2"]
        + ["postgres", "registry", "mock-api", "spark", "serve"]
    )
    assert sorted(st) == sorted(expected), sorted(st)
    assert all(s["state"] == "healthy" for s in st.values()), {k: (v["state"], v["detail"]) for k, v in st.items()}
    # One ZooKeeper leader and two followers; one Spark master leads, the other stands by.
    assert sorted(st[f"zookeeper-{i}"]["detail"] for i in (1, 2, 3)) == ["follower", "follower", "leader"]
    masters = sorted(st[m]["detail"].split(" ")[0] for m in ("spark-master-1", "spark-master-2"))
    assert masters == ["ALIVE", "STANDBY"], masters


def test_every_topic_is_on_three_brokers_and_needs_two_in_sync(cluster: LocalStack) -> None:
    for topic in (TOPIC, "streamflow.dlq", "streamflow-connect-offsets", "__consumer_offsets"):
        for p in topic_partitions(cluster, topic):
            assert len(p["replicas"]) == 3, (topic, p)
            assert len(p["isrs"]) == 3, (topic, p)
    configs = topic_configs(cluster)
    for topic in (TOPIC, "streamflow.dlq"):
        assert configs[topic]["min.insync.replicas"] == "2", (topic, configs.get(topic))


def test_the_keyspace_is_on_a_ring_of_three_replicated_three_times(cluster: LocalStack, cass: Cassandra) -> None:
    replication = cass.rows("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'streamflow'")
    assert replication[0].replication.get("datacenter1") == "3", replication
    # One ring: whichever node answers knows the two others (the driver's round robin takes each
    # node as coordinator in turn), and the driver sees all three up.
    for _ in cluster.cassandra_hosts:
        peers = {str(r.peer) for r in cass.rows("SELECT peer FROM system.peers_v2")}
        assert len(peers) == 2 and peers <= set(cluster.cassandra_hosts), peers
    hosts = {h.address: h.is_up for h in cass.cluster.metadata.all_hosts()}
    assert hosts == dict.fromkeys(cluster.cassandra_hosts, True), hosts


def test_the_job_runs_on_the_spark_cluster_with_an_executor_per_worker(cluster: LocalStack) -> None:
    ui = cluster.ports["spark_master_ui_port"]
    docs = [http_json(f"http://{host}:{ui}/json/") for host in cluster.spark_master_hosts]
    leader = next(d for d in docs if d["status"] == "ALIVE")
    assert [a["name"] for a in leader["activeapps"]] == ["streamflow-stream"], leader["activeapps"]
    assert sum(1 for w in leader["workers"] if w["state"] == "ALIVE") == 2, leader["workers"]
    worker_ui = cluster.ports["spark_worker_ui_port"]
    for host in cluster.spark_worker_hosts:
        worker = http_json(f"http://{host}:{worker_ui}/json/")
        assert worker["coresused"] == 1, (host, worker)
        assert len(worker["executors"]) == 1, (host, worker["executors"])


def test_connect_runs_as_one_group_of_two_workers(cluster: LocalStack) -> None:
    port = cluster.ports["connect_port"]
    states = [http_json(f"http://{host}:{port}/connectors/streamflow-staging/status") for host in cluster.connect_hosts]
    assert states[0] == states[1], states  # both workers answer for the one connector
    assert states[0]["connector"]["state"] == "RUNNING"
    assert states[0]["tasks"][0]["state"] == "RUNNING"
    assert states[0]["tasks"][0]["worker_id"].split(":")[0] in cluster.connect_hosts


def test_serve_reports_every_stage_of_the_cluster_up_with_the_connector_running(cluster: LocalStack) -> None:
    def every_stage_up() -> dict[str, Any] | None:
        h: dict[str, Any] = http_json(f"{cluster.serve_url}/api/v1/health")
        states = {s["name"]: s["state"] for s in h["stages"]}
        return h if all(state in ("ok", "behind") for state in states.values()) else None

    h = wait_for(every_stage_up, 60, "serve's health to show every stage up")
    assert h["connector"] == "RUNNING task0=RUNNING", h
    assert h["replication_slot"]["active"] is True, h


# ---- 2. 20,000 users end to end ------------------------------------------------------------


def test_twenty_thousand_users_land_once_each_and_the_analytics_add_up(cluster: LocalStack, cass: Cassandra) -> None:
    before = staging_count(cluster)
    proc = cluster.run("ingest", "-q", "-n", "20000", "--seed", "cluster-e2e", timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["inserted"] == 20000, summary
    try:
        wait_until_consistent(cluster, cass, before + 20000, timeout=600)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{cluster.diagnosis(('spark', 'connect-1', 'connect-2'))}") from e


# ---- 3. one node of each engine SIGKILLed during ingest -------------------------------------


def victim_of(stack: LocalStack, kind: str) -> tuple[str, int]:
    """The supervisord program to kill for `kind`, and its pid."""
    st = stack.status()
    name = victim_name(stack, kind, st)
    return name, int(st[name]["pid"])


def victim_name(stack: LocalStack, kind: str, st: dict[str, dict[str, Any]]) -> str:
    """The node to kill for `kind`, given what `status` just said (`st`)."""
    if kind == "kafka_broker":
        partition = next(p for p in topic_partitions(stack) if p["partition"] == 0)
        return f"kafka-{partition['leader']}"
    if kind == "cassandra_node":
        return "cassandra-2"
    if kind == "spark_master":
        return next(m for m in sorted(st) if m.startswith("spark-master-") and st[m]["detail"].startswith("ALIVE"))
    if kind == "spark_worker":
        return "spark-worker-1"
    if kind == "zookeeper":
        return next(z for z in sorted(st) if z.startswith("zookeeper-") and st[z]["detail"] == "leader")
    if kind == "connect_worker":
        port = stack.ports["connect_port"]
        status = http_json(f"http://{stack.connect_hosts[0]}:{port}/connectors/streamflow-staging/status")
        host = status["tasks"][0]["worker_id"].split(":")[0]
        return f"connect-{stack.connect_hosts.index(host) + 1}"
    raise AssertionError(kind)


def back(stack: LocalStack, kind: str, name: str, old_pid: int) -> Callable[[], bool]:
    """The killed node has rejoined: running again under a new pid and healthy (a broker back in
    the in-sync set of every CDC partition, a master leading or standing by)."""

    def check() -> bool:
        node = stack.status().get(name, {})
        if node.get("state") != "healthy" or node.get("pid") in (None, old_pid):
            return False
        if kind == "kafka_broker":
            broker = int(name.split("-")[1])
            return all(broker in [r["id"] for r in p["isrs"]] for p in topic_partitions(stack))
        return True

    return check


@pytest.mark.parametrize("kind", VICTIMS)
def test_a_node_killed_mid_run_is_replaced_by_its_peers_and_rejoins(
    cluster: LocalStack, cass: Cassandra, kind: str
) -> None:
    before = staging_count(cluster)
    expected = before + SEGMENT_USERS

    def start_ingest() -> subprocess.Popen[str]:
        return paced_ingest(cluster, SEGMENT_USERS, RATE, 250, f"cluster-chaos-{kind}")

    # Its pid before the run: `status` asks every node and takes seconds under load, longer than
    # the rest of the segment's ingest.
    name, victim = victim_of(cluster, kind)
    proc = start_ingest()
    try:
        wait_for(
            lambda: staging_count(cluster) >= before + SEGMENT_USERS // 3,
            120,
            "a third of the segment in PostgreSQL",
            interval=0.2,
        )
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        if kind == "spark_master":
            # The standby takes over through ZooKeeper and the job registers with it.
            standby = next(m for m in node_names(cluster, "spark-master-") if m != name)
            ui = cluster.ports["spark_master_ui_port"]
            host = cluster.spark_master_hosts[int(standby.split("-")[-1]) - 1]

            def leads() -> bool:
                try:
                    doc = http_json(f"http://{host}:{ui}/json/")
                except OSError:
                    return False
                return doc["status"] == "ALIVE" and [a["name"] for a in doc["activeapps"]] == ["streamflow-stream"]

            wait_for(leads, RECOVERY_TIMEOUT, f"{standby} to lead with the job registered", interval=2)
        # Ingest does not touch the clustered engines: it finishes. A retry (as Airflow's) would
        # cover a failure, but none is expected.
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, (proc.returncode, err)
        assert json.loads(out.strip().splitlines()[-1])["failed_batches"] == 0
        lost, duplicated, error = wait_until_whole(cluster, cass, expected, timeout=RECOVERY_TIMEOUT)
        recovery_s = round(time.monotonic() - killed_at, 1)
        wait_for(back(cluster, kind, name, victim), RECOVERY_TIMEOUT, f"{name} to rejoin", interval=2)
        rejoined_s = round(time.monotonic() - killed_at, 1)
        restarts = cluster.status()[name]["facts"].get("restarts", "")
        assert restarts and int(restarts.split()[0]) >= 1, cluster.status()[name]
    except Exception as e:
        raise AssertionError(f"{e}\n{cluster.diagnosis(('spark', name))}") from e
    finally:
        if proc.poll() is None:
            proc.kill()

    REPORT[kind] = {
        "node": name,
        "users": SEGMENT_USERS,
        "lost": lost,
        "duplicated": duplicated,
        "recovery_s": recovery_s,
        "rejoined_s": rejoined_s,
    }
    print(
        f"{kind} ({name}): lost {lost}, duplicated {duplicated}, caught up in {recovery_s} s, rejoined in {rejoined_s} s"
    )
    assert not error and (lost, duplicated) == (0, 0), f"{error}\n{cluster.diagnosis(('spark', name))}"


def test_the_cluster_is_whole_again_after_every_kill(cluster: LocalStack, cass: Cassandra) -> None:
    st = cluster.status()
    assert all(s["state"] == "healthy" for s in st.values()), {k: (v["state"], v["detail"]) for k, v in st.items()}
    for p in topic_partitions(cluster):
        assert len(p["isrs"]) == 3, p
    proc = cluster.run("reconcile", "--freshness", "60")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- 4. the control room sees a broker die ------------------------------------------------------


def test_the_control_room_lists_the_brokers_and_marks_a_killed_one_red(cluster: LocalStack) -> None:
    meta = json.loads(
        subprocess.run(
            ["kcat", "-b", cluster.kafka_bootstrap(), "-L", "-J"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    doc = http_json(f"{cluster.serve_url}/api/v1/control/kafka/brokers")
    assert {(b["id"], f"{b['host']}:{b['port']}") for b in doc["brokers"]} == {
        (b["id"], b["name"]) for b in meta["brokers"]
    }
    assert [b["node"] for b in doc["brokers"]] == ["kafka-1", "kafka-2", "kafka-3"]
    # The controller is the KRaft quorum's leader, as Kafka's own tool reports it (a broker's
    # metadata answer names any live broker, so kcat's "controller" is not it).
    tool = kafka_tool(cluster.kafka_bootstrap(), "MetadataQuorumCommand", "describe", "--status")
    tool.check_returncode()
    leader = int(next(ln.split(":")[1] for ln in tool.stdout.splitlines() if ln.startswith("LeaderId")))
    assert doc["controller_source"] == "quorum" and doc["controller_id"] == leader, (doc, tool.stdout)
    assert [b["id"] for b in doc["brokers"] if b["controller"]] == [leader]
    # Spark's masters (one leading, one standing by) and its workers, and Cassandra's ring, as
    # the masters' own /json/ and CQL's system tables say.
    spark = http_json(f"{cluster.serve_url}/api/v1/control/spark")
    ui = cluster.ports["spark_master_ui_port"]
    assert (
        sorted(m["status"] for m in spark["masters"])
        == sorted(http_json(f"http://{host}:{ui}/json/")["status"] for host in cluster.spark_master_hosts)
        == ["ALIVE", "STANDBY"]
    )
    alive = next(m for m in spark["masters"] if m["status"] == "ALIVE")
    assert sorted(w["host"] for w in alive["workers"] if w["state"] == "ALIVE") == sorted(cluster.spark_worker_hosts)
    ring = http_json(f"{cluster.serve_url}/api/v1/control/cassandra")["nodes"]
    assert sorted((n["address"], n["state"]) for n in ring) == [(h, "up") for h in sorted(cluster.cassandra_hosts)]

    # Something for the message browser to show when this test runs alone (in file order, the
    # tests before it have filled the CDC topic).
    def partition0_end() -> int:
        topics = http_json(f"{cluster.serve_url}/api/v1/control/kafka/topics")["topics"]
        return int(next(t for t in topics if t["name"] == TOPIC)["partition_list"][0]["end_offset"] or 0)

    if partition0_end() == 0:
        out, err = paced_ingest(cluster, 300, 300, 100, "control-room").communicate(timeout=300)
        assert json.loads(out.strip().splitlines()[-1])["failed_batches"] == 0, (out, err)
        wait_for(lambda: partition0_end() > 0, 120, "change events on the CDC topic's partition 0")
    token = cluster.status()["serve"]["facts"]["action token"]
    shot = REPO / "build/control-room-cluster.png"
    # A broker that does not lead partition 0 of the CDC topic (any broker would do).
    victim = next(f"kafka-{b['id']}" for b in doc["brokers"] if b["id"] != doc["controller_id"])
    pid = 0
    args = [cluster.serve_url + "/", str(shot), token, TOPIC, victim]
    with BrowserScript("control.mjs", args, REPO / "build/control-room-cluster-node.log") as page:
        lines = page.lines
        wait_for(lambda: len(lines) >= 3 or any(ln["step"] == "error" for ln in lines), 240, "the page's first steps")
        steps = {ln["step"]: ln for ln in lines}
        assert "error" not in steps, steps.get("error")
        assert [(b["id"], b["up"]) for b in steps["kafka"]["brokers"]] == [(1, True), (2, True), (3, True)]
        pid = cluster.kill_and_hold_down(victim)
        page.go()
    down = lines[-1]
    assert down["step"] == "down", down
    assert down["rowMs"] <= 10000 and down["alertMs"] <= 10000, down
    assert f"{victim} is down" in down["alert"] and down["failures"] == []
    if pid:
        cluster.up(timeout=600)
        wait_for(back(cluster, "kafka_broker", victim, pid), RECOVERY_TIMEOUT, f"{victim} to rejoin", interval=2)
