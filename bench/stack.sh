#!/usr/bin/env bash
# Measures the local stack as `make run` starts it (Airflow included) and writes
# bench/results/stack.json:
#   up_seconds              `streamflow up` on a fresh state directory (initdb, Kafka format,
#                           Cassandra first boot included) with everything already installed
#   stack_rss_mb            resident memory of the services' process trees once healthy: the sum
#                           of their RSS, which counts a shared page once per process that maps
#                           it (PostgreSQL's shared buffers, Airflow's forked workers)
#   stack_pss_mb            the same as proportional set sizes: every page counted once, the
#                           memory the stack takes from the machine
#   working_rss_mb          the highest of each while users flow through the stack at STACK_RATE
#   working_pss_mb          users/s (500) for STACK_SECONDS (120), as they do under `make run`
#                           (`streamflow bench`'s sampler: RSS every second, PSS every 5 s);
#                           working_by_service gives each service's peaks
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

# RSS and PSS summed over each service's whole process tree (PostgreSQL forks helpers).
pids=$("$BIN" status --json | python3 -c 'import json,sys; print(" ".join(str(s["pid"]) for s in json.load(sys.stdin)["services"]))')
read -r stack_rss_mb stack_pss_mb < <(python3 - "$pids" <<'PY'
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
rss = pss = 0
for p in seen:
    try:
        with open(f"/proc/{p}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
    except OSError:
        pass
print(round(rss / 1024), round(pss / 1024))
PY
)
echo "    stack RSS: ${stack_rss_mb} MB, PSS: ${stack_pss_mb} MB"
echo "==> ${RATE} users/s through the pipeline for ${FLOW_SECONDS} s"
"$BIN" bench --seconds "$FLOW_SECONDS" --rate "$RATE" --name working --out-dir "$STATE" --no-baselines --plot "" >/dev/null
# The stack's peaks, then each service's as one JSON object (the rest of the line).
read -r working_rss_mb working_pss_mb working_by_service < <(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
by = {k: {'peak_rss_mb': v['peak_rss_mb'], 'peak_pss_mb': v['peak_pss_mb']} for k, v in sorted(d['services'].items())}
print(round(d['peak_stack_rss_mb']), json.dumps(d.get('peak_stack_pss_mb')), json.dumps(by))" "$STATE/working.json")
echo "    stack while working: RSS ${working_rss_mb} MB, PSS ${working_pss_mb} MB"
stop_isolated_stack; trap - EXIT

figures=("up_seconds=$up_seconds" "stack_rss_mb=$stack_rss_mb" "stack_pss_mb=$stack_pss_mb"
         "working_rss_mb=$working_rss_mb" "working_pss_mb=$working_pss_mb"
         "working_by_service=$working_by_service" "working_seconds=$FLOW_SECONDS"
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
