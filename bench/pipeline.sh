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
# Writes bench/results/pipeline.{json,png} and pipeline_half_rate.{json,png}.
# Usage: bench/pipeline.sh   (make bench)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FLAT_OUT_SECONDS=${BENCH_FLAT_OUT_SECONDS:-10}  # ingest alone is ~8x faster than the pipeline
RATE_SECONDS=${BENCH_RATE_SECONDS:-60}
start_isolated_stack
echo "==> streamflow up (isolated stack in $STATE)"
"$BIN" up >/dev/null
cd "$ROOT"

echo "==> warm-up: 2 s flat out through the whole pipeline (not counted)"
"$BIN" bench --seconds 2 --name warmup --out-dir "$STATE" --no-baselines --plot "" >/dev/null

echo "==> flat out for ${FLAT_OUT_SECONDS} s of ingest, then until Cassandra has every user"
summary=$("$BIN" bench --seconds "$FLAT_OUT_SECONDS" --name pipeline)
echo "    $summary"
half=$(python3 -c "import json,sys; print(int(json.loads(sys.argv[1])['users_per_s']) // 2)" "$summary")

echo "==> ${half} users/s (half the sustained rate) for ${RATE_SECONDS} s"
summary=$("$BIN" bench --seconds "$RATE_SECONDS" --rate "$half" --name pipeline_half_rate --no-baselines)
echo "    $summary"
