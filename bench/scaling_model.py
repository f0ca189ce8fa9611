"""The capacity model of docs/scaling.md, computed from recorded measurements.

Reads bench/results/cluster.json (the cluster layout's CPU per user by node, its disk per user)
and prints, as Markdown, what one user costs by engine and what 10k, 100k and 1M users/s need:
cores, nodes, Kafka partitions, Spark executors, Cassandra nodes, disk per day.

Usage: python3 bench/scaling_model.py [bench/results/cluster.json]
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

RATES = (10_000, 100_000, 1_000_000)
UTILISATION = 0.6  # plan cores to run at 60%: headroom for a node's loss and for bursts
NODE_CORES = 16  # cores of one host in the model
EXECUTOR_CORES = 4
RETENTION_DAYS = 7  # the CDC topic's retention (log.retention.hours=168)
# Engines as the model groups the measured services (nodes and helpers of one engine together).
ENGINES = {
    "kafka": "Kafka brokers",
    "cassandra": "Cassandra",
    "spark": "Spark (driver, executors, masters)",
    "connect": "Connect + Debezium",
    "postgres": "PostgreSQL",
    "zookeeper": "ZooKeeper",
    "registry": "schema registry",
    "ingest": "ingest",
}


def engine_of(service: str) -> str | None:
    name = re.sub(r"-\d+$", "", service)
    if name.startswith("spark"):
        return "spark"
    return name if name in ENGINES else None


def by_engine(cpu: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for service, us in cpu.items():
        engine = engine_of(service)
        if engine is not None:
            out[engine] = out.get(engine, 0.0) + us
    return out


def cores(rate: int, us_per_user: float) -> float:
    return rate * us_per_user / 1e6 / UTILISATION


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results/cluster.json")
    doc = json.loads(path.read_text())
    cluster = doc["cluster"]
    cpu = by_engine(cluster["cpu_us_per_user_by_service"])
    total = sum(cpu.values())
    print(
        f"Measured on the cluster layout ({doc['machine']}, {doc['date'][:10]}) flat out, "
        f"{cluster['users_per_s']:.0f} users/s; each engine's figure is the sum over its nodes, "
        "replication included.\n"
    )
    print("| engine | CPU µs per user | share |")
    print("| --- | ---: | ---: |")
    for engine, us in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(f"| {ENGINES[engine]} | {us:.0f} | {us / total:.0%} |")
    print(f"| **total of these engines** | **{total:.0f}** | |\n")
    kafka_bytes = cluster["kafka_cdc_bytes_per_user"]
    cassandra_bytes = cluster["cassandra_bytes_per_user"]
    print(
        f"Disk per user, every replica counted: {kafka_bytes} B in the CDC topic's logs, "
        f"{cassandra_bytes} B in Cassandra's keyspace after a flush.\n"
    )
    print(
        f"Cores are planned at {UTILISATION:.0%} busy, hosts of {NODE_CORES} cores, executors of "
        f"{EXECUTOR_CORES} cores, the topic kept {RETENTION_DAYS} days.\n"
    )
    print("| | " + " | ".join(f"{r:,} users/s" for r in RATES) + " |")
    print("| --- | " + " | ".join("---:" for _ in RATES) + " |")
    rows: list[tuple[str, list[str]]] = []
    rows.append(("cores, all engines", [f"{cores(r, total):,.0f}" for r in RATES]))
    for engine in ("spark", "cassandra", "connect", "kafka", "postgres"):
        rows.append((f"cores: {ENGINES[engine]}", [f"{cores(r, cpu.get(engine, 0)):,.1f}" for r in RATES]))
    spark_cores = [math.ceil(cores(r, cpu["spark"])) for r in RATES]
    rows.append(("Spark executors", [f"{math.ceil(c / EXECUTOR_CORES)}" for c in spark_cores]))
    # One task reads one partition per micro-batch: at least one partition per executor core,
    # and a multiple of the broker count so that leaders spread evenly.
    brokers = [max(3, math.ceil(cores(r, cpu["kafka"]) / NODE_CORES)) for r in RATES]
    rows.append(("Kafka brokers", [str(b) for b in brokers]))
    rows.append(
        ("Kafka partitions (CDC topic)", [str(math.ceil(c / b) * b) for c, b in zip(spark_cores, brokers, strict=True)])
    )
    rows.append(("Cassandra nodes", [str(max(3, math.ceil(cores(r, cpu["cassandra"]) / NODE_CORES))) for r in RATES]))
    # Debezium reads one replication slot with one task: past what one core decodes, the staging
    # table is split (hash of user_id) over several tables or databases, a connector each.
    # (Connect's and PostgreSQL's cost per user, taken as one core's work per shard.)
    per_task = 1e6 / (cpu["connect"] + cpu.get("postgres", 0)) * UTILISATION
    rows.append(("capture shards (slot + connector)", [str(max(1, math.ceil(r / per_task))) for r in RATES]))
    rows.append(("hosts, all engines", [f"{math.ceil(cores(r, total) / NODE_CORES):,}" for r in RATES]))
    rows.append(
        (
            f"Kafka disk ({RETENTION_DAYS} days)",
            [f"{r * 86400 * RETENTION_DAYS * kafka_bytes / 1e12:,.1f} TB" for r in RATES],
        )
    )
    rows.append(
        ("Cassandra disk per day of new users", [f"{r * 86400 * cassandra_bytes / 1e12:,.1f} TB" for r in RATES])
    )
    for label, values in rows:
        print(f"| {label} | " + " | ".join(values) + " |")


if __name__ == "__main__":
    main()
