"""Schema evolution end to end, on the e2e stack (its tables change shape, so these tests run
after the others that read them: conftest's MODULE_ORDER): a compatible staging migration
(nullable columns added) reaches the registry as a new version and flows through Spark into the
Cassandra columns a CQL migration added, with no restart and no user lost or counted twice; an
incompatible one (a column's type changed) is refused by the registry, fails Connect's task, and
`status` and the dashboard say why; once it is reverted, `streamflow resync` gets past the
refused changes and nothing is lost.

Issue: "Schema Registry and Avro on the CDC path", point 4.
"""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import LocalStack, row, wait_for
from pipeline_checks import Cassandra, registry_get, settled_signups, wait_until_consistent

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SUBJECT = "streamflow.staging.users-value"


@pytest.fixture(scope="module")
def evolving(streaming_stack: LocalStack) -> tuple[LocalStack, Path]:
    """The e2e stack, whose migrations are a copy that these tests add migrations to."""
    return streaming_stack, streaming_stack.migrations


@pytest.fixture(scope="module")
def cass(evolving: tuple[LocalStack, Path]) -> Iterator[Cassandra]:
    c = Cassandra(evolving[0])
    yield c
    c.close()


def migrate(stack: LocalStack, migrations: Path, name: str, sql: str = "", cql: str = "") -> str:
    if sql:
        (migrations / "postgres" / f"{name}.sql").write_text(sql)
    if cql:
        (migrations / "cql" / f"{name}.cql").write_text(cql)
    return stack.run("migrate", check=True).stdout


def ingest(stack: LocalStack, n: int, seed: str) -> None:
    proc = stack.run("ingest", "-q", "-n", str(n), "--seed", seed, "--batch-size", "250", timeout=600)
    assert proc.returncode == 0, proc.stderr


def connect_facts(stack: LocalStack) -> dict[str, str]:
    facts: dict[str, str] = stack.status()["connect"]["facts"]
    return facts


def spark_pid(stack: LocalStack) -> int:
    pid: int = stack.status()["spark"]["pid"]
    return pid


def test_a_nullable_column_added_to_staging_reaches_cassandra_without_a_restart(
    evolving: tuple[LocalStack, Path], cass: Cassandra
) -> None:
    stack, migrations = evolving
    tag = uuid.uuid4().hex[:6]
    ingest(stack, 500, f"evolve-before-{tag}")
    signups = settled_signups(stack, cass)
    versions_before = registry_get(stack, f"/subjects/{SUBJECT}/versions")
    pid = spark_pid(stack)

    # Users keep arriving while both stores change shape.
    during = threading.Thread(target=ingest, args=(stack, 2000, f"evolve-during-{tag}"))
    during.start()
    out = migrate(
        stack,
        migrations,
        "V900__loyalty",
        sql="ALTER TABLE staging.users ADD COLUMN loyalty_tier text, ADD COLUMN member_since date;\n",
        cql="ALTER TABLE users ADD (loyalty_tier text, member_since date);\n",
    )
    assert "applied migration V900" in out and "1 migration(s) applied" in out, out
    during.join()
    with stack.pg_connect() as conn:
        conn.execute(
            "UPDATE staging.users SET loyalty_tier = 'gold', member_since = '2020-02-29', updated_at = now() "
            "WHERE user_id IN (SELECT user_id FROM staging.users ORDER BY user_id LIMIT 50)"
        )
        (gold,) = row(conn, "SELECT count(*) FROM staging.users WHERE loyalty_tier = 'gold'")
    assert gold == 50

    def carried() -> list[Any] | None:
        rows = cass.rows("SELECT user_id, member_since FROM users WHERE loyalty_tier = 'gold' ALLOW FILTERING")
        return rows if len(rows) == 50 else None

    rows = wait_for(carried, 120, "50 gold users in Cassandra")
    assert {str(r.member_since) for r in rows} == {"2020-02-29"}  # Debezium's date, converted
    # Every user once, the analytics counting each signup once.
    wait_until_consistent(stack, cass, signups + 2000, timeout=180)

    # A new, compatible version of the subject, with the new columns.
    versions = registry_get(stack, f"/subjects/{SUBJECT}/versions")
    assert len(versions) == len(versions_before) + 1, (versions_before, versions)
    latest = registry_get(stack, f"/subjects/{SUBJECT}/versions/latest")
    assert "loyalty_tier" in latest["schema"] and "member_since" in latest["schema"]
    # ... and nothing was restarted or failed on the way.
    assert spark_pid(stack) == pid
    assert connect_facts(stack)["connector"] == "RUNNING task0=RUNNING"
    log = (stack.state_dir / "logs" / "spark.log").read_text(errors="replace")
    assert "staging column loyalty_tier: carried to streamflow.users" in log


