"""The Spark job's own lifecycle, without Spark: a stop that hangs must not keep the job alive."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "pipeline/spark"))

from streamflow_stream.job import FAIR_POOLS, end_jvm, parse_args, stop_within  # noqa: E402

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


def test_the_analytics_query_has_its_own_slower_trigger() -> None:
    a = parse_args(["--checkpoint-dir", "/tmp/x", "--jars-dir", "/tmp/j"])
    assert (a.trigger, a.analytics_trigger) == ("500 milliseconds", "5 seconds")
    a = parse_args(["--checkpoint-dir", "/tmp/x", "--jars-dir", "/tmp/j", "--analytics-trigger", "1 second"])
    assert a.analytics_trigger == "1 second"


def test_each_query_has_a_configured_fair_pool() -> None:
    pools = {p.get("name"): p for p in ET.fromstring(FAIR_POOLS).iter("pool")}
    assert set(pools) == {"users", "analytics"}  # the names start_queries passes to start_in_pool
    assert int(pools["users"].findtext("minShare") or "0") >= 1  # the freshness path always has a core
