"""`streamflow serve` on the real stack with data flowing: every endpoint, its errors, the
live event stream, /metrics, the access token, a Cassandra outage, and the dashboard in a
real browser.

Issue: "Live analytics dashboard and query server in C++". Uses the session's
`streaming_stack` (with serve); the browser test, last, stops Kafka Connect and starts it again.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, BrowserScript, LocalStack, continuous_ingest, free_ports, http_call, streamflow_bin, wait_for

pytestmark = [pytest.mark.integration]


get = http_call


@pytest.fixture(scope="module")
def flowing(streaming_stack: LocalStack, api: str) -> Iterator[subprocess.Popen[bytes]]:
    """Ingestion running in the background for the whole module (data flowing)."""
    proc = continuous_ingest(streaming_stack, 300)
    try:
        # Both queries of the job have written: the analytics (totals, and the signups per
        # minute, written after them in the same batch) and the users table.
        def landed() -> bool:
            totals, coords = get(api + "/api/v1/totals"), get(api + "/api/v1/coordinates?limit=1")
            return bool(
                totals[0] == 200
                and totals[1]["users"] > 0
                and totals[1]["signups_last_hour"] > 0
                and coords[0] == 200
                and coords[1]["points"]
            )

        wait_for(landed, 120, "users in Cassandra")
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def cql(stack: LocalStack) -> tuple[Any, Any]:
    cluster, session = stack.cql_session()
    session.set_keyspace("streamflow")
    return cluster, session


def test_totals_and_top_countries_match_cassandra(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    cluster, session = cql(streaming_stack)
    try:
        status, totals = get(api + "/api/v1/totals")
        assert status == 200
        per_country = {
            r.country_code: r.users
            for r in session.execute("SELECT country_code, users FROM users_per_country WHERE scope = 'all'")
        }
        # Data flows: the direct read is a moment later, so it can only be the same or more.
        assert 0 < totals["users"] <= sum(per_country.values())
        assert totals["countries"] == sum(1 for v in per_country.values() if v > 0)
        assert totals["staging_users"] >= totals["users"] - 5000
        assert totals["signups_last_hour"] > 0
        status, top = get(api + "/api/v1/countries/top?limit=5")
        assert status == 200 and len(top["countries"]) == 5
        users = [c["users"] for c in top["countries"]]
        assert users == sorted(users, reverse=True)
        assert top["countries"][0]["country_code"] in per_country
    finally:
        cluster.shutdown()


def test_a_user_by_id_is_the_cassandra_row(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    cluster, session = cql(streaming_stack)
    try:
        row = next(iter(session.execute("SELECT user_id, full_name, age, latitude, country_code FROM users LIMIT 1")))
        status, user = get(f"{api}/api/v1/users/{str(row.user_id).upper()}")
        assert status == 200
        assert user["user_id"] == str(row.user_id)
        assert (user["full_name"], user["age"], user["country_code"]) == (row.full_name, row.age, row.country_code)
        assert user["latitude"] == pytest.approx(row.latitude)
        assert not ({"password", "salt", "md5", "sha1", "sha256", "id_value"} & set(user))
    finally:
        cluster.shutdown()
    status, body = get(f"{api}/api/v1/users/{uuid.uuid4()}")
    assert status == 404 and "error" in body
    status, body = get(f"{api}/api/v1/users/1%27%20OR%201=1")
    assert status == 400 and body["parameter"] == "id"


def test_users_of_a_country_page_through_every_one_exactly_once(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    # A country's users at a moment, then paged: ids never repeat and every one that existed is seen.
    cluster, session = cql(streaming_stack)
    try:

        def norwegians() -> set[str] | None:
            ids = {str(r.user_id) for r in session.execute("SELECT user_id FROM users WHERE country_code = 'NO'")}
            return ids if len(ids) >= 20 else None

        before = wait_for(norwegians, 120, "20 Norwegian users in Cassandra", interval=1)
    finally:
        cluster.shutdown()
    assert len(before) >= 4, "too few Norwegian users to page through"  # see the wait above
    size = min(500, max(1, len(before) // 4))  # four pages or more, however much data there is
    seen: list[str] = []
    token, pages = None, 0
    while True:
        url = f"{api}/api/v1/users?country=no&page_size={size}" + (f"&page_token={token}" if token else "")
        status, page = get(url)
        assert status == 200, page
        assert all(u["country_code"] == "NO" for u in page["users"])
        seen += [u["user_id"] for u in page["users"]]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert pages >= 4
    for bad, param in (
        ("country=NOR", "country"),
        ("", "country"),
        ("country=NO&page_size=501", "page_size"),
        ("country=NO&page_token=zz", "page_token"),
        # Hex, but no paging state Cassandra gave out: Cassandra refuses it as a protocol error.
        ("country=NO&page_token=deadbeef", "page_token"),
    ):
        status, body = get(f"{api}/api/v1/users?{bad}")
        assert status == 400 and body["parameter"] == param, (bad, body)


def test_signups_per_minute_agree_across_breakdowns(api: str, flowing: subprocess.Popen[bytes]) -> None:
    def breakdowns() -> dict[str, Any] | None:
        hour = {}
        for by in ("country", "gender", "age_band"):
            status, body = get(f"{api}/api/v1/signups?by={by}")
            assert status == 200 and body["by"] == by
            assert body["points"], by
            assert all(p["minute"].endswith(":00.000Z") for p in body["points"])
            hour[by] = body
        # One analytics batch writes all three: read between two batches, they count the same
        # signups exactly.
        sums = {sum(b["totals"].values()) for b in hour.values()}
        return hour if len(sums) == 1 else None

    wait_for(breakdowns, 60, "the three breakdowns to count the same signups", interval=0.5)
    status, body = get(f"{api}/api/v1/signups?by=gender&from=2026-01-01T00:00Z&to=2026-01-01T00:10Z")
    assert status == 200 and body["points"] == []
    for q, param in (
        ("by=planet", "by"),
        ("from=yesterday", "from"),
        ("from=2026-01-10T00:00Z&to=2026-01-01T00:00Z", "from"),
        ("from=2026-01-01T00:00Z&to=2026-03-01T00:00Z", "from"),
    ):
        status, body = get(f"{api}/api/v1/signups?{q}")
        assert status == 400 and body["parameter"] == param, (q, body)


def test_coordinates_are_on_the_map(api: str, flowing: subprocess.Popen[bytes]) -> None:
    status, body = get(f"{api}/api/v1/coordinates?limit=50")
    assert status == 200 and 0 < len(body["points"]) <= 50
    assert all(-90 <= p["lat"] <= 90 and -180 <= p["lon"] <= 180 for p in body["points"])


def json_schema(node: Any, doc: dict[str, Any]) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: $refs inlined, `nullable` as a null type."""
    if isinstance(node, list):
        return [json_schema(v, doc) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return json_schema(target, doc)
    out = {k: json_schema(v, doc) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    return out


def documented(doc: dict[str, Any], path: str, status: int) -> Any:
    """The JSON Schema of a route's documented answer with that status (None: not JSON)."""
    response = json_schema(doc["paths"][path]["get"]["responses"][str(status)], doc)
    return response.get("content", {}).get("application/json", {}).get("schema")


def test_every_documented_route_answers_its_documented_status_with_its_schema(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    import jsonschema

    status, doc = get(f"{api}/api/v1/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    cluster, session = cql(streaming_stack)
    try:
        user_id = str(next(iter(session.execute("SELECT user_id FROM users LIMIT 1"))).user_id)
    finally:
        cluster.shutdown()
    # Each route with parameters that succeed, and with the parameters of each documented error.
    calls = {
        "/api/v1/users/{id}": [
            (f"/api/v1/users/{user_id}", 200),
            (f"/api/v1/users/{uuid.uuid4()}", 404),
            ("/api/v1/users/not-a-uuid", 400),
        ],
        "/api/v1/users": [("/api/v1/users?country=NO&page_size=5", 200), ("/api/v1/users?country=NOR", 400)],
        "/api/v1/totals": [("/api/v1/totals", 200)],
        "/api/v1/signups": [("/api/v1/signups?by=age_band", 200), ("/api/v1/signups?by=planet", 400)],
        "/api/v1/countries/top": [("/api/v1/countries/top?limit=3", 200), ("/api/v1/countries/top?limit=0", 400)],
        "/api/v1/coordinates": [("/api/v1/coordinates?limit=10", 200), ("/api/v1/coordinates?limit=x", 400)],
        "/api/v1/health": [("/api/v1/health", 200)],
        "/api/v1/openapi.json": [("/api/v1/openapi.json", 200)],
        "/metrics": [("/metrics", 200)],
        "/healthz": [("/healthz", 200)],
    }
    streamed = {"/api/v1/stream"}  # test_the_event_stream_pushes_snapshots reads it
    # The control room's routes: test_control_room.py and the fuzz (test_api_fuzz.py) call them.
    mine = {p for p in doc["paths"] if not p.startswith("/api/v1/control/")}
    assert set(calls) | streamed == mine, "a documented route this test does not call"
    for path, examples in calls.items():
        for url, want in examples:
            assert str(want) in doc["paths"][path]["get"]["responses"], (path, want, "not documented")
            status, body = get(api + url)
            assert status == want, (url, status, body)
            schema = documented(doc, path, want)
            if schema is not None:
                jsonschema.validate(body, schema)
    # The check can fail: the user schema refuses a user without its id, or with a wrong type.
    status, user = get(f"{api}/api/v1/users/{user_id}")
    schema = documented(doc, "/api/v1/users/{id}", 200)
    for broken in ({k: v for k, v in user.items() if k != "user_id"}, {**user, "age": "forty"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_health_shows_every_stage_with_rates_while_data_flows(api: str, flowing: subprocess.Popen[bytes]) -> None:
    def moving() -> dict[str, Any] | None:
        status, h = get(f"{api}/api/v1/health")
        stages = {s["name"]: s for s in h["stages"]}
        return (
            h
            if (
                all(stages[n]["state"] in ("ok", "behind") for n in stages)
                and (stages["ingest"]["rate_per_s"] or 0) > 0
                and h["freshness_s"] is not None
                and h["replication_slot"]["active"] is not None
            )
            else None
        )

    h = wait_for(
        lambda: (lambda h: h if h and {s["name"]: s["state"] for s in h["stages"]}["spark"] == "ok" else None)(
            moving()
        ),
        60,
        "every stage up with ingest moving, freshness and slot known, spark ok",
        interval=1,
    )
    stages = {s["name"]: s for s in h["stages"]}
    assert list(stages) == ["ingest", "cdc", "spark", "cassandra"]
    assert h["connector"].startswith("RUNNING")
    assert h["replication_slot"]["active"] is True
    assert stages["spark"]["lag"] is not None and stages["spark"]["errors"] is not None
    assert {s["name"] for s in h["services"]} >= {"postgres", "kafka", "cassandra", "connect", "spark"}
    # Spark "ok" promises the newest change landed within the freshness limit (30 s).
    assert 0 <= h["freshness_s"] <= 30


def test_metrics_expose_the_pipeline_and_the_requests(api: str, flowing: subprocess.Popen[bytes]) -> None:
    get(f"{api}/api/v1/totals")
    status, text = get(f"{api}/metrics")
    assert status == 200
    for line in (
        'streamflow_stage_up{stage="spark"} 1',
        'streamflow_service_up{service="cassandra"} 1',
        "streamflow_connector_running 1",
        "streamflow_replication_slot_active 1",
    ):
        assert line in text, line
    # prometheus-cpp writes labels in name order.
    assert 'streamflow_http_requests_total{code="200",route="/api/v1/totals"}' in text
    assert "streamflow_freshness_seconds" in text


def test_the_event_stream_pushes_snapshots(api: str, flowing: subprocess.Popen[bytes]) -> None:
    events = []
    with urllib.request.urlopen(f"{api}/api/v1/stream", timeout=30) as res:
        assert res.headers["Content-Type"].startswith("text/event-stream")
        t0 = time.monotonic()
        for raw in res:
            line = raw.decode().strip()
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
            if len(events) == 3 or time.monotonic() - t0 > 20:
                break
    assert len(events) == 3
    assert all(e["health"]["stages"] and e["totals"]["users"] > 0 for e in events)
    assert events[0]["health"]["at"] < events[2]["health"]["at"]


def test_errors_are_json_with_the_right_status(api: str) -> None:
    assert get(f"{api}/api/v1/nope") == (404, {"error": "no such endpoint; see /api/v1/openapi.json"})
    status, body = get(f"{api}/api/v1/totals", method="POST")
    assert status == 405 and "read-only" in body["error"], (status, body)


def niceness(pid: int) -> set[int]:
    """The nice value of every thread of a process (field 19 of each task's stat)."""
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        out.add(int(stat.rsplit(")", 1)[1].split()[16]))
    return out


def policies(pid: int) -> set[int]:
    """The scheduling policy of every thread of a process (field 41 of each task's stat: 0 normal,
    2 round-robin real time)."""
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        out.add(int(stat.rsplit(")", 1)[1].split()[38]))
    return out


def may_enter_realtime() -> bool:
    """Whether a process started as this one may enter SCHED_RR: CAP_SYS_NICE, or an
    RLIMIT_RTPRIO of at least 1."""
    if int(proc_status("self", "CapEff").split()[1], 16) >> 23 & 1:
        return True
    soft = resource.getrlimit(resource.RLIMIT_RTPRIO)[0]
    return soft == resource.RLIM_INFINITY or soft >= 1


def proc_status(pid: int | str, field: str) -> str:
    """A field of /proc/<pid>/status ("self" for this process)."""
    return next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(field + ":"))


def may_go_below_inherited(nice: int) -> bool:
    """Whether a process started as this one is may lower its nice value to `nice`:
    CAP_SYS_NICE (root normally has it), or an RLIMIT_NICE that allows it."""
    if int(proc_status("self", "CapEff").split()[1], 16) >> 23 & 1:
        return True
    soft = resource.getrlimit(resource.RLIMIT_NICE)[0]
    return soft == resource.RLIM_INFINITY or 20 - soft <= nice


def test_serve_runs_ahead_of_the_engines_as_the_service_account(streaming_stack: LocalStack) -> None:
    """`serve.nice` (-10) and `serve.realtime`: every thread of serve, started by `up`, has them
    when the run may take them (under `up` as root, serve starts as root, then becomes the
    service account); the engines keep the inherited priority and the normal policy. Without
    the right, serve keeps the inherited ones."""
    status = streaming_stack.status()
    serve, cassandra = int(status["serve"]["pid"]), int(status["cassandra"]["pid"])
    inherited = os.getpriority(os.PRIO_PROCESS, 0)
    expected = -10 if may_go_below_inherited(-10) or inherited <= -10 else inherited
    assert niceness(serve) == {expected}
    if inherited != -10:
        assert -10 not in niceness(cassandra)
    # `serve.realtime` (true): every thread round-robin real time when the run may enter it;
    # the engines normal.
    assert policies(serve) == ({2} if may_enter_realtime() else {0})
    assert policies(cassandra) == {0}
    if os.geteuid() == 0:
        # Not root: the same account as the other services.
        assert proc_status(serve, "Uid") == proc_status(cassandra, "Uid"), proc_status(serve, "Uid")
        assert proc_status(serve, "Uid").split()[1] != "0"


def free_port() -> int:
    return free_ports(1)[0]


def serve_process(stack: LocalStack, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    e = dict(stack.env)
    e.update(env or {})
    return subprocess.Popen(
        [str(streamflow_bin()), "serve", *args],
        env=e,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_non_loopback_bind_needs_a_token_and_the_token_never_leaks(streaming_stack: LocalStack) -> None:
    port = free_port()
    proc = serve_process(streaming_stack, "--host", "0.0.0.0", "--port", str(port))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "STREAMFLOW_SERVE_TOKEN" in out
    secret = "tok-" + uuid.uuid4().hex
    proc = serve_process(
        streaming_stack, "--host", "0.0.0.0", "--port", str(port), env={"STREAMFLOW_SERVE_TOKEN": secret}
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: get(base + "/healthz")[0] == 200, 30, "the token-protected server")
        status, body = get(base + "/api/v1/totals")
        assert status == 401 and "token" in body["error"]
        assert get(base + "/api/v1/totals", {"Authorization": "Bearer wrong"})[0] == 401
        bodies = []
        for path in ("/api/v1/totals", "/api/v1/health", "/metrics", "/api/v1/openapi.json"):
            status, body = get(base + path, {"Authorization": f"Bearer {secret}"})
            assert status == 200, path
            bodies.append(json.dumps(body) if not isinstance(body, str) else body)
        assert get(f"{base}/api/v1/totals?access_token={secret}")[0] == 200
        assert not any(secret in b for b in bodies)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert secret not in out


def test_a_cassandra_outage_is_a_503_and_the_server_stays_up(streaming_stack: LocalStack) -> None:
    port = free_port()
    proc = serve_process(streaming_stack, "--port", str(port), env={"STREAMFLOW_CASSANDRA_PORT": str(free_port())})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: get(base + "/healthz")[0] == 200, 30, "serve")
        for path in (
            "/api/v1/totals",
            f"/api/v1/users/{uuid.uuid4()}",
            "/api/v1/users?country=NO",
            "/api/v1/signups",
            "/api/v1/countries/top",
        ):
            status, body = get(base + path)
            assert status == 503 and "Cassandra is unavailable" in body["error"], (path, body)

        def cassandra_down() -> dict[str, Any] | None:
            h = get(base + "/api/v1/health")[1]
            return h if h["stages"] and {s["name"]: s["state"] for s in h["stages"]}["cassandra"] == "down" else None

        wait_for(cassandra_down, 30, "the cassandra stage marked down")
        assert proc.poll() is None and get(base + "/healthz")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.e2e
def test_the_dashboard_in_chromium_rises_live_and_marks_a_stopped_stage_down(
    streaming_stack: LocalStack, api: str, flowing: subprocess.Popen[bytes]
) -> None:
    shot = REPO / "build/dashboard.png"  # the screenshot the browser test saves
    connect_pid = 0
    try:
        with BrowserScript("dashboard.mjs", [api + "/", str(shot), "cdc"], REPO / "build/dashboard-node.log") as page:
            lines = page.lines
            wait_for(lambda: lines, 150, "the dashboard's counters to rise")
            assert lines[0]["step"] == "rising", lines[0]
            assert lines[0]["second"] > lines[0]["first"]
            # Freeze Kafka Connect (a killed one would be restarted by supervisord within seconds):
            # the CDC stage must turn red.
            connect_pid = streaming_stack.status()["connect"]["pid"]
            os.kill(connect_pid, signal.SIGSTOP)
            page.go()
        assert lines[-1]["step"] == "down", (lines, get(api + "/api/v1/health")[1])
        assert lines[-1]["color"] == "rgb(224, 49, 49)"
        assert "connect is down" in lines[-1]["detail"]
        assert lines[-1]["failures"] == []  # no script error, nothing fetched from elsewhere
        assert Path(shot).stat().st_size > 10000
    finally:
        if connect_pid:
            os.kill(connect_pid, signal.SIGCONT)
        streaming_stack.up(timeout=600)  # Connect back, for whatever runs next
