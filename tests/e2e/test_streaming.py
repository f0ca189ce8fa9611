"""The whole pipeline on the real stack: ingest -> PostgreSQL -> Debezium -> Kafka -> Spark ->
Cassandra, and the dead-letter topic.

Issue: "Streaming path: Debezium CDC -> Kafka -> Spark Structured Streaming -> Cassandra",
end-to-end tests. A SIGKILL of the Spark job mid-run is in tests/faults (with every other
component). The tests share one stack with the other e2e and serve tests; each states its
own expectations relative to what is already there (`settled_signups`), so it passes alone and in
any order, and every check of the analytics compares them with the tables' own contents, so a
double count or a lost change anywhere fails it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import LocalStack, row, wait_for
from pipeline_checks import (
    Cassandra,
    ChangeEncoder,
    confluent_header,
    dead_letters,
    kcat_produce,
    settled_signups,
    wait_until_consistent,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOPIC = "streamflow.staging.users"
DLQ = "streamflow.dlq"


# ---- helpers -------------------------------------------------------------------------------


def ingest(stack: LocalStack, *args: str, timeout: float = 600) -> dict[str, Any]:
    proc = stack.run("ingest", "-q", *args, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    summary: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return summary


@pytest.fixture(scope="module")
def cass(streaming_stack: LocalStack) -> Iterator[Cassandra]:
    c = Cassandra(streaming_stack)
    yield c
    c.close()


# ---- tests ---------------------------------------------------------------------------------


def test_up_starts_the_streaming_job_and_status_shows_its_queries(streaming_stack: LocalStack) -> None:
    spark = streaming_stack.status()["spark"]
    assert spark["state"] == "healthy", spark
    assert {"query users", "query analytics", "checkpoints"} <= set(spark["facts"]), spark
    assert spark["facts"]["checkpoints"].startswith(str(streaming_stack.state_dir)), spark


def test_20000_users_reach_cassandra_once_within_60_s_and_the_analytics_add_up(
    streaming_stack: LocalStack, cass: Cassandra
) -> None:
    signups = settled_signups(streaming_stack, cass)
    summary = ingest(streaming_stack, "-n", "20000", "--seed", f"e2e-twenty-thousand-{uuid.uuid4().hex[:6]}")
    assert summary["inserted"] == 20000
    last_commit = time.monotonic()  # ingest returns after its last transaction committed
    elapsed = wait_until_consistent(streaming_stack, cass, signups + 20000, timeout=120)
    # The check itself (a full read of both sides) takes a few seconds of that.
    assert time.monotonic() - last_commit <= 60, f"took {elapsed:.1f} s after the last commit"


def test_an_update_and_a_delete_in_postgresql_reach_cassandra(streaming_stack: LocalStack, cass: Cassandra) -> None:
    seed = f"e2e-update-{uuid.uuid4().hex[:6]}"
    ingest(streaming_stack, "-n", "100", "--seed", seed, "--nat", "GB,FR")
    signups = settled_signups(streaming_stack, cass)
    with streaming_stack.pg_connect() as conn:
        uid, country = row(
            conn,
            "SELECT u.user_id, u.country FROM staging.users u JOIN staging.ingest_batches b USING (batch_id) "
            "WHERE b.seed = %s ORDER BY u.user_id LIMIT 1",
            (seed,),
        )

    def in_country(code: str) -> bool:
        # The dashboard's "users of a country" query (the SAI index on country_code).
        return uid in {r.user_id for r in cass.rows("SELECT user_id FROM users WHERE country_code = %s", code)}

    (old_code,) = [r.country_code for r in cass.rows("SELECT country_code FROM users WHERE user_id = %s", uid)]
    assert in_country(old_code)
    with streaming_stack.pg_connect() as conn:
        conn.execute(
            "UPDATE staging.users SET city = 'Testville', country = 'Norway', nat = 'NO', "
            "updated_at = now() WHERE user_id = %s",
            (uid,),
        )

    def moved() -> bool:
        r = cass.rows("SELECT city, country_code FROM users WHERE user_id = %s", uid)
        return bool(r) and r[0].city == "Testville" and r[0].country_code == "NO"

    wait_for(moved, 60, f"the update in Cassandra (moved from {country} to Norway)")
    assert in_country("NO")
    assert not in_country(old_code)
    wait_until_consistent(streaming_stack, cass, signups, timeout=60)

    with streaming_stack.pg_connect() as conn:
        conn.execute("DELETE FROM staging.users WHERE user_id = %s", (uid,))
    wait_for(lambda: not cass.rows("SELECT user_id FROM users WHERE user_id = %s", uid), 60, "the delete in Cassandra")
    assert not in_country("NO")
    wait_until_consistent(streaming_stack, cass, signups, timeout=60)


def test_a_poison_message_lands_in_the_dead_letter_topic_and_the_stream_goes_on(
    streaming_stack: LocalStack, cass: Cassandra
) -> None:
    signups = settled_signups(streaming_stack, cass)
    marker = uuid.uuid4().hex
    enc = ChangeEncoder(streaming_stack, TOPIC)
    poison: list[tuple[str, bytes]] = [
        # Not Avro: schemaless JSON, credentials and all.
        ("poison-" + marker, json.dumps({"op": "c", "marker": marker, "password": "hunter2"}).encode()),
        # Avro with a schema id the registry does not have.
        ("poison2-" + marker, confluent_header(876543) + enc.change("x", {"user_id": marker})[5:]),
        ("poison3-" + marker, enc.change("c", {"user_id": "not-a-uuid", "first_name": marker})),
    ]
    for key, value in poison:
        kcat_produce(streaming_stack, TOPIC, key, value)

    def letters_of_this_test() -> list[dict[str, Any]] | None:
        out = [v for v in dead_letters(streaming_stack, DLQ) if marker in (v["message_key"] or "")]
        return out if len(out) >= len(poison) else None

    letters = wait_for(letters_of_this_test, 90, "three dead letters")
    reasons = sorted(v["reason"] for v in letters)
    assert reasons == sorted(
        [
            "value is not Avro in the Confluent wire format (magic byte 0, schema id)",
            "unknown schema id 876543",
            "user_id is not a uuid",
        ]
    ), reasons
    sent = dict(poison)
    for v in letters:
        assert v["source_topic"] == TOPIC
        assert v["source_partition"] == 0
        assert isinstance(v["source_offset"], int)
        assert b"hunter2" not in v["value"]  # credentials never reach a second topic
        if not v["message_key"].startswith("poison-"):
            assert v["value"] == sent[v["message_key"]]  # the original bytes

    # ... and the stream goes on: new users still arrive.
    ingest(streaming_stack, "-n", "500", "--seed", f"e2e-after-poison-{marker[:6]}")
    wait_until_consistent(streaming_stack, cass, signups + 500, timeout=90)
