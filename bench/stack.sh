#!/usr/bin/env bash
# Measures the local stack as `make run` starts it (Airflow included) and writes
# bench/results/stack.json:
#   up_seconds              `streamflow up` on a fresh state directory (initdb, Kafka format,
#                           Cassandra first boot included) with everything already installed
#   stack_rss_mb            resident memory of the services' process trees once healthy
#   working_rss_mb          the highest resident memory of the whole stack while users flow
#                           through it at STACK_RATE users/s (500) for STACK_SECONDS (120), as
#                           they do under `make run` (`streamflow bench`'s sampler, every second)
#   make_test_fresh_seconds wall time of `make test` in a fresh clone of this repository
#                           (reuses what this machine already downloaded: apt, ~/.m2, pip cache);
#                           only with STACK_MAKE_TEST=1 (it takes as long as `make test`)
# Usage: bash bench/stack.sh     (make bench-stack)
set -euo pipefail
BENCH_AIRFLOW=${BENCH_AIRFLOW:-true}  # as `make run` starts it
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
RATE=${STACK_RATE:-500}
FLOW_SECONDS=${STACK_SECONDS:-120}

start_isolated_stack
echo "==> streamflow up on a fresh state directory ($STATE)"
t0=$(now); "$BIN" up >/dev/null; t1=$(now)
up_seconds=$(python3 -c "print(round($t1 - $t0, 1))")
echo "    up: ${up_seconds} s"

# Sum RSS over each service's whole process tree (PostgreSQL forks helpers). Shared memory is
# counted in every process that maps it, so this is an upper bound.
pids=$("$BIN" status --json | python3 -c 'import json,sys; print(" ".join(str(s["pid"]) for s in json.load(sys.stdin)["services"]))')
stack_rss_mb=$(python3 - "$pids" <<'PY'
import os, sys
roots = [int(p) for p in sys.argv[1].split()]
children = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except OSError:
            pass
seen, todo = set(), list(roots)
while todo:
    p = todo.pop()
    if p not in seen:
        seen.add(p); todo.extend(children.get(p, []))
total = 0
for p in seen:
    try:
        with open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    except OSError:
        pass
print(round(total / 1024))
PY
)
echo "    stack RSS: ${stack_rss_mb} MB"
echo "==> ${RATE} users/s through the pipeline for ${FLOW_SECONDS} s"
"$BIN" bench --seconds "$FLOW_SECONDS" --rate "$RATE" --name working --out-dir "$STATE" --no-baselines --plot "" >/dev/null
working_rss_mb=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['peak_stack_rss_mb']))" "$STATE/working.json")
echo "    stack RSS while working: ${working_rss_mb} MB"
stop_isolated_stack; trap - EXIT

figures=("up_seconds=$up_seconds" "stack_rss_mb=$stack_rss_mb" "working_rss_mb=$working_rss_mb"
         "working_users_per_s=$RATE" "airflow=$STREAMFLOW_AIRFLOW_ENABLED")
if [[ "${STACK_MAKE_TEST:-0}" != 1 ]]; then
  write_result "$ROOT/bench/results/stack.json" "${figures[@]}"
  exit 0
fi

echo "==> make test in a fresh clone"
CLONE=$(mktemp -d /tmp/sf-fresh-XXXXXX); chmod 755 "$CLONE"
git clone -q "$ROOT" "$CLONE/streamflow"
t0=$(now)
(cd "$CLONE/streamflow" && env -u STREAMFLOW_STATE_DIR -u STREAMFLOW_DEPS_DIR make test) > "$CLONE/make-test.log" 2>&1 \
  || { tail -40 "$CLONE/make-test.log"; echo "bench: make test failed in the fresh clone" >&2; exit 1; }
t1=$(now)
make_test_fresh_seconds=$(python3 -c "print(round($t1 - $t0))")
tail -3 "$CLONE/make-test.log"
rm -rf "$CLONE"
echo "    make test: ${make_test_fresh_seconds} s"

write_result "$ROOT/bench/results/stack.json" "${figures[@]}" "make_test_fresh_seconds=$make_test_fresh_seconds"
