#!/usr/bin/env bash
# What Avro on the CDC path changes: the same ceiling measurement as bench/ceiling.sh (the whole
# pipeline flat out, then its two halves apart), once with schemaless JSON on the CDC topic
# (cdc.format=json) and once with Avro (cdc.format=avro, the default), one after the other on
# fresh isolated stacks of the same build, plus the bytes per change event on the topic.
# Writes bench/results/avro.json. Usage: bench/avro.sh   (make bench-avro)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SECONDS_FLAT=${BENCH_CEILING_SECONDS:-10}
OUT_DIR=$(mktemp -d /tmp/sf-bench-avro-XXXXXX)
trap 'stop_isolated_stack; rm -rf "$OUT_DIR"' EXIT

for format in json avro; do
  export STREAMFLOW_CDC_FORMAT=$format
  echo "==> cdc.format=$format"
  start_warm_stack
  trap 'stop_isolated_stack; rm -rf "$OUT_DIR"' EXIT
  echo "==> $format: ${SECONDS_FLAT} s of ingest flat out through the whole pipeline"
  "$BIN" bench --seconds "$SECONDS_FLAT" --name "together-$format" --out-dir "$OUT_DIR" --plot "" >/dev/null
  echo "==> $format: ${SECONDS_FLAT} s of ingest flat out with Spark paused, then Spark alone"
  "$BIN" bench --stages-apart --seconds "$SECONDS_FLAT" --name "apart-$format" --out-dir "$OUT_DIR" >/dev/null
  echo "==> $format: bytes per change event on the CDC topic"
  # Values only (tombstones have none): what each change costs Kafka, the network and Spark.
  kcat -b "127.0.0.1:$STREAMFLOW_KAFKA_PORT" -t streamflow.staging.users -C -o beginning -e -q -f '%S\n' \
    | awk '$1 >= 0 { n++; s += $1 } END { printf "{\"events\": %d, \"bytes\": %d}\n", n, s }' \
    > "$OUT_DIR/bytes-$format.json"
  stop_isolated_stack
done

python3 - "$OUT_DIR" "$ROOT" <<'PY'
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(sys.argv[2]) / "bench"))
import result  # noqa: E402

out_dir, out = Path(sys.argv[1]), str(Path(sys.argv[2]) / "bench/results/avro.json")
doc = {}
for fmt in ("json", "avro"):
    together = json.loads((out_dir / f"together-{fmt}.json").read_text())
    apart = json.loads((out_dir / f"apart-{fmt}.json").read_text())
    sizes = json.loads((out_dir / f"bytes-{fmt}.json").read_text())
    by: dict[str, float] = {}
    for half in ("capture", "process"):
        for service, us in apart[half]["cpu_us_per_user_by_service"].items():
            by[service] = round(by.get(service, 0.0) + us, 1)
    by["total"] = round(apart["cpu_us_per_user"], 1)
    cassandra = together["baselines"]["cassandra_writes_per_s"]
    doc[fmt] = {
        "bytes_per_event": round(sizes["bytes"] / sizes["events"], 1) if sizes["events"] else None,
        "events_measured": sizes["events"],
        "cpu_us_per_user": by,
        "users_per_s": together["users_per_s"],
        "ratio_to_cassandra": round(together["users_per_s"] / cassandra, 3) if cassandra else None,
        "cassandra_writes_per_s": cassandra,
    }
result.write(out, doc)
for fmt, h in doc.items():
    top = ", ".join(f"{k} {v:.0f}" for k, v in sorted(h["cpu_us_per_user"].items(), key=lambda kv: -kv[1]))
    print(f"    {fmt}: {h['bytes_per_event']} B per event, {h['users_per_s']:,.0f} users/s "
          f"({h['ratio_to_cassandra']} of raw Cassandra writes); CPU us per user: {top}")
PY
