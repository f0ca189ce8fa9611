#!/usr/bin/env bash
# Read-path benchmark of `streamflow serve` (issue "Live analytics dashboard and query server in
# C++"), on an isolated stack with every pipeline service running and data flowing.
#
#   load     vegeta at a constant SERVE_RATE requests/s (default 1,000) for SERVE_SECONDS
#            (default 30), open model: requests are sent on schedule whatever the latency, so
#            a slow answer shows in the percentiles (no coordinated omission)
#   mix      40% a user by id, 20% users of a country (a page of 20), 15% signups per minute
#            by country for the last hour, 15% top countries, 10% totals
#   data     50,000 users in Cassandra; every service of the stack running
#   runs     1. the pipeline idle (nothing being ingested)          -> bench/results/serve.json
#            2. again with ingest --continuous at SERVE_INGEST_RATE users/s (default 300)
#               flowing through the whole pipeline at the same time -> serve_ingesting.json
#
# Usage: bench/serve.sh   (make bench-serve)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RATE=${SERVE_RATE:-1000}
SECONDS_LOAD=${SERVE_SECONDS:-30}
OUT="$ROOT/bench/results/serve.json"
VEGETA="$ROOT/.deps/bin/vegeta"
if [[ ! -x "$VEGETA" ]]; then
  echo "==> installing vegeta 12.13.0 (go install, into .deps/bin)"
  GOBIN="$ROOT/.deps/bin" go install github.com/tsenart/vegeta/v12@v12.13.0
fi

start_isolated_stack
echo "==> streamflow up (isolated stack in $STATE)"
"$BIN" up >/dev/null
echo "==> ingesting 50,000 users"
"$BIN" ingest -q -n 50000 >/dev/null
for _ in $(seq 300); do
  n=$("$BIN" cql "SELECT sum(users) FROM users_per_country WHERE scope = 'all'" | tail -1 | sed 's/\\N/0/')
  (( n >= 50000 )) && break
  sleep 1
done
echo "    $n users in Cassandra"

BASE="http://127.0.0.1:$STREAMFLOW_SERVE_PORT"
TARGETS="$STATE/targets.txt"
pg -At -c "SELECT user_id FROM staging.users ORDER BY random() LIMIT 400" > "$STATE/ids.txt"
python3 - "$BASE" "$STATE/ids.txt" "$TARGETS" <<'PY'
import random, sys
base, ids, out = sys.argv[1], open(sys.argv[2]).read().split(), sys.argv[3]
countries = ["AU", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IN", "IR", "MX", "NL", "NO", "NZ", "RS", "TR", "UA", "US"]
lines = [f"GET {base}/api/v1/users/{i}" for i in ids]                                   # 400
lines += [f"GET {base}/api/v1/users?country={random.choice(countries)}&page_size=20" for _ in range(200)]
lines += [f"GET {base}/api/v1/signups?by=country" for _ in range(150)]
lines += [f"GET {base}/api/v1/countries/top?limit=10" for _ in range(150)]
lines += [f"GET {base}/api/v1/totals" for _ in range(100)]
random.seed(7)
random.shuffle(lines)
open(out, "w").write("\n\n".join(lines) + "\n")
PY

# load NAME OUT: warm-up, then the measured constant-rate run; writes OUT.
load() {
  echo "==> $1: warm-up 5 s, then $SECONDS_LOAD s at $RATE requests/s (constant rate, open model)"
  "$VEGETA" attack -targets="$TARGETS" -rate="$RATE/s" -duration=5s -timeout=10s >/dev/null
  "$VEGETA" attack -targets="$TARGETS" -rate="$RATE/s" -duration="${SECONDS_LOAD}s" -timeout=10s \
    > "$STATE/results.bin"
  "$VEGETA" report < "$STATE/results.bin" | grep -v '^Get ' | sed 's/^/    /'
  "$VEGETA" report -type=json < "$STATE/results.bin" > "$STATE/report.json"
  local rps p50 p99 errors
  read -r rps p50 p99 errors < <(python3 - "$STATE/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("status_codes", {})
errors = sum(n for code, n in codes.items() if not code.startswith("2"))
print(round(r["rate"], 1), round(r["latencies"]["50th"] / 1e6, 3), round(r["latencies"]["99th"] / 1e6, 3), errors)
PY
  )
  write_result "$2" rps="$rps" p50_ms="$p50" p99_ms="$p99" errors="$errors"
}

load "pipeline idle" "$OUT"
"$BIN" ingest -q --continuous --rate "${SERVE_INGEST_RATE:-300}" --batch-size 100 >/dev/null 2>&1 &
FEED=$!
trap 'kill $FEED 2>/dev/null || true; stop_isolated_stack' EXIT
sleep 10  # the feed reaches Cassandra
load "ingesting ${SERVE_INGEST_RATE:-300} users/s" "$ROOT/bench/results/serve_ingesting.json"
