"""bench/results/cost.json from the runs bench/cost.sh keeps in bench/results/cost/ (before/,
after/: each `streamflow bench` result file of the run).

    python3 bench/cost_summary.py RUNS_DIR OUT BEFORE_COMMIT AFTER_COMMIT

A sustained run that failed (after/sustained.failed) is recorded as such, with the users written
per minute read from its progress lines (after/sustained.log) up to where it stopped."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import result  # noqa: E402

PROGRESS = re.compile(
    r"^bench +(?P<t>[0-9.]+) s (?P<phase>[a-z-]+) +staging (?P<staging>[0-9,]+) .*cassandra (?P<cassandra>[0-9,]+)"
)


def load(runs: Path, name: str, run: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((runs / name / f"{run}.json").read_text())
    return doc


def cpu_by_service(apart: dict[str, Any]) -> dict[str, float]:
    """Both halves' CPU per user, added up by service, with their total."""
    by: dict[str, float] = {}
    for part in ("capture", "process"):
        for service, us in apart[part]["cpu_us_per_user_by_service"].items():
            by[service] = round(by.get(service, 0.0) + us, 1)
    by["total"] = round(sum(by.values()), 1)
    return by


def figures(runs: Path, name: str, commit: str, like_for_like: float) -> dict[str, Any]:
    together, apart, half = load(runs, name, "together"), load(runs, name, "apart"), load(runs, name, "half")
    return {
        "commit": commit,
        "cpu_us_per_user": cpu_by_service(apart),
        "users_per_s": round(together["users_per_s"], 1),
        "ratio_to_cassandra": round(together["users_per_s"] / like_for_like, 3),
        "cassandra_writes_per_s": round(like_for_like),
        "own_cassandra_baseline_writes_per_s": round(together["baselines"]["cassandra_writes_per_s"]),
        "freshness_p99_s": half["freshness_p99_s"],
        "freshness_rate_users_per_s": half["users_per_s"],
        "peak_stack_rss_mb_at_half_rate": half["peak_stack_rss_mb"],
        # Runs before the sampler read proportional set sizes have none.
        "peak_stack_pss_mb_at_half_rate": half.get("peak_stack_pss_mb"),
    }


def written_per_minute(log: str) -> list[float]:
    """Users Cassandra gained per second in each whole minute of a run's ingest, from its
    progress lines (`bench  T s ingest  staging … cassandra N`)."""
    points = [
        (float(m["t"]), int(m["cassandra"].replace(",", "")))
        for m in (PROGRESS.match(line) for line in log.splitlines())
        if m and m["phase"] == "ingest"
    ]
    if not points:
        return []
    t0, out = points[0][0], list[float]()
    minute = 1
    while True:
        start = min(points, key=lambda p: abs(p[0] - (t0 + 60 * (minute - 1))))
        end = min(points, key=lambda p: abs(p[0] - (t0 + 60 * minute)))
        if end[0] - start[0] < 50:
            return out
        out.append(round((end[1] - start[1]) / (end[0] - start[0]), 1))
        minute += 1


def sustained(runs: Path) -> dict[str, Any]:
    failed = runs / "after" / "sustained.failed"
    if not failed.exists():
        run = load(runs, "after", "sustained")
        # Whole minutes of ingest only: the run's last minute is cut short by the end of ingest
        # (and its writes are the catch-up).
        whole = int(run["ingest_seconds"] // 60)
        minutes = [m for m in run["by_minute"] if 0 <= m["minute"] < whole and m["committed"]]
        first, last = minutes[0], minutes[-1]
        return {
            "minutes": len(minutes),
            "users_per_s": run["target_rate_users_per_s"],
            "completed": True,
            "first_minute_users_per_s": first["written_per_s"],
            "last_minute_users_per_s": last["written_per_s"],
            "first_minute_p99_s": first["freshness_p99_s"],
            "last_minute_p99_s": last["freshness_p99_s"],
        }
    log = runs / "after" / "sustained.log"
    per_minute = written_per_minute(log.read_text()) if log.exists() else []
    rate = runs / "after" / "sustained.rate"
    return {
        "minutes": len(per_minute),
        "users_per_s": int(rate.read_text()) if rate.exists() else None,
        "completed": False,
        "failure": failed.read_text().strip(),
        "written_per_s_by_minute": per_minute,
        "first_minute_users_per_s": per_minute[0] if per_minute else None,
        "last_minute_users_per_s": per_minute[-1] if per_minute else None,
        "first_minute_p99_s": None,
        "last_minute_p99_s": None,
    }


def main(argv: list[str]) -> int:
    runs, out, before_commit, after_commit = Path(argv[1]), argv[2], argv[3], argv[4]
    # The like-for-like raw Cassandra rate (a copy of users with its index) is this build's
    # baseline; the baseline commit's own copy had no index. Both are kept.
    like_for_like = float(load(runs, "after", "together")["baselines"]["cassandra_writes_per_s"])
    before = figures(runs, "before", before_commit, like_for_like)
    after = figures(runs, "after", after_commit, like_for_like)
    serve = load(runs, "after", "serve")
    # The rate the flow was asked for, and what it did end to end under the load.
    serve["users_per_s_measured"] = load(runs, "after", "serve_flow")["users_per_s"]
    doc = {
        "before": before,
        "after": after,
        "cpu_ratio": round(after["cpu_us_per_user"]["total"] / before["cpu_us_per_user"]["total"], 3),
        "sustained": sustained(runs),
        "serve_under_load": {
            **{k: serve[k] for k in ("rps", "users_per_s", "users_per_s_measured", "p50_ms", "p99_ms", "errors")},
            **({"by_route": serve["by_route"]} if "by_route" in serve else {}),
        },
    }
    result.write(out, doc)
    for name, f in (("before", before), ("after", after)):
        top = ", ".join(
            f"{k} {v:.0f}"
            for k, v in sorted(f["cpu_us_per_user"].items(), key=lambda kv: -kv[1])
            if k != "total" and v >= 1
        )
        print(
            f"    {name} ({f['commit']}): {f['cpu_us_per_user']['total']:.0f} us CPU per user ({top}); "
            f"{f['users_per_s']:,.0f} users/s = {f['ratio_to_cassandra']} of raw Cassandra; "
            f"p99 {f['freshness_p99_s']} s at {f['freshness_rate_users_per_s']:,.0f} users/s"
        )
    s = doc["sustained"]
    print(
        f"    sustained: {'completed' if s['completed'] else 'FAILED: ' + s['failure']}; "
        f"{s['first_minute_users_per_s']} -> {s['last_minute_users_per_s']} users/s written per minute"
    )
    print(f"    serve under load: p99 {serve['p99_ms']} ms, {serve['errors']} errors at {serve['rps']} requests/s")
    print(f"==> CPU per user after/before: {doc['cpu_ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
