# Shared by the bench scripts: an isolated stack (own state dir, free loopback ports) and the
# machine description. Source it; then call start_isolated_stack (or start_warm_stack) / stop_isolated_stack.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${STREAMFLOW_BIN:-$ROOT/build/release/src/apps/streamflow}"
[[ -x "$BIN" ]] || { echo "bench: $BIN missing: run 'make build' first" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { python3 -c "print(round($2 - $1, 3))"; }

start_isolated_stack() {
  STATE=$(mktemp -d /tmp/sf-bench-XXXXXX); chmod 755 "$STATE"
  local ports
  read -r -a ports < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(13)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
  export STREAMFLOW_STATE_DIR="$STATE" STREAMFLOW_DEPS_DIR="$ROOT/.deps"
  export STREAMFLOW_POSTGRES_MIGRATIONS_DIR="$ROOT/pipeline/sql/postgres"
  export STREAMFLOW_POSTGRES_PORT=${ports[0]} STREAMFLOW_KAFKA_PORT=${ports[1]} \
         STREAMFLOW_KAFKA_CONTROLLER_PORT=${ports[2]} STREAMFLOW_CONNECT_PORT=${ports[3]} \
         STREAMFLOW_CASSANDRA_PORT=${ports[4]} STREAMFLOW_CASSANDRA_STORAGE_PORT=${ports[5]} \
         STREAMFLOW_CASSANDRA_JMX_PORT=${ports[6]} STREAMFLOW_MOCK_API_PORT=${ports[7]} \
         STREAMFLOW_SPARK_UI_PORT=${ports[8]} STREAMFLOW_AIRFLOW_PORT=${ports[9]} \
         STREAMFLOW_SERVE_PORT=${ports[10]} STREAMFLOW_REGISTRY_PORT=${ports[11]} \
         STREAMFLOW_REGISTRY_MANAGEMENT_PORT=${ports[12]}
  export STREAMFLOW_CASSANDRA_MIGRATIONS_DIR="$ROOT/pipeline/cql"
  export STREAMFLOW_SPARK_PYTHON="$ROOT/.venv/bin/python" STREAMFLOW_SPARK_JOB_DIR="$ROOT/pipeline/spark"
  export STREAMFLOW_SERVE_WEB_DIR="$ROOT/web/dist" STREAMFLOW_AIRFLOW_VENV="$ROOT/.venv-airflow" \
         STREAMFLOW_AIRFLOW_DAGS_DIR="$ROOT/pipeline/airflow/dags"
  # Airflow idles at a few % of a core: left out of the benchmarks unless BENCH_AIRFLOW=true.
  export STREAMFLOW_AIRFLOW_ENABLED=${BENCH_AIRFLOW:-false}
  trap stop_isolated_stack EXIT
}

# An isolated stack, up and warmed: BENCH_WARMUP_SECONDS (20) flat out through the whole
# pipeline until Cassandra has it, not counted. The warm-up is long enough for the JVMs' JIT:
# on a fresh stack, with 2 s of it, the compiler threads of Spark, Cassandra, Connect and Kafka
# took close to 30% of the CPU of the measured run (per-thread CPU from /proc), which measured
# the JIT rather than the pipeline. Leaves the working directory at the repository's root.
start_warm_stack() {
  start_isolated_stack
  echo "==> streamflow up (isolated stack in $STATE)"
  "$BIN" up >/dev/null
  cd "$ROOT"
  local warmup=${BENCH_WARMUP_SECONDS:-20}
  echo "==> warm-up: ${warmup} s flat out through the whole pipeline, until Cassandra has it (not counted)"
  "$BIN" bench --seconds "$warmup" --name warmup --out-dir "$STATE" --no-baselines --plot "" >/dev/null
}

stop_isolated_stack() {
  [[ -n "${STATE:-}" ]] || return 0
  "$BIN" down >/dev/null 2>&1 || true
  rm -rf "$STATE"
  STATE=
}

# psql as the pipeline role of the isolated stack.
pg() {
  PGPASSWORD=$(cat "$STATE/secrets/postgres.password") psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$STREAMFLOW_POSTGRES_PORT" -U streamflow -d streamflow "$@"
}

# write_result FILE key=value... : the JSON result with the machine description and the date.
write_result() {
  python3 "$ROOT/bench/result.py" "$@"
}

# vegeta (the HTTP load generator of the serve benchmarks), installed into .deps/bin on first use.
VEGETA="$ROOT/.deps/bin/vegeta"
ensure_vegeta() {
  [[ -x "$VEGETA" ]] && return 0
  echo "==> installing vegeta 12.13.0 (go install, into .deps/bin)"
  GOBIN="$ROOT/.deps/bin" go install github.com/tsenart/vegeta/v12@v12.13.0
}

# serve_targets FILE: the read mix of bench-serve against this stack's serve, for vegeta: 40% a
# user by id (400 staged users), 20% users of a country (a page of 20), 15% signups per minute
# by country for the last hour, 15% top countries, 10% totals.
serve_targets() {
  local base="http://127.0.0.1:$STREAMFLOW_SERVE_PORT"
  pg -At -c "SELECT user_id FROM staging.users ORDER BY random() LIMIT 400" > "$STATE/ids.txt"
  python3 - "$base" "$STATE/ids.txt" "$1" <<'PY'
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
}

# serve_load TARGETS RATE SECONDS: vegeta at a constant RATE requests/s (open model: requests
# go out on schedule whatever the latency, so a slow answer shows in the percentiles) for
# SECONDS after a 5 s warm-up. vegeta's report goes to stderr; stdout gets one line:
# rps p50_ms p99_ms errors (errors: answers other than 2xx, timeouts included); the same figures
# by route go to $STATE/by_route.json.
serve_load() {
  ensure_vegeta >&2
  "$VEGETA" attack -targets="$1" -rate="$2/s" -duration=5s -timeout=10s >/dev/null
  "$VEGETA" attack -targets="$1" -rate="$2/s" -duration="$3s" -timeout=10s > "$STATE/results.bin"
  "$VEGETA" report < "$STATE/results.bin" | grep -v '^Get ' | sed 's/^/    /' >&2
  "$VEGETA" report -type=json < "$STATE/results.bin" > "$STATE/report.json"
  python3 - "$STATE/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("status_codes", {})
errors = sum(n for code, n in codes.items() if not code.startswith("2"))
print(round(r["rate"], 1), round(r["latencies"]["50th"] / 1e6, 3), round(r["latencies"]["99th"] / 1e6, 3), errors)
PY
  # The same by route ($STATE/by_route.json): which reads slow down under load.
  "$VEGETA" encode --to csv < "$STATE/results.bin" | python3 -c '
import csv, json, re, sys
csv.field_size_limit(sys.maxsize)  # a column holds the whole answer, base64
by = {}
for row in csv.reader(sys.stdin):
    code, latency_ns, url = int(row[1]), int(row[2]), row[10]
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    route = "/" + re.sub(r"^api/v1/users/[^/]+$", "api/v1/users/{id}", path)
    r = by.setdefault(route, {"latencies": [], "errors": 0})
    r["latencies"].append(latency_ns / 1e6)
    r["errors"] += not 200 <= code < 300
out = {}
for route, r in sorted(by.items()):
    lat = sorted(r["latencies"])
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 3)
    out[route] = {"requests": len(lat), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "errors": r["errors"]}
json.dump(out, open(sys.argv[1], "w"), indent=2)
' "$STATE/by_route.json" || { echo "    (no figures by route)" >&2; echo '{}' > "$STATE/by_route.json"; }
}
