#!/usr/bin/env bash
# What one user costs this machine, before and after (make bench-cost): the baseline commit
# (COST_BASELINE, default ecfa09a, the pipeline before the cost work) is built in a worktree of
# its own and measured first, then this build, one after the other on the same machine, each on
# a fresh isolated stack of its own with every pipeline service running (Airflow left out, as in
# `make bench`), after the same warm-up:
#
#   together   `streamflow bench` flat out for BENCH_CEILING_SECONDS (10): users/s end to end
#              and the machine's baselines (this build's raw Cassandra writes go to a copy of the
#              users table with its index, like for like with the pipeline's writes)
#   apart      `streamflow bench --stages-apart`, as long: the capture half (Spark paused) and
#              the process half (Spark alone) apart; the CPU per user of the two halves, by
#              service, added up, is what one user costs
#   half       COST_HALF_SECONDS (60) at half the sustained rate: the freshness percentiles
#
# and then on this build's stack only:
#
#   serve      vegeta at COST_SERVE_RPS (500) requests/s, the bench-serve mix, for
#              COST_SERVE_SECONDS (60) while users flow at half the sustained rate
#   sustained  COST_SUSTAINED_MINUTES (10) at 80% of the sustained rate: the first and the last
#              minute's users written per second and freshness p99
#
# Writes bench/results/cost.json (before, after, sustained, serve_under_load) and keeps each
# run's own result file in bench/results/cost/. Takes about 35 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_COMMIT=${COST_BASELINE:-ecfa09a}
FLAT=${BENCH_CEILING_SECONDS:-10}
HALF_SECONDS=${COST_HALF_SECONDS:-60}
SERVE_RPS=${COST_SERVE_RPS:-500}
SERVE_SECONDS=${COST_SERVE_SECONDS:-60}
SUSTAINED_MINUTES=${COST_SUSTAINED_MINUTES:-10}
RUNS="$ROOT/bench/results/cost"
mkdir -p "$RUNS"

# --- the baseline, built in its own worktree (build/cost-baseline), sharing .deps and the venvs
WT="$ROOT/build/cost-baseline"
want=$(git -C "$ROOT" rev-parse "$BASE_COMMIT^{commit}")
if [[ ! -x "$WT/build/release/src/apps/streamflow" || "$(git -C "$WT" rev-parse HEAD 2>/dev/null)" != "$want" ]]; then
  echo "==> building the baseline $BASE_COMMIT in a worktree ($WT)"
  git -C "$ROOT" worktree remove --force "$WT" 2>/dev/null || rm -rf "$WT"
  git -C "$ROOT" worktree prune
  git -C "$ROOT" worktree add --detach "$WT" "$want" >/dev/null
  for d in .deps .venv .venv-airflow; do ln -sfn "$ROOT/$d" "$WT/$d"; done
  ln -sfn "$ROOT/web/dist" "$WT/web/dist"
  (cd "$WT" && cmake --preset release >/dev/null && cmake --build --preset release | tail -1)
fi

# measure NAME ROOT [after]: a fresh isolated stack of ROOT's build (its own bench/lib.sh, so its
# own settings and scripts), warmed up, then together, apart and half; with `after`, serve under
# load and the sustained run too. The stack is stopped when the subshell ends.
measure() {
  local name=$1 root=$2 extra=${3:-}
  (
    # shellcheck source=/dev/null
    source "$root/bench/lib.sh"
    start_warm_stack
    local out="$STATE/results"
    mkdir -p "$out"
    echo "==> $name: together, ${FLAT} s flat out through the whole pipeline"
    "$BIN" bench --seconds "$FLAT" --name together --out-dir "$out" --plot "" >/dev/null
    echo "==> $name: apart, ${FLAT} s of ingest with Spark paused, then Spark alone"
    "$BIN" bench --stages-apart --seconds "$FLAT" --name apart --out-dir "$out" >/dev/null
    local sustained half
    sustained=$(python3 -c "import json,sys; print(int(json.load(open(sys.argv[1]))['users_per_s']))" "$out/together.json")
    half=$((sustained / 2))
    echo "==> $name: half, ${HALF_SECONDS} s at ${half} users/s (half the sustained ${sustained})"
    "$BIN" bench --seconds "$HALF_SECONDS" --rate "$half" --name half --out-dir "$out" --no-baselines --plot "" >/dev/null
    if [[ "$extra" == after ]]; then
      serve_targets "$STATE/targets.txt"
      echo "==> $name: serve at ${SERVE_RPS} requests/s for ${SERVE_SECONDS} s while ${half} users/s flow"
      "$BIN" bench --seconds $((SERVE_SECONDS + 20)) --rate "$half" --name serve_flow --out-dir "$out" \
        --no-baselines --plot "" >/dev/null &
      local flow=$!
      sleep 10  # the flow reaches Cassandra
      local figures rps p50 p99 errors
      figures=$(serve_load "$STATE/targets.txt" "$SERVE_RPS" "$SERVE_SECONDS" | tail -1)
      read -r rps p50 p99 errors <<< "$figures"
      wait "$flow"
      write_result "$out/serve.json" rps="$rps" users_per_s="$half" p50_ms="$p50" p99_ms="$p99" \
        errors="$errors" >/dev/null
      local rate=$((sustained * 8 / 10))
      echo "==> $name: sustained, ${SUSTAINED_MINUTES} min at ${rate} users/s (80% of ${sustained})"
      "$BIN" bench --seconds $((SUSTAINED_MINUTES * 60)) --rate "$rate" --name sustained --out-dir "$out" \
        --no-baselines --plot "" >/dev/null
    fi
    rm -rf "${RUNS:?}/$name"
    cp -r "$out" "$RUNS/$name"
  )
}

