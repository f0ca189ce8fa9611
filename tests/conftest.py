"""Shared pytest harness: a `LocalStack` driven through the real `streamflow` binary.

Every stack gets its own state directory under /tmp and its own free loopback ports, so two
runs (or two stacks in one run) never clash. Services are stopped by `streamflow down`, which
stops them by pid through supervisord.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    import psycopg
    from cassandra.cluster import Cluster, Session

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
PORT_SETTINGS = [
    "POSTGRES_PORT",
    "KAFKA_PORT",
    "KAFKA_CONTROLLER_PORT",
    "CONNECT_PORT",
    "CASSANDRA_PORT",
    "CASSANDRA_STORAGE_PORT",
    "CASSANDRA_JMX_PORT",
    "MOCK_API_PORT",
    "SPARK_UI_PORT",
    "AIRFLOW_PORT",
    "SERVE_PORT",
    "REGISTRY_PORT",
    "REGISTRY_MANAGEMENT_PORT",
    # The cluster layout's engines (unused by the single layout).
    "ZOOKEEPER_PORT",
    "ZOOKEEPER_QUORUM_PORT",
    "ZOOKEEPER_ELECTION_PORT",
    "SPARK_MASTER_PORT",
    "SPARK_MASTER_UI_PORT",
    "SPARK_WORKER_PORT",
    "SPARK_WORKER_UI_PORT",
]


def topology_hosts(topology: Path) -> dict[str, list[str]]:
    """The addresses each engine's nodes have in a topology file, keyed "kafka", "cassandra",
    "spark.masters"...: a reader of the flow lists our files use (`nodes: [a, b]`), enough for
    the tests (the binary parses the file in full)."""
    hosts: dict[str, list[str]] = {}
    section = ""
    for line in topology.read_text().splitlines():
        text = line.split("#", 1)[0].rstrip()
        if not text:
            continue
        if not text.startswith(" "):
            section = text.rstrip(":").strip()
            continue
        key, _, value = text.strip().partition(":")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            name = section if key == "nodes" else f"{section}.{key}"
            hosts[name] = [h.strip() for h in value[1:-1].split(",") if h.strip()]
    return hosts


def streamflow_bin() -> Path:
    path = Path(os.environ.get("STREAMFLOW_BIN", REPO / "build/ci/src/apps/streamflow"))
    if not path.exists():
        pytest.exit(f"{path} does not exist: run `make build-ci` (or `make test`) first", returncode=2)
    return path


def free_ports(n: int) -> list[int]:
    """n distinct loopback ports that are free right now, each the first of a free block of four
    (a clustered engine's nodes use port + n - 1 for Cassandra's JMX), all below the kernel's
    ephemeral range so that no outgoing connection can take one before its server binds it."""
    low, high = 20000, int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]) - 4
    ports: list[int] = []
    while len(ports) < n:
        base = random.randrange(low, high) & ~3
        if any(abs(base - p) < 4 for p in ports):
            continue
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + 4):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        ports.append(base)
    return ports


def row(conn: psycopg.Connection[tuple[Any, ...]], sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...]:
    """The first row of a statement's answer; the statement must return one."""
    found = conn.execute(sql, params).fetchone()
    assert found is not None, f"no row for {sql}"
    return found


