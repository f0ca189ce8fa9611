#!/usr/bin/env bash
# Ingest-stage throughput, mock API -> PostgreSQL staging, next to a baseline from the same run:
# psql's COPY of exactly the same rows, from a file, into a table shaped like staging.users
# (same columns, same primary key). Writes bench/results/ingest.json with
#   records, records_per_s, copy_baseline_records_per_s, ratio_to_copy, machine, date
# and bench/results/mock_api.json (the mock alone, several clients: it must not be the limit).
# Usage: bash bench/ingest.sh [records]      (default 300000; ROUNDS=3 rounds, medians; ~2 minutes)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
RECORDS=${1:-300000}

start_isolated_stack
# The stage alone: no Debezium capturing the same rows on the same two cores. (With CDC on,
# PostgreSQL decodes all WAL for the slot, the baseline's too; the whole pipeline's
# throughput is the end-to-end benchmark's subject.)
export STREAMFLOW_CDC_ENABLED=false STREAMFLOW_SPARK_ENABLED=false
echo "==> starting an isolated stack (CDC off: this measures the ingest stage)"
"$BIN" up >/dev/null
MOCK="http://127.0.0.1:$STREAMFLOW_MOCK_API_PORT/api/"

echo "==> warm-up (20000 records, not counted)"
"$BIN" ingest -q -n 20000 --seed warmup >/dev/null
pg -c "TRUNCATE staging.users, staging.user_rejects, staging.ingest_batches"

# Rounds alternate ingest and baseline; the figures are medians (single runs on this shared
# 2-core machine vary by about +-10%).
ROUNDS=${ROUNDS:-3}
ingest_rates=(); copy_rates=()
for round in $(seq 1 "$ROUNDS"); do
  pg -c "TRUNCATE staging.users, staging.user_rejects, staging.ingest_batches"
  echo "==> round $round/$ROUNDS: streamflow ingest of $RECORDS records (fetch + parse + validate + COPY)"
  t0=$(now)
  summary=$("$BIN" ingest -q -n "$RECORDS" --seed "bench-$round")
  t1=$(now)
  echo "    $summary"
  ingest_s=$(elapsed "$t0" "$t1")
  landed=$(pg -At -c "SELECT count(*) FROM staging.users")
  [[ "$landed" == "$RECORDS" ]] || { echo "bench: expected $RECORDS users, found $landed" >&2; exit 1; }

  echo "==> round $round/$ROUNDS: baseline, psql \\copy of the same rows from a file"
  ROWS="$STATE/rows.copy"
  pg -c "\\copy staging.users TO '$ROWS'"
  pg -c "DROP TABLE IF EXISTS public.bench_copy" 2>/dev/null
  pg -c "CREATE TABLE public.bench_copy (LIKE staging.users INCLUDING ALL)"
  t0=$(now)
  pg -c "\\copy public.bench_copy FROM '$ROWS'"
  t1=$(now)
  copy_s=$(elapsed "$t0" "$t1")
  copied=$(pg -At -c "SELECT count(*) FROM public.bench_copy")
  [[ "$copied" == "$RECORDS" ]] || { echo "bench: COPY loaded $copied rows" >&2; exit 1; }
  pg -c "DROP TABLE public.bench_copy"
  ingest_rates+=("$(python3 -c "print(round($RECORDS/$ingest_s))")")
  copy_rates+=("$(python3 -c "print(round($RECORDS/$copy_s))")")
  echo "    ingest ${ingest_rates[-1]} rec/s in ${ingest_s} s; COPY ${copy_rates[-1]} rec/s in ${copy_s} s"
done
ingest_list=$(IFS=,; echo "${ingest_rates[*]}")
copy_list=$(IFS=,; echo "${copy_rates[*]}")
read -r ingest_rate copy_rate ratio < <(python3 -c "
import statistics as st
i = st.median([$ingest_list]); c = st.median([$copy_list])
print(round(i), round(c), round(i / c, 3))")
echo "==> medians of $ROUNDS rounds: ingest ${ingest_rate} rec/s, COPY ${copy_rate} rec/s, ratio ${ratio}"

echo "==> the mock API alone: 200 requests x 5000 records, 4 clients"
t0=$(now)
seq 1 200 | xargs -P 4 -I{} curl -sf -o /dev/null "$MOCK?results=5000&seed=mockbench&page={}"
t1=$(now)
mock_rate=$(python3 -c "print(round(200*5000/($t1-$t0)))")
echo "    mock API: ${mock_rate} rec/s"

write_result "$ROOT/bench/results/ingest.json" "records=$RECORDS" "records_per_s=$ingest_rate" \
  "copy_baseline_records_per_s=$copy_rate" "ratio_to_copy=$ratio"
write_result "$ROOT/bench/results/mock_api.json" "records_per_s=$mock_rate" "requests=200" \
  "records_per_request=5000" "clients=4" "ingest_target_records_per_s=50000"