def test_an_incompatible_change_is_refused_visibly_and_nothing_is_lost_once_reverted(
    evolving: tuple[LocalStack, Path], cass: Cassandra
) -> None:
    stack, migrations = evolving
    tag = uuid.uuid4().hex[:6]
    ingest(stack, 300, f"evolve-refused-{tag}")
    signups = settled_signups(stack, cass)
    versions_before = registry_get(stack, f"/subjects/{SUBJECT}/versions")

    migrate(stack, migrations, "V901__dob_age_text", sql="ALTER TABLE staging.users ALTER COLUMN dob_age TYPE text;\n")
    # Changes made while the registry refuses the new shape: updates, inserts and deletes.
    with stack.pg_connect() as conn:
        conn.execute(
            "UPDATE staging.users SET city = 'Refusedville', updated_at = now() "
            "WHERE user_id IN (SELECT user_id FROM staging.users ORDER BY user_id LIMIT 20)"
        )
        conn.execute(
            "INSERT INTO staging.users (user_id, first_name, country, nat, dob, batch_id) "
            "SELECT gen_random_uuid(), 'Gap', 'Norway', 'NO', now() - interval '30 years', batch_id "
            "FROM staging.users LIMIT 10"
        )
        gone = [
            str(r[0])
            for r in conn.execute(
                "DELETE FROM staging.users WHERE user_id IN (SELECT user_id FROM staging.users "
                "WHERE city IS DISTINCT FROM 'Refusedville' AND first_name IS DISTINCT FROM 'Gap' "
                "ORDER BY user_id DESC LIMIT 5) RETURNING user_id"
            ).fetchall()
        ]

    # Connect's task fails, and status says why and what to do.
    facts = wait_for(
        lambda: (lambda f: f if "FAILED" in f.get("connector", "") else None)(connect_facts(stack)),
        90,
        "the connector's task failed",
    )
    assert "Incompatible" in facts["failure"] or "RuleViolation" in facts["failure"], facts
    assert "streamflow resync" in facts["next"], facts
    assert registry_get(stack, f"/subjects/{SUBJECT}/versions") == versions_before  # refused

    # ... and so does the dashboard's health (the cdc stage's card), at its next sample.
    def cdc_card() -> dict[str, Any] | None:
        with urllib.request.urlopen(f"{stack.serve_url}/api/v1/health", timeout=10) as res:
            card: dict[str, Any] = {s["name"]: s for s in json.load(res)["stages"]}["cdc"]
        return card if "streamflow resync" in card["detail"] else None

    cdc = wait_for(cdc_card, 30, "the dashboard's CDC card saying why", interval=1)
    assert cdc["state"] == "down"
    assert "Incompatible" in cdc["detail"] or "RuleViolation" in cdc["detail"], cdc

    # resync before the change is reverted: the task fails again, and it says so.
    early = stack.run("resync", timeout=400)
    assert early.returncode == 1, early.stdout + early.stderr
    assert "failed again" in early.stderr

    migrate(
        stack,
        migrations,
        "V902__dob_age_integer",
        sql="ALTER TABLE staging.users ALTER COLUMN dob_age TYPE integer USING dob_age::integer;\n",
    )
    done = stack.run("resync", timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["resent_inserts"], report["resent_updates"], report["resent_deletes"]) == (10, 20, 5), report
    assert report["connector"] == "RUNNING task0=RUNNING"

    # Nothing lost: every staging user in Cassandra once, the 10 new ones counted as signups,
    # the 5 deleted gone from users and from their countries' counts.
    wait_until_consistent(stack, cass, signups + 10, timeout=180)
    assert len(cass.rows("SELECT user_id FROM users WHERE city = 'Refusedville' ALLOW FILTERING")) == 20
    for user_id in gone:
        assert not cass.rows("SELECT user_id FROM users WHERE user_id = %s", uuid.UUID(user_id))
    # ... and the pipeline goes on.
    ingest(stack, 200, f"evolve-after-{tag}")
    wait_until_consistent(stack, cass, signups + 10 + 200, timeout=120)
    assert "failure" not in connect_facts(stack)