def wait_for(condition: Callable[[], T | None], timeout: float, what: str, interval: float = 0.25) -> T:
    """Polls `condition` until it returns a truthy value; fails the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def http_call(
    url: str, headers: Mapping[str, str] | None = None, method: str = "GET", timeout: float = 30
) -> tuple[int, Any]:
    """(status, the body: parsed JSON when it is JSON, else text); 0 and why when nothing answers."""
    req = urllib.request.Request(url, headers=dict(headers or {}), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            body, status, ctype = res.read().decode(), res.status, res.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        body, status, ctype = e.read().decode(), e.code, e.headers.get("Content-Type", "")
    except (urllib.error.URLError, ConnectionError) as e:  # not listening (yet)
        return 0, str(e)
    return status, json.loads(body) if "json" in ctype else body


def continuous_ingest(stack: LocalStack, rate: int) -> subprocess.Popen[bytes]:
    """`ingest --continuous` at `rate` users/s in batches of 100, in the background, quiet."""
    return subprocess.Popen(
        [str(streamflow_bin()), "ingest", "-q", "--continuous", "--rate", str(rate), "--batch-size", "100"],
        env=stack.env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class BrowserScript:
    """A `web/e2e` script driving a real browser: the JSON lines it prints, collected as they come
    (`lines`); `go()` tells it to take its last step and waits for it to end. Its stderr goes to
    `log`: a pipe nobody reads fills up and blocks the browser driver. Use it in a `with`."""

    def __init__(self, script: str, args: Sequence[str], log: Path) -> None:
        self._log = open(log, "w")  # closed in __exit__
        self.proc = subprocess.Popen(
            ["node", f"e2e/{script}", *args],
            cwd=REPO / "web",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._stdin, out = self.proc.stdin, self.proc.stdout
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(json.loads(ln) for ln in out if ln.startswith("{")), daemon=True
        )
        self._reader.start()

    def go(self, timeout: float = 120) -> None:
        self._stdin.write("go\n")
        self._stdin.close()
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)

    def __enter__(self) -> BrowserScript:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self._log.close()


class LocalStack:
    """One local stack: a state directory, a set of ports, and the CLI to drive them."""

    def __init__(
        self,
        name: str,
        spark: bool = False,
        airflow: bool = False,
        serve: bool = False,
        registry: bool = True,
        topology: Path | None = None,
    ):
        # Where the engines' nodes are: one of each on 127.0.0.1, or what the topology file says.
        self.topology = topology
        hosts = topology_hosts(topology) if topology else {}
        self.kafka_hosts = hosts.get("kafka", ["127.0.0.1"])
        self.cassandra_hosts = hosts.get("cassandra", ["127.0.0.1"])
        self.connect_hosts = hosts.get("connect", ["127.0.0.1"])
        self.spark_master_hosts = hosts.get("spark.masters", [])
        self.spark_worker_hosts = hosts.get("spark.workers", [])
        # /tmp itself is world-searchable; the services' account must reach the state dir.
        self.state_dir = Path(tempfile.mkdtemp(prefix=f"sf-{name}-", dir="/tmp"))
        self.state_dir.chmod(0o755)
        ports = free_ports(len(PORT_SETTINGS))
        self.env = dict(os.environ)
        self.env["STREAMFLOW_STATE_DIR"] = str(self.state_dir)
        self.env["STREAMFLOW_DEPS_DIR"] = str(REPO / ".deps")
        self.env["STREAMFLOW_POSTGRES_MIGRATIONS_DIR"] = str(REPO / "pipeline/sql/postgres")
        self.env["STREAMFLOW_CASSANDRA_MIGRATIONS_DIR"] = str(REPO / "pipeline/cql")
        self.env["STREAMFLOW_SPARK_PYTHON"] = str(REPO / ".venv/bin/python")
        self.env["STREAMFLOW_SPARK_JOB_DIR"] = str(REPO / "pipeline/spark")
        # The streaming job only where a test asks for it (`streaming_stack`): it costs a JVM.
        self.env["STREAMFLOW_SPARK_ENABLED"] = "true" if spark else "false"
        # Airflow likewise (four Python processes, ~1.4 GB).
        self.env["STREAMFLOW_AIRFLOW_ENABLED"] = "true" if airflow else "false"
        self.env["STREAMFLOW_AIRFLOW_VENV"] = str(REPO / ".venv-airflow")
        self.env["STREAMFLOW_AIRFLOW_DAGS_DIR"] = str(REPO / "pipeline/airflow/dags")
        # `streamflow serve` (light) where a test reads its API or dashboard.
        self.env["STREAMFLOW_SERVE_ENABLED"] = "true" if serve else "false"
        self.env["STREAMFLOW_SERVE_WEB_DIR"] = str(REPO / "web/dist")
        # The schema registry (a JVM, ~270 MB): Connect writes Avro with the schemas it holds.
        self.env["STREAMFLOW_REGISTRY_ENABLED"] = "true" if registry else "false"
        self.env.pop("STREAMFLOW_CONFIG", None)
        self.env.pop("STREAMFLOW_TOPOLOGY", None)
        if topology:
            self.env["STREAMFLOW_TOPOLOGY"] = str(topology)
        # Smaller heaps: several stacks may run in one test session on a 2-core box (Connect's
        # default is already 512 MB).
        self.env.setdefault("STREAMFLOW_CASSANDRA_HEAP_MB", "1024")
        self.env.setdefault("STREAMFLOW_KAFKA_HEAP_MB", "512")
        # Their JVMs without the C2 compiler: they live minutes, and on 2 cores C2's compiling
        # costs more than it gives back (alternated on one day, the e2e module's stack started in
        # 33-34 s instead of 46-54 s and its 20,000 users took 29-31 s instead of 37-49 s).
        # STREAMFLOW_JAVA_OPTIONS= (empty) runs them as `make run` does.
        self.env.setdefault("STREAMFLOW_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
        self.ports: dict[str, int] = {}
        for key, port in zip(PORT_SETTINGS, ports, strict=True):
            self.env[f"STREAMFLOW_{key}"] = str(port)
            self.ports[key.lower()] = port

    def run(
        self, *args: str, timeout: float = 400, check: bool = False, extra_env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        env.update(extra_env or {})
        proc = subprocess.run(
            [str(streamflow_bin()), *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"streamflow {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    def up(self, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.run("up", check=True, **kw)

    @property
    def migrations(self) -> Path:
        """Where `migrate` reads this stack's migrations from: a copy of the repository's, set up
        before the first `up`, so that a test can add a migration (postgres/*.sql, cql/*.cql)."""
        return self.state_dir.parent / f"{self.state_dir.name}-migrations"

    def copy_migrations(self) -> None:
        shutil.copytree(REPO / "pipeline/sql/postgres", self.migrations / "postgres")
        shutil.copytree(REPO / "pipeline/cql", self.migrations / "cql")
        self.env["STREAMFLOW_POSTGRES_MIGRATIONS_DIR"] = str(self.migrations / "postgres")
        self.env["STREAMFLOW_CASSANDRA_MIGRATIONS_DIR"] = str(self.migrations / "cql")

    def down(self, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.run("down", check=True, **kw)

    @property
    def supervisorctl(self) -> list[str]:
        """The argv that talks to this stack's supervisord; append a command and its service."""
        return ["supervisorctl", "-c", str(self.state_dir / "conf/supervisord.conf")]

    def kill_and_hold_down(self, service: str) -> int:
        """SIGKILLs the service's processes and keeps them down (supervisord would start them
        again at once): a test that must see it down for a while. `up` starts it again. Its old
        pid.

        Killed first and stopped after, supervisord would have spawned a new copy by the time
        the stop reached it, and a stop that lands on a copy still starting is lost: supervisord
        then waits out the whole stop timeout (60 s) before it kills. So the process group is
        frozen first (SIGSTOP: it runs no code from here on), supervisord is told to stop it,
        and the SIGKILL ends it inside that stop, which then has nothing to start again."""
        pid = int(self.status()[service]["pid"])
        ctl = self.supervisorctl
        group = os.getpgid(pid)
        assert group == pid, f"{service} (pid {pid}) does not lead its process group ({group})"
        os.killpg(group, signal.SIGSTOP)
        stop = subprocess.Popen([*ctl, "stop", service], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def stopping() -> bool:
            out = subprocess.run([*ctl, "status", service], capture_output=True, text=True, timeout=30).stdout
            return "STOPPING" in out

        wait_for(stopping, 30, f"supervisord to be stopping {service}", interval=0.1)
        os.killpg(group, signal.SIGKILL)
        out, _ = stop.communicate(timeout=120)
        assert stop.returncode == 0, out
        return pid

    def status(self) -> dict[str, dict[str, Any]]:
        proc = self.run("status", "--json")
        assert proc.returncode in (0, 3), proc.stderr
        return {s["name"]: s for s in json.loads(proc.stdout)["services"]}

    def status_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.run("status", "--json").stdout)
        return doc

    @property
    def pg_password(self) -> str:
        return (self.state_dir / "secrets/postgres.password").read_text().strip()

    def pg_connect(self, user: str = "streamflow", dbname: str = "streamflow") -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.ports["postgres_port"],
            user=user,
            password=self.pg_password,
            dbname=dbname,
            connect_timeout=5,
            autocommit=True,
        )

    def cql_session(self) -> tuple[Cluster, Session]:
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import WhiteListRoundRobinPolicy

        from cassandra import ConsistencyLevel

        # On a ring LOCAL_QUORUM, as the pipeline writes: a read then sees every write that was
        # acknowledged, with one node down or just back. On one node the driver's LOCAL_ONE (a
        # quorum of Cassandra's own keyspaces of replication 2 or 3 cannot be had there).
        profile = ExecutionProfile(
            load_balancing_policy=WhiteListRoundRobinPolicy(self.cassandra_hosts),
            consistency_level=(
                ConsistencyLevel.LOCAL_QUORUM if len(self.cassandra_hosts) > 1 else ConsistencyLevel.LOCAL_ONE
            ),
        )
        cluster = Cluster(
            self.cassandra_hosts,
            port=self.ports["cassandra_port"],
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            protocol_version=5,
            connect_timeout=10,
        )
        return cluster, cluster.connect()

    @property
    def mock_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['mock_api_port']}/api/"

    def run_dag(
        self, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 600
    ) -> tuple[dict[str, Any], str]:
        """Runs a DAG once with dag.test() against this stack's Airflow (tests/airflow/run_dag.py)
        and returns (its JSON summary, everything it printed: the task logs)."""
        proc = self.run(
            "airflow",
            "--python",
            str(REPO / "tests/airflow/run_dag.py"),
            dag_id,
            json.dumps(conf or {}),
            timeout=timeout,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        assert lines, f"run_dag printed no summary (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        return json.loads(lines[-1]), proc.stdout + proc.stderr

    @property
    def serve_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['serve_port']}"

    @property
    def registry_url(self) -> str:
        """The registry's Confluent-compatible API."""
        return f"http://127.0.0.1:{self.ports['registry_port']}/apis/ccompat/v7"

    def kafka_bootstrap(self) -> str:
        return ",".join(f"{host}:{self.ports['kafka_port']}" for host in self.kafka_hosts)

    def diagnosis(
        self, services: tuple[str, ...] = ("connect", "kafka", "spark", "cassandra", "postgres"), lines: int = 40
    ) -> str:
        """What an operator would look at first when the pipeline is stuck: `status`, and the
        warnings and errors at the end of each service's log."""
        out = [self.run("status").stdout]
        for service in services:
            log = self.state_dir / "logs" / f"{service}.log"
            if not log.exists():
                continue
            text = log.read_text(errors="replace").splitlines()
            keep = [ln for ln in text if any(w in ln for w in ("ERROR", "WARN", "Exception", "FAILED"))]
            out.append(f"--- {log} (last {lines} warnings/errors of {len(text)} lines)")
            out.extend(ln[:400] for ln in keep[-lines:])
        return "\n".join(out)

    def destroy(self) -> None:
        """Stops whatever runs and removes the state directory (kept, for a post-mortem, when
        STREAMFLOW_TEST_KEEP_STATE=1)."""
        proc = self.run("down", timeout=300)
        if proc.returncode != 0:
            print(f"down failed for {self.state_dir}: {proc.stdout}{proc.stderr}")
        if os.environ.get("STREAMFLOW_TEST_KEEP_STATE") == "1":
            print(f"state kept in {self.state_dir}")
            return
        shutil.rmtree(self.state_dir, ignore_errors=True)
        shutil.rmtree(self.migrations, ignore_errors=True)


# ---- stacks shared across modules --------------------------------------------------------
# Started by the first test that asks for one and stopped right after the last one: an idle
# stack costs a sixth of this machine's CPU, which every module in between would pay.

SHARED_STACKS: dict[str, LocalStack] = {}

# The modules that share a stack run next to each other. Any order passes (each test states what
# it expects relative to what is already there); this one spares idle stacks. The most specific
# entry that matches a test's id ranks it: the schema-evolution tests change the shape of the
# e2e stack's tables, so they come after the other tests that read them, and before Airflow's
# four processes start on that stack (which would slow them).
MODULE_ORDER = (
    "e2e/",
    "serve/",
    "e2e/test_schema_evolution.py",
    "airflow/",
    "faults/",
    "cluster/",
    "integration/",
    "spark/",
)


@pytest.hookimpl(tryfirst=True)  # before any shuffling plugin, which then has the last word
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        matches = [(len(m), i) for i, m in enumerate(MODULE_ORDER) if m in item.nodeid]
        return max(matches)[1] if matches else len(MODULE_ORDER)

    items.sort(key=rank)


MODULE_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Setup, call and teardown, so a shared stack's start and stop count where they happen.
    module = report.nodeid.split("::", 1)[0]
    MODULE_SECONDS[module] = MODULE_SECONDS.get(module, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Where the run's time went, module by module (longest first): the figures to compare when
    the suite is made faster."""
    timed = {m: s for m, s in MODULE_SECONDS.items() if s >= 1.0}
    if not timed:
        return
    terminalreporter.section("seconds per module")
    for module, seconds in sorted(timed.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f}  {module}")
    terminalreporter.write_line(f"{sum(MODULE_SECONDS.values()):8.1f}  in all")


@pytest.hookimpl(trylast=True)  # after the test's own fixtures were torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if not SHARED_STACKS:
        return
    items = item.session.items
    rest = items[items.index(nextitem) :] if nextitem is not None else []
    for name in list(SHARED_STACKS):
        if not any(name in getattr(later, "fixturenames", ()) for later in rest):
            SHARED_STACKS.pop(name).destroy()


def shared_stack(fixture: str, stack: LocalStack, timeout: float) -> Iterator[LocalStack]:
    SHARED_STACKS[fixture] = stack
    try:
        stack.up(timeout=timeout)
        yield stack
    finally:
        if SHARED_STACKS.pop(fixture, None) is not None:
            stack.destroy()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The running stack of the integration tests: the data services, Connect, the schema
    registry and the mock API."""
    it = LocalStack("it")
    # Connect's converter asks the registry again about its cached schemas every 5 s, not 30:
    # test_cdc holds the registry down across such lookups.
    it.env["STREAMFLOW_REGISTRY_SCHEMA_RECHECK_S"] = "5"
    yield from shared_stack("stack", it, timeout=300)


@pytest.fixture
def fresh_stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """A not-yet-started stack of its own, destroyed after the test."""
    s = LocalStack(request.node.name[:20].replace("[", "-").replace("]", ""))
    yield s
    s.destroy()


@pytest.fixture(scope="session")
def streaming_stack() -> Iterator[LocalStack]:
    """A running stack with the Spark streaming job and `streamflow serve`: the whole pipeline,
    for the e2e tests, the tests of the API and dashboard, and Airflow's. Its migrations are a
    copy (`LocalStack.migrations`), which the schema-evolution tests add to."""
    s = LocalStack("e2e", spark=True, serve=True)
    s.copy_migrations()
    yield from shared_stack("streaming_stack", s, timeout=600)


@pytest.fixture(scope="module")
def api(streaming_stack: LocalStack) -> str:
    """`streamflow serve`'s URL on the e2e stack, once it answers. A module with an API of its own
    under this name (the fault suite's scripted one) overrides it."""
    wait_for(lambda: http_call(streaming_stack.serve_url + "/healthz")[0] == 200, 30, "serve")
    return streaming_stack.serve_url
