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
    unset STREAMFLOW_BIN  # each build's own binary, from its own lib.sh
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
      ensure_vegeta  # not during the measured flow
      echo "==> $name: serve at ${SERVE_RPS} requests/s for ${SERVE_SECONDS} s while ${half} users/s flow"
      "$BIN" bench --seconds $((SERVE_SECONDS + 20)) --rate "$half" --name serve_flow --out-dir "$out" \
        --no-baselines --plot "" >/dev/null &
      local flow=$!
      sleep 10  # the flow reaches Cassandra
      local figures rps p50 p99 errors
      figures=$(serve_load "$STATE/targets.txt" "$SERVE_RPS" "$SERVE_SECONDS")
      read -r rps p50 p99 errors <<< "$figures"
      wait "$flow" || echo "the flow under the serve load did not finish" > "$out/serve_flow.failed"
      write_result "$out/serve.json" rps="$rps" users_per_s="$half" p50_ms="$p50" p99_ms="$p99" \
        errors="$errors" by_route="$(cat "$STATE/by_route.json")" >/dev/null
      local rate=$((sustained * 8 / 10))
      echo "==> $name: sustained, ${SUSTAINED_MINUTES} min at ${rate} users/s (80% of ${sustained})"
      # Its progress lines are kept: if the pipeline stalls, they show where. A run not done
      # (caught up and every user read back) COST_SUSTAINED_SLACK_S (420) after its ingest was
      # due to end is killed (it finishes its catch-up whatever the signal) and recorded as failed.
      echo "$rate" > "$out/sustained.rate"
      local code=0
      timeout -s KILL $((SUSTAINED_MINUTES * 60 + ${COST_SUSTAINED_SLACK_S:-420})) \
        "$BIN" bench --seconds $((SUSTAINED_MINUTES * 60)) --rate "$rate" --name sustained --out-dir "$out" \
        --no-baselines --plot "" 2> "$out/sustained.log" >/dev/null || code=$?
      if (( code != 0 )); then
        echo "the sustained run did not finish within $((SUSTAINED_MINUTES * 60 + ${COST_SUSTAINED_SLACK_S:-420})) s (exit $code)" \
          > "$out/sustained.failed"
        "$BIN" status > "$out/sustained.status" 2>&1 || true
      fi
    fi
    rm -rf "${RUNS:?}/$name"
    cp -r "$out" "$RUNS/$name"
  )
}

measure before "$WT"
measure after "$ROOT" after

python3 "$ROOT/bench/cost_summary.py" "$RUNS" "$ROOT/bench/results/cost.json" \
  "$(git -C "$ROOT" rev-parse --short=7 "$want")" \
  "$(git -C "$ROOT" rev-parse --short=7 HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src pipeline deps || echo '+changes')"
