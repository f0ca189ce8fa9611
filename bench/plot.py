"""The chart of a `streamflow bench` result: throughput of each stage and end-to-end freshness
over the run. Debian's python3-matplotlib (installed by `make setup`).

    python3 bench/plot.py bench/results/pipeline.json bench/results/pipeline.png
"""

from __future__ import annotations

import json
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STAGES = [
    ("staging_users", "ingest -> PostgreSQL"),
    ("cdc_events", "CDC -> Kafka"),
    ("spark_upserted", "Spark -> Cassandra (rows written)"),
    ("cassandra_users", "users in Cassandra"),
]


def rates(timeline: list[dict[str, Any]], key: str, window: float = 5.0) -> tuple[list[float], list[float]]:
    """Rate of a counter over the last `window` seconds at each sample (Spark writes 50,000-row
    micro-batches: per-second rates would be spikes). Unanswered samples are skipped."""
    pts = [(s["t"], s[key]) for s in timeline if s.get(key) is not None]
    ts, rs = [], []
    j = 0
    for t1, v1 in pts:
        while pts[j][0] < t1 - window:
            j += 1
        t0, v0 = pts[j]
        if t1 - t0 >= window / 2:
            ts.append(t1)
            rs.append(max(0.0, (v1 - v0) / (t1 - t0)))
    return ts, rs


def since_start(timeline: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    pts = [(s["t"], s[key]) for s in timeline if s.get(key) is not None]
    return [t for t, _ in pts], [v - pts[0][1] for _, v in pts] if pts else []


def style(ax: Any, title: str, ylabel: str, xlabel: str, legend: bool = True) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    if legend:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def main(src: str, out: str) -> int:
    doc = json.load(open(src))
    fig, (ax0, ax1, ax2, ax3) = plt.subplots(4, 1, figsize=(10, 13), sharex=False)
    mode = doc["mode"] if doc["mode"] == "flat out" else f"{doc['target_rate_users_per_s']:.0f} users/s"
    fig.suptitle(
        f"streamflow bench ({mode}): {doc['users']:,} users, {doc['users_per_s']:,.0f} users/s "
        f"end to end, freshness p99 {doc['freshness_p99_s']:.2f} s\n{doc['machine']} · {doc['date']}",
        fontsize=9,
    )
    run_time = "seconds since the start of the run"
    for key, label in STAGES:
        ax0.plot(*since_start(doc["timeline"], key), label=label)
        ax1.plot(*rates(doc["timeline"], key), label=label)
    style(ax0, "records through each stage", "since the start", run_time)
    style(ax1, "throughput per stage", "per second (5 s window)", run_time)

    f = doc["freshness_timeline"]
    ax2.plot([p["t"] for p in f], [p["p50_s"] for p in f], label="median")
    ax2.plot([p["t"] for p in f], [p["max_s"] for p in f], label="worst")
    style(
        ax2,
        "end-to-end freshness",
        "seconds, commit -> visible",
        "PostgreSQL commit, seconds since the start of the run",
    )

    tl = doc["timeline"]
    ax3.plot([s["t"] for s in tl], [s["stack_rss_mb"] / 1024 for s in tl], color="tab:purple")
    style(ax3, "memory of the stack", "GB resident (all services)", run_time, legend=False)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py RESULT.json OUT.png")
    sys.exit(main(sys.argv[1], sys.argv[2]))
