#!/usr/bin/env bash
# The cluster benchmark (issue "Cluster mode"): the same pipeline measured on the single-node
# layout, then on the cluster layout of deploy/cluster-local.yaml (3 ZooKeeper, 3 Kafka, a ring
# of 3 Cassandra, 2 Connect workers, 2 Spark masters and 2 workers), one after the other on this
# machine, each on an isolated stack with Airflow (BENCH_AIRFLOW=false leaves it out), warmed by
# BENCH_WARMUP_SECONDS (4) flat out:
#
#   users_per_s       `streamflow bench` flat out for BENCH_FLAT_OUT_SECONDS (4), then until
#                     Cassandra has every user
#   freshness_p50_s,  BENCH_RATE_SECONDS (60) at half that rate
#   freshness_p99_s
#   rss_mb            the whole stack's resident memory at its peak during those runs (every
#                     service's process tree, sampled each second)
#
# Writes bench/results/cluster.json (keys single, cluster, machine, date) and the runs' own
# files as bench/results/cluster_{single,cluster}{,_half_rate}.json.
# Usage: bench/cluster.sh   (make bench-cluster)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export BENCH_AIRFLOW=${BENCH_AIRFLOW:-true}

# Ingest alone is 8-20x faster than either layout's pipeline: a few seconds of it flat out are
# minutes of work downstream (20 s of warm-up were 455,000 users, 11 minutes of the cluster's).
FLAT_OUT_SECONDS=${BENCH_FLAT_OUT_SECONDS:-4}
RATE_SECONDS=${BENCH_RATE_SECONDS:-60}
export BENCH_WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-4}
RESULTS="$ROOT/bench/results"

measure() {  # measure LAYOUT: one layout, warmed, flat out then at half rate
  local layout=$1
  start_warm_stack
  echo "==> [$layout] flat out for ${FLAT_OUT_SECONDS} s of ingest, then until Cassandra has every user"
  local summary half
  summary=$("$BIN" bench --seconds "$FLAT_OUT_SECONDS" --name "cluster_$layout" --no-baselines --plot "")
  echo "    $summary"
  half=$(python3 -c "import json,sys; print(max(1, int(json.loads(sys.argv[1])['users_per_s']) // 2))" "$summary")
  echo "==> [$layout] ${half} users/s (half the sustained rate) for ${RATE_SECONDS} s"
  summary=$("$BIN" bench --seconds "$RATE_SECONDS" --rate "$half" --name "cluster_${layout}_half_rate" \
    --no-baselines --plot "")
  echo "    $summary"
  disk_per_user "$layout"
  stop_isolated_stack
}

# disk_per_user LAYOUT: what the stack keeps on disk per user, every replica counted: the
# Cassandra keyspace after a flush (nodetool on each node's JMX port) and the Kafka topics'
# logs, divided by the users Cassandra holds. Written to cluster_LAYOUT_disk.json.
disk_per_user() {
  local layout=$1 users cassandra=0 kafka=0 jmx node bytes
  users=$("$BIN" cql "SELECT count(*) FROM streamflow.users" | tail -1)
  # nodetool on Java 17 needs the module access Cassandra's own clients options give it.
  local nodetool=(java --add-exports java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
    -cp "$ROOT/.deps/cassandra/*" org.apache.cassandra.tools.NodeTool)
  for node in $(seq 1 "$(ls -d "$STATE"/cassandra* | wc -l)"); do
    jmx=$((STREAMFLOW_CASSANDRA_JMX_PORT + node - 1))
    "${nodetool[@]}" -p "$jmx" flush streamflow >/dev/null
    bytes=$("${nodetool[@]}" -p "$jmx" tablestats streamflow | awk -F': ' '/Space used \(live\)/ {s += $2} END {print s + 0}')
    cassandra=$((cassandra + bytes))
  done
  for dir in "$STATE"/kafka*/data; do
    bytes=$(du -sb "$dir"/streamflow.staging.users-* | awk '{s += $1} END {print s + 0}')
    kafka=$((kafka + bytes))
  done
  python3 -c "import json, sys; u = int(sys.argv[2]); print(json.dumps({'users': u, \
'cassandra_bytes_per_user': round(int(sys.argv[3]) / u), 'kafka_cdc_bytes_per_user': round(int(sys.argv[4]) / u)}))" \
    "$layout" "$users" "$cassandra" "$kafka" > "$RESULTS/cluster_${layout}_disk.json"
  echo "    disk: $(cat "$RESULTS/cluster_${layout}_disk.json")"
}

# BENCH_LAYOUTS=cluster measures one layout again and keeps the other's files (empty: none,
# cluster.json is written again from the files there are).
for layout in ${BENCH_LAYOUTS-single cluster}; do
  if [[ $layout == cluster ]]; then
    export STREAMFLOW_TOPOLOGY="$ROOT/deploy/cluster-local.yaml"
  else
    unset STREAMFLOW_TOPOLOGY
  fi
  measure "$layout"
done
unset STREAMFLOW_TOPOLOGY

python3 - "$RESULTS" <<'PY'
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(sys.argv[1]).parent))
import result  # noqa: E402

out = Path(sys.argv[1])
doc = {}
for layout in ("single", "cluster"):
    flat = json.loads((out / f"cluster_{layout}.json").read_text())
    half = json.loads((out / f"cluster_{layout}_half_rate.json").read_text())
    doc[layout] = {
        "users_per_s": flat["users_per_s"],
        "freshness_rate_users_per_s": half["users_per_s"],
        "freshness_p50_s": half["freshness_p50_s"],
        "freshness_p99_s": half["freshness_p99_s"],
        "rss_mb": max(flat["peak_stack_rss_mb"], half["peak_stack_rss_mb"]),
        "rss_by_service_mb": {name: s["peak_rss_mb"] for name, s in sorted(half["services"].items())},
        # CPU a user costs in each service (every node of an engine), flat out: at half the rate
        # the idle costs (Airflow's, each JVM's) and Spark's per-batch cost weigh on fewer users.
        "cpu_us_per_user_by_service": {
            name: round(s["avg_cpu_pct"] * 1e4 / flat["users_per_s"], 1) for name, s in sorted(flat["services"].items())
        },
    }
    disk = out / f"cluster_{layout}_disk.json"
    if disk.exists():
        doc[layout].update(json.loads(disk.read_text()))
    doc[layout]["cpu_us_per_user"] = round(sum(doc[layout]["cpu_us_per_user_by_service"].values()), 1)
result.write(str(out / "cluster.json"), doc)
for layout, d in doc.items():
    print(f"==> {layout}: {d['users_per_s']:.0f} users/s, p50 {d['freshness_p50_s']} s, "
          f"p99 {d['freshness_p99_s']} s at {d['freshness_rate_users_per_s']:.0f} users/s, {d['rss_mb']:.0f} MB")
PY
