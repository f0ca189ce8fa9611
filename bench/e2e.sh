#!/usr/bin/env bash
# End-to-end benchmark of the streaming path (issue "Streaming path: Debezium CDC -> Kafka ->
# Spark Structured Streaming -> Cassandra"), on an isolated stack with every service running.
#
#   sustained  ingest E2E_USERS users flat out; users/s = users / (last row visible in
#              Cassandra - first PostgreSQL commit)
#   freshness  ingest at half that rate for E2E_FRESH_SECONDS; per user, commit -> visible
#              (Debezium's source.ts_ms, kept as users.committed_at, to the row's writetime())
#   baseline   the same rows written straight to a copy of the users table by one client
#              (`streamflow cql --rows-from`: prepared INSERTs, 64 in flight)
#
# Writes bench/results/e2e.json. Usage: bench/e2e.sh   (make bench-e2e)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

USERS=${E2E_USERS:-150000}
FRESH_SECONDS=${E2E_FRESH_SECONDS:-60}
OUT="$ROOT/bench/results/e2e.json"
start_isolated_stack
echo "==> streamflow up (isolated stack in $STATE)"
"$BIN" up >/dev/null

cql() { "$BIN" cql "$@"; }
cassandra_users() { cql "SELECT count(*) FROM users" | tail -1; }
# Current users per the analytics: one small partition, cheap to poll (a count(*) of users
# scans the table and would slow down the pipeline it measures).
analytics_users() {
  cql "SELECT sum(users) FROM users_per_country WHERE scope = 'all'" | tail -1 | sed 's/\\N/0/'
}

# wait_for_users N: until Cassandra holds N users, with a progress line.
wait_for_users() {
  local want=$1 have=0 t0; t0=$(now)
  while (( have < want )) || (( $(cassandra_users) < want )); do
    sleep 1
    have=$(analytics_users)
    printf '\r    %s / %s users in Cassandra (%.0f s)' "$have" "$want" "$(elapsed "$t0" "$(now)")"
    if python3 -c "import sys; sys.exit(0 if $(now) - $t0 > 900 else 1)"; then
      echo; echo "bench: the pipeline did not catch up in 15 minutes" >&2; exit 1
    fi
  done
  echo
}

echo "==> warm-up: 10000 users through the whole pipeline (not counted)"
"$BIN" ingest -q -n 10000 --seed e2e-warmup >/dev/null
wait_for_users 10000
base=10000

echo "==> sustained: $USERS users flat out"
t_start=$(now)
"$BIN" ingest -q -n "$USERS" --seed e2e-sustained >/dev/null
wait_for_users $((base + USERS))
base=$((base + USERS))

# Commit and visibility times of every row since t_start (epoch ms / us), for both phases.
rows_since() {
  cql "SELECT committed_at, writetime(email) FROM users" | tail -n +2 | python3 -c '
import sys, datetime
since = float(sys.argv[1]) * 1000
for line in sys.stdin:
    c, w = line.rstrip("\n").split("\t")
    ms = datetime.datetime.fromisoformat(c.replace("Z", "+00:00")).timestamp() * 1000
    if ms >= since: print(int(ms), int(w))' "$1"
}
rows_since "$t_start" > "$STATE/sustained.txt"
read -r sustained_users users_per_s < <(python3 - "$STATE/sustained.txt" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
first_commit = min(c for c, _ in rows) / 1000
last_visible = max(w for _, w in rows) / 1e6
print(len(rows), round(len(rows) / (last_visible - first_commit)))
PY
)
echo "    $sustained_users users, $users_per_s users/s from first commit to last row visible"

rate=$((users_per_s / 2))
echo "==> freshness: ${FRESH_SECONDS} s at $rate users/s (half the sustained rate)"
t_fresh=$(now)
"$BIN" ingest -q --continuous --rate "$rate" --seed e2e-freshness >"$STATE/fresh-ingest.json" &
ingest_pid=$!
sleep "$FRESH_SECONDS"
kill -TERM "$ingest_pid"; wait "$ingest_pid" || true
fresh_users=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])['inserted'])" "$STATE/fresh-ingest.json")
wait_for_users $((base + fresh_users))
rows_since "$t_fresh" > "$STATE/fresh.txt"
read -r p50 p95 p99 fresh_rate < <(python3 - "$STATE/fresh.txt" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
lat = sorted(w / 1e6 - c / 1000 for c, w in rows)
pct = lambda p: lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]
span = (max(c for c, _ in rows) - min(c for c, _ in rows)) / 1000
print(round(pct(50), 3), round(pct(95), 3), round(pct(99), 3), round(len(rows) / span))
PY
)
echo "    $fresh_users users at $fresh_rate users/s: p50 ${p50} s, p95 ${p95} s, p99 ${p99} s"

echo "==> baseline: the same $sustained_users rows written to a copy of users by one client"
ddl=$(python3 - "$ROOT/pipeline/cql/V001__users.cql" <<'PY'
import re, sys
text = re.sub(r"--[^\n]*", "", open(sys.argv[1]).read())
print(re.search(r"CREATE TABLE IF NOT EXISTS users \(.*?\);", text, re.S).group(0))
PY
)
cql -k "" "CREATE KEYSPACE IF NOT EXISTS streamflow_bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" >/dev/null
cql -k streamflow_bench "$ddl" >/dev/null
cql "SELECT * FROM users" > "$STATE/users.tsv"
python3 - "$STATE/users.tsv" "$t_start" "$t_fresh" > "$STATE/baseline.tsv" <<'PY'
import sys, datetime
src, since, until = sys.argv[1], float(sys.argv[2]) * 1000, float(sys.argv[3]) * 1000
with open(src) as f:
    header = f.readline()
    cols = header.rstrip("\n").split("\t")
    i = cols.index("committed_at")
    sys.stdout.write(header)
    for line in f:
        c = line.split("\t")[i]
        ms = datetime.datetime.fromisoformat(c.replace("Z", "+00:00")).timestamp() * 1000
        if since <= ms < until:
            sys.stdout.write(line)
PY
columns=$(head -1 "$STATE/baseline.tsv" | tr '\t' ',')
markers=$(head -1 "$STATE/baseline.tsv" | tr '\t' '\n' | sed 's/.*/?/' | paste -sd, -)
baseline=$(cql -k streamflow_bench "INSERT INTO users ($columns) VALUES ($markers)" \
  --rows-from "$STATE/baseline.tsv" --concurrency 64)
baseline_rate=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['rows_per_s'])" "$baseline")
echo "    $baseline"

ratio=$(python3 -c "print(round($users_per_s / $baseline_rate, 3))")
write_result "$OUT" users="$sustained_users" users_per_s="$users_per_s" \
  cassandra_baseline_writes_per_s="$baseline_rate" ratio_to_cassandra="$ratio" \
  freshness_rate_users_per_s="$fresh_rate" freshness_p50_s="$p50" freshness_p95_s="$p95" \
  freshness_p99_s="$p99"