measure before "$WT"
measure after "$ROOT" after

python3 - "$RUNS" "$ROOT" "$(git -C "$ROOT" rev-parse --short=7 "$want")" \
  "$(git -C "$ROOT" rev-parse --short=7 HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src pipeline deps || echo '+changes')" <<'PY'
import json
import sys
from pathlib import Path

runs, root, before_commit, after_commit = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
sys.path.insert(0, str(root / "bench"))
import result  # noqa: E402


def load(name: str, run: str) -> dict:
    return json.loads((runs / name / f"{run}.json").read_text())


# The like-for-like raw Cassandra rate (a copy of the users table with its index) is this build's
# baseline; the baseline commit's own copy had no index. Both are kept.
like_for_like = load("after", "together")["baselines"]["cassandra_writes_per_s"]


def figures(name: str, commit: str) -> dict:
    together, apart, half = load(name, "together"), load(name, "apart"), load(name, "half")
    by = {}
    for part in ("capture", "process"):
        for service, us in apart[part]["cpu_us_per_user_by_service"].items():
            by[service] = round(by.get(service, 0) + us, 1)
    by["total"] = round(sum(v for k, v in by.items()), 1)
    own = together["baselines"]["cassandra_writes_per_s"]
    return {
        "commit": commit,
        "cpu_us_per_user": by,
        "users_per_s": round(together["users_per_s"], 1),
        "ratio_to_cassandra": round(together["users_per_s"] / like_for_like, 3),
        "cassandra_writes_per_s": round(like_for_like),
        "own_cassandra_baseline_writes_per_s": round(own),
        "freshness_p99_s": half["freshness_p99_s"],
        "freshness_rate_users_per_s": half["users_per_s"],
    }


before, after = figures("before", before_commit), figures("after", after_commit)
minutes = [m for m in load("after", "sustained")["by_minute"] if m["committed"]]
first, last = minutes[0], minutes[-1]
serve = load("after", "serve")
doc = {
    "before": before,
    "after": after,
    "cpu_ratio": round(after["cpu_us_per_user"]["total"] / before["cpu_us_per_user"]["total"], 3),
    "sustained": {
        "minutes": len(minutes),
        "users_per_s": load("after", "sustained")["target_rate_users_per_s"],
        "first_minute_users_per_s": first["written_per_s"],
        "last_minute_users_per_s": last["written_per_s"],
        "first_minute_p99_s": first["freshness_p99_s"],
        "last_minute_p99_s": last["freshness_p99_s"],
    },
    "serve_under_load": {k: serve[k] for k in ("rps", "users_per_s", "p50_ms", "p99_ms", "errors")},
}
result.write(str(root / "bench/results/cost.json"), doc)
for name, f in (("before", before), ("after", after)):
    top = ", ".join(f"{k} {v:.0f}" for k, v in sorted(f["cpu_us_per_user"].items(), key=lambda kv: -kv[1])
                    if k != "total" and v >= 1)
    print(f"    {name} ({f['commit']}): {f['cpu_us_per_user']['total']:.0f} us CPU per user ({top}); "
          f"{f['users_per_s']:,.0f} users/s = {f['ratio_to_cassandra']} of raw Cassandra; "
          f"p99 {f['freshness_p99_s']} s at {f['freshness_rate_users_per_s']:,.0f} users/s")
s = doc["sustained"]
print(f"    sustained {s['minutes']} min: {s['first_minute_users_per_s']} -> {s['last_minute_users_per_s']} users/s, "
      f"p99 {s['first_minute_p99_s']} -> {s['last_minute_p99_s']} s")
print(f"    serve under load: p99 {serve['p99_ms']} ms, {serve['errors']} errors at {serve['rps']} requests/s")
print(f"==> CPU per user after/before: {doc['cpu_ratio']}")
PY
