"""The Spark job's own lifecycle, without Spark: a stop that hangs must not keep the job alive."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "pipeline/spark"))

from streamflow_stream.job import (  # noqa: E402
    FAIR_POOLS,
    RECENT_BATCHES,
    StallWatch,
    end_jvm,
    parse_args,
    progress_entry,
    stop_within,
)

pytestmark = pytest.mark.unit


class FakeQuery:
    def __init__(self, name: str, fails: bool = False):
        self.name, self.fails, self.stopped = name, fails, False

    def stop(self) -> None:
        self.stopped = True
        if self.fails:
            raise RuntimeError("already failed")


class FakeSpark:
    def __init__(self, hangs: bool = False):
        self.hangs, self.stopped = hangs, False
        self.release = threading.Event()

    def stop(self) -> None:
        if self.hangs:  # as SparkContext.stop() waiting for a listener stuck on Cassandra
            self.release.wait()
        self.stopped = True


def test_a_clean_stop_stops_every_query_then_the_session() -> None:
    queries = [FakeQuery("users", fails=True), FakeQuery("analytics")]
    spark = FakeSpark()
    assert stop_within(spark, queries, timeout_s=5)
    assert all(q.stopped for q in queries) and spark.stopped


def test_a_stop_that_hangs_is_given_up_after_the_timeout() -> None:
    spark = FakeSpark(hangs=True)
    start = time.monotonic()
    try:
        assert not stop_within(spark, [FakeQuery("users")], timeout_s=0.5)
        assert 0.5 <= time.monotonic() - start < 5
        assert not spark.stopped
    finally:
        spark.release.set()


def test_a_jvm_that_exits_when_its_stdin_closes_is_left_to_exit() -> None:
    # As PySpark's gateway JVM: it exits on EOF on its stdin.
    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert end_jvm(proc, timeout_s=10)
    assert proc.returncode == 0  # exited by itself, not killed


def test_a_jvm_that_does_not_exit_is_killed_after_the_timeout() -> None:
    # As a JVM stuck in its shutdown hooks: EOF on stdin does not end it, nor does SIGTERM.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "ready"
        start = time.monotonic()
        assert not end_jvm(proc, timeout_s=0.5)
        assert 0.5 <= time.monotonic() - start < 10
        assert proc.returncode == -9  # SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


def test_no_jvm_is_nothing_to_end() -> None:
    assert end_jvm(None, timeout_s=0.1)


def test_the_stop_timeout_is_a_setting() -> None:
    base = ["--checkpoint-dir", "/tmp/x", "--jars-dir", "/tmp/j"]
    assert parse_args(base).stop_timeout == 30.0
    assert parse_args([*base, "--stop-timeout", "7"]).stop_timeout == 7.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_query_in_one_batch_past_the_stall_timeout_is_reported() -> None:
    clock = Clock()
    watch = StallWatch(60, clock)
    assert watch.stuck_for("users", True, 7) is None
    clock.now += 60
    assert watch.stuck_for("users", True, 7) is None
    clock.now += 1
    assert watch.stuck_for("users", True, 7) == pytest.approx(61)


def test_batches_that_finish_keep_a_busy_query_from_being_reported() -> None:
    clock = Clock()
    watch = StallWatch(60, clock)
    # Falling behind: the next batch starts as the last ends, so the trigger is always busy.
    for batch in range(10):
        assert watch.stuck_for("users", True, batch) is None
        clock.now += 50
    assert watch.stuck_for("users", True, 9) is None


def test_an_idle_query_between_batches_is_not_stuck_and_each_query_is_timed_alone() -> None:
    clock = Clock()
    watch = StallWatch(60, clock)
    assert watch.stuck_for("users", True, 3) is None
    assert watch.stuck_for("analytics", True, None) is None  # before its first batch
    clock.now += 40
    assert watch.stuck_for("users", False, 3) is None  # that batch ended (empty: same last id)
    clock.now += 40
    assert watch.stuck_for("users", True, 3) is None  # a new batch: timed from now
    assert watch.stuck_for("analytics", True, None) == pytest.approx(80)
    clock.now += 61
    assert watch.stuck_for("users", True, 3) == pytest.approx(61)


def test_the_stall_timeout_is_a_setting() -> None:
    base = ["--checkpoint-dir", "/c", "--jars-dir", "/j"]
    assert parse_args(base).stall_timeout == 180.0
    assert parse_args([*base, "--stall-timeout", "30"]).stall_timeout == 30.0


def test_the_analytics_query_has_its_own_slower_trigger() -> None:
    a = parse_args(["--checkpoint-dir", "/tmp/x", "--jars-dir", "/tmp/j"])
    assert (a.trigger, a.analytics_trigger) == ("500 milliseconds", "5 seconds")
    a = parse_args(["--checkpoint-dir", "/tmp/x", "--jars-dir", "/tmp/j", "--analytics-trigger", "1 second"])
    assert a.analytics_trigger == "1 second"


def test_each_query_has_a_configured_fair_pool() -> None:
    pools = {p.get("name"): p for p in ET.fromstring(FAIR_POOLS).iter("pool")}
    assert set(pools) == {"users", "analytics"}  # the names start_queries passes to start_in_pool
    assert int(pools["users"].findtext("minShare") or "0") >= 1  # the freshness path always has a core


def progress(batch_id: int, rows: int, ms: int, in_rate: float | None, out_rate: float | None) -> dict[str, Any]:
    """A StreamingQueryProgress as PySpark hands it over (json.loads of its JSON): a rate Spark
    could not compute (NaN) is left out."""
    p: dict[str, Any] = {
        "id": "5a6c3e41-3c9f-4d40-9d9e-6b0b0c1c2f10",
        "runId": "0d6d3cf0-84a0-4a3c-8d7b-1d1e2f3a4b5c",
        "name": "users",
        "timestamp": f"2025-03-01T11:16:{batch_id % 60:02d}.500Z",
        "batchId": batch_id,
        "numInputRows": rows,
        "durationMs": {"addBatch": ms - 20, "getBatch": 0, "latestOffset": 3, "triggerExecution": ms},
        "stateOperators": [],
        "sources": [
            {"description": "KafkaV2[Subscribe[streamflow.staging.users]]", "endOffset": {"t": {"0": batch_id}}}
        ],
        "sink": {"description": "ForeachBatchSink", "numOutputRows": -1},
    }
    if in_rate is not None:
        p["inputRowsPerSecond"] = in_rate
    if out_rate is not None:
        p["processedRowsPerSecond"] = out_rate
    return p


def test_a_progress_entry_keeps_its_keys_and_carries_the_last_batches_oldest_first() -> None:
    recent = [progress(b, 10 * b, 400 + b, 20.0 * b, 25.0 * b) for b in range(1, 41)]  # Spark kept 40
    recent[-1].pop("inputRowsPerSecond")  # NaN in Spark: absent from the JSON
    entry = progress_entry(recent[-1], recent, True, {"upserts": 400})
    assert entry["batch_id"] == 40 and entry["input_rows"] == 400 and entry["batch_ms"] == 440
    assert entry["input_rows_per_s"] is None and entry["processed_rows_per_s"] == 1000.0
    assert entry["end_offsets"] == [{"t": {"0": 40}}] and entry["totals"] == {"upserts": 400}
    assert set(entry) == {
        "active", "batch_id", "input_rows", "input_rows_per_s", "processed_rows_per_s", "batch_ms",
        "durations_ms", "watermark", "end_offsets", "state", "totals", "recent",
    }  # fmt: skip
    assert RECENT_BATCHES == 30
    assert [b["batch_id"] for b in entry["recent"]] == list(range(11, 41))
    assert entry["recent"][0] == {
        "batch_id": 11,
        "timestamp": "2025-03-01T11:16:11.500Z",
        "batch_ms": 411,
        "input_rows": 110,
        "input_rows_per_s": 220.0,
        "processed_rows_per_s": 275.0,
    }
    assert entry["recent"][-1]["input_rows_per_s"] is None
    json.dumps(entry, allow_nan=False)  # what the progress file holds is plain JSON


def test_a_query_before_its_first_batch_has_an_empty_entry() -> None:
    entry = progress_entry({}, [], False, {})
    assert entry["active"] is False and entry["batch_id"] is None and entry["batch_ms"] is None
    assert entry["recent"] == [] and entry["end_offsets"] == [] and entry["state"] == []


# Run in a process of its own: the driver's JVM options apply only to a JVM that the session
# launches, and the unit tier's other Spark session may already be running in this one.
DRIVER_IDEMPOTENCE = """
import json, sys
from streamflow_stream.job import build_session, parse_args
spark = build_session(parse_args(["--master", "local[1]", "--checkpoint-dir", sys.argv[1],
                                  "--jars-dir", sys.argv[2]]))
jvm = spark.sparkContext._jvm
driver = jvm.com.datastax.oss.driver.api.core.config
# What the connector builds its sessions' configuration on (DriverConfigLoader.programmaticBuilder).
profile = driver.DriverConfigLoader.programmaticBuilder().build().getInitialConfig().getDefaultProfile()
print(json.dumps({
    "default_idempotence": profile.getBoolean(driver.DefaultDriverOption.REQUEST_DEFAULT_IDEMPOTENCE),
    "executor_options": spark.sparkContext.getConf().get("spark.executor.extraJavaOptions", ""),
}))
spark.stop()
"""


def test_the_cassandra_driver_retries_the_jobs_timed_out_writes(tmp_path: Path) -> None:
    """The connector's unlogged batches carry no idempotence flag, so the driver retries a write
    that Cassandra timed out only if its default says writes are idempotent: else the batch, and
    with it the job, fails on the first write timeout under load."""
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER_IDEMPOTENCE, str(tmp_path / "checkpoints"), str(REPO / ".deps/spark-jars")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO / "pipeline/spark",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["default_idempotence"] is True
    # On a cluster the executors write the users: the same option reaches their JVMs.
    assert "default-idempotence=true" in seen["executor_options"]
