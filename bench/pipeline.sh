#!/usr/bin/env bash
# The pipeline benchmark (issue "End-to-end benchmark and fault-tolerance suite"): on an isolated
# stack with every service running (Airflow left out unless BENCH_AIRFLOW=true), `streamflow
# bench` twice:
#
#   pipeline            ingest flat out for BENCH_FLAT_OUT_SECONDS (10), then until Cassandra
#                       has every user: sustained throughput per stage and end to
#                       end, each stage as a fraction of its baseline (PostgreSQL COPY, Kafka
#                       produce, raw Cassandra writes), memory and CPU of every service
#   pipeline_half_rate  BENCH_RATE_SECONDS (60) at half the sustained rate: the freshness percentiles
#
# Writes bench/results/pipeline.{json,png} and pipeline_half_rate.{json,png}, and from the same
# two runs bench/results/e2e.json, the figures of the streaming-path issue: sustained users/s
# against the raw Cassandra write baseline, freshness percentiles at half that rate.
# Usage: bench/pipeline.sh   (make bench)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FLAT_OUT_SECONDS=${BENCH_FLAT_OUT_SECONDS:-10}  # ingest alone is ~8x faster than the pipeline
RATE_SECONDS=${BENCH_RATE_SECONDS:-60}
start_warm_stack

echo "==> flat out for ${FLAT_OUT_SECONDS} s of ingest, then until Cassandra has every user"
summary=$("$BIN" bench --seconds "$FLAT_OUT_SECONDS" --name pipeline)
echo "    $summary"
half=$(python3 -c "import json,sys; print(int(json.loads(sys.argv[1])['users_per_s']) // 2)" "$summary")

echo "==> ${half} users/s (half the sustained rate) for ${RATE_SECONDS} s"
summary=$("$BIN" bench --seconds "$RATE_SECONDS" --rate "$half" --name pipeline_half_rate --no-baselines)
echo "    $summary"

python3 - "$ROOT/bench/results" <<'PY'
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(sys.argv[1]).parent))
import result  # noqa: E402

out = Path(sys.argv[1])
flat = json.loads((out / "pipeline.json").read_text())
half = json.loads((out / "pipeline_half_rate.json").read_text())
baseline = flat["baselines"]["cassandra_writes_per_s"]
result.write(str(out / "e2e.json"), {
    "users": flat["users"],
    "users_per_s": flat["users_per_s"],
    "cassandra_baseline_writes_per_s": baseline,
    "ratio_to_cassandra": round(flat["users_per_s"] / baseline, 3),
    "freshness_rate_users_per_s": half["users_per_s"],
    "freshness_p50_s": half["freshness_p50_s"],
    "freshness_p95_s": half["freshness_p95_s"],
    "freshness_p99_s": half["freshness_p99_s"],
})
print(f"==> e2e.json: {flat['users_per_s']:.0f} users/s sustained, p99 {half['freshness_p99_s']} s "
      f"at {half['users_per_s']:.0f} users/s")
PY
