"""What the end-to-end and fault tests check on a running stack: the users on both sides, the
analytics totals, and the Kafka topics (through kcat)."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from typing import Any

from conftest import LocalStack

ANALYTICS_SIGNUP_TABLES = ("signups_by_country_minute", "signups_by_gender_minute", "signups_by_age_band_minute")


def staging_ids(stack: LocalStack) -> set[str]:
    """The users Cassandra must hold: staging's, and those housekeeping purged from staging once
    Cassandra had them (a purge is not a delete: Cassandra keeps them)."""
    with stack.pg_connect() as conn:
        return {
            str(r[0])
            for r in conn.execute("SELECT user_id FROM staging.users UNION SELECT user_id FROM staging.purged_users")
        }


def staged_count(stack: LocalStack) -> int:
    """len(staging_ids(stack)), counted by PostgreSQL."""
    with stack.pg_connect() as conn:
        (n,) = conn.execute(
            "SELECT count(*) FROM (SELECT user_id FROM staging.users UNION SELECT user_id FROM staging.purged_users) u"
        ).fetchone() or (0,)
        return int(n)


class Cassandra:
    def __init__(self, stack: LocalStack):
        self.cluster, self.session = stack.cql_session()
        self.session.set_keyspace("streamflow")
        self.cluster.profile_manager.default.request_timeout = 60

    def close(self) -> None:
        self.cluster.shutdown()

    def rows(self, cql: str, *params: Any) -> list[Any]:
        return list(self.session.execute(cql, params or None))

    def user_ids(self) -> list[str]:
        from cassandra.query import SimpleStatement

        stmt = SimpleStatement("SELECT user_id FROM users", fetch_size=5000)
        return [str(r.user_id) for r in self.session.execute(stmt)]

    def totals(self) -> dict[str, int]:
        """Each analytics table summed over everything it holds."""
        out = {"users_per_country": sum(r.users for r in self.rows("SELECT users FROM users_per_country"))}
        for table in ANALYTICS_SIGNUP_TABLES:
            out[table] = sum(r.signups for r in self.rows(f"SELECT signups FROM {table}"))
        return out


def assert_consistent(stack: LocalStack, cass: Cassandra, created: int) -> None:
    """Cassandra holds exactly staging's users, once each, and the analytics agree: current users
    per country sum to the user count; signups (never decremented) sum to every user ever
    created, in each of the three breakdowns."""
    pg = staging_ids(stack)
    ids = cass.user_ids()
    assert len(ids) == len(set(ids))
    assert set(ids) == pg, (
        f"missing in Cassandra: {sorted(pg - set(ids))[:5]}, not in staging: {sorted(set(ids) - pg)[:5]}"
    )
    t = cass.totals()
    assert t["users_per_country"] == len(pg), t
    for table in ANALYTICS_SIGNUP_TABLES:
        assert t[table] == created, (table, t, created)


def settled_signups(stack: LocalStack, cass: Cassandra, timeout: float = 180, period: float = 6.0) -> int:
    """The signups a stack has counted so far, once the pipeline has settled: Cassandra holds
    exactly staging's users, the current users per country add up to them, the three signup
    breakdowns agree, and all of that held for one analytics trigger period (`period`). A test
    states what it expects relative to this, so it passes alone and after any other test."""
    state: dict[str, Any] = {}

    def snapshot() -> tuple[int, int] | None:
        # The totals (a few hundred rows) while they move; every user id once they held.
        t, staged = cass.totals(), staged_count(stack)
        signups = {t[table] for table in ANALYTICS_SIGNUP_TABLES}
        if t["users_per_country"] != staged or len(signups) != 1:
            return None
        return (staged, signups.pop())

    def same_users_on_both_sides() -> bool:
        ids = cass.user_ids()
        return len(ids) == len(set(ids)) and set(ids) == staging_ids(stack)

    def settled() -> tuple[int, int] | None:
        try:
            now = snapshot()
            if now is None or now != state.get("last"):
                state.update(last=now, since=time.monotonic())
                return None
            if time.monotonic() - float(state["since"]) < period:
                return None
            if same_users_on_both_sides():
                return now
        except Exception:  # noqa: BLE001 - a service restarting: try again
            pass
        state.update(last=None, since=time.monotonic())
        return None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = settled()
        if found is not None:
            return found[1]
        time.sleep(1.0)
    raise AssertionError(f"the pipeline did not settle within {timeout} s (last: {state.get('last')})")


def wait_until_consistent(stack: LocalStack, cass: Cassandra, created: int, timeout: float) -> float:
    """Seconds until Cassandra and the analytics match staging; fails after `timeout` with the
    last difference seen. While the pipeline catches up only the analytics totals and the
    staging count are read (a few hundred rows); every user id is compared once they agree."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        try:
            t, staged = cass.totals(), staged_count(stack)
            if t["users_per_country"] == staged and all(t[table] == created for table in ANALYTICS_SIGNUP_TABLES):
                assert_consistent(stack, cass, created)
                return time.monotonic() - start
            last = f"analytics {t} against {staged} staged users and {created} signups"
        except AssertionError as e:
            last = str(e)[:500]
        except Exception as e:  # noqa: BLE001 - a service restarting: try again
            last = f"{type(e).__name__}: {str(e)[:300]}"
        time.sleep(1.0)
    raise AssertionError(f"Cassandra did not match staging within {timeout} s: {last}")


def kcat_consume(stack: LocalStack, topic: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-t", topic, "-C", "-o", "beginning", "-e", "-q", "-J"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "Unknown topic or partition" in proc.stderr:
        return []
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def kcat_topics(stack: LocalStack) -> set[str]:
    """The names of the broker's topics, from its metadata."""
    proc = subprocess.run(
        ["kcat", "-b", stack.kafka_bootstrap(), "-L", "-J"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return {t["topic"] for t in json.loads(proc.stdout)["topics"]}


def kcat_produce(stack: LocalStack, topic: str, key: str, value: str | bytes, partition: int = 0) -> None:
    """One message, the value byte for byte (newlines and invalid UTF-8 included: kcat sends a
    file named on its command line as one message)."""
    data = value if isinstance(value, bytes) else value.encode()
    with tempfile.NamedTemporaryFile(prefix="sf-message-") as f:
        f.write(data)
        f.flush()
        proc = subprocess.run(
            ["kcat", "-b", stack.kafka_bootstrap(), "-t", topic, "-P", "-p", str(partition), "-k", key, f.name],
            capture_output=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
