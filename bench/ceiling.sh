#!/usr/bin/env bash
# How fast can the whole pipeline go on this machine? On an isolated stack with every service
# running (Airflow left out, as in `make bench`), after the same warm-up as bench/pipeline.sh:
#
#   together   `streamflow bench` flat out for BENCH_CEILING_SECONDS (10): the whole pipeline at
#              once, its sustained users/s and the CPU each service spent per user, and this
#              machine's baselines (PostgreSQL COPY, Kafka produce, raw Cassandra writes)
#   apart      `streamflow bench --stages-apart`, as long: ingest flat out with the Spark job
#              paused (SIGSTOP, its JIT kept warm) until Kafka has every change (the capture
#              half: ingest, PostgreSQL, Debezium on Connect, Kafka), then the job resumed and
#              timed until Cassandra has every user (the process half: Spark, Cassandra)
#
# The two halves' CPU per user adds up to what one user costs the machine; the cores' CPU time
# divided by it is the highest sustained rate the pipeline can reach here, however its halves
# overlap (`ceiling_users_per_s`), set against the target (BENCH_TARGET_RATE, 10,000 users/s)
# and against what the whole pipeline did in the same run.
# Writes bench/results/ceiling.json. Usage: bench/ceiling.sh   (make bench-ceiling)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SECONDS_FLAT=${BENCH_CEILING_SECONDS:-10}
TARGET=${BENCH_TARGET_RATE:-10000}
start_warm_stack

echo "==> together: ${SECONDS_FLAT} s of ingest flat out through the whole pipeline"
"$BIN" bench --seconds "$SECONDS_FLAT" --name together --out-dir "$STATE" --plot "" >/dev/null

echo "==> apart: ${SECONDS_FLAT} s of ingest flat out with Spark paused, then Spark alone"
"$BIN" bench --stages-apart --seconds "$SECONDS_FLAT" --target-rate "$TARGET" --name ceiling \
  --out-dir "$STATE" >/dev/null

python3 - "$STATE" "$ROOT" <<'PY'
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(sys.argv[2]) / "bench"))
import result  # noqa: E402

state, out = Path(sys.argv[1]), str(Path(sys.argv[2]) / "bench/results/ceiling.json")
apart = json.loads((state / "ceiling.json").read_text())
together = json.loads((state / "together.json").read_text())
users = together["users"]
by = {k: round(v["cpu_s"] * 1e6 / users, 1) for k, v in together["services"].items()} if users else {}
apart["together"] = {
    "users": users,
    "users_per_s": together["users_per_s"],
    "cpu_us_per_user": round(sum(by.values()), 1),
    "cpu_us_per_user_by_service": by,
}
apart["baselines"] = together["baselines"]
apart["together_fraction_of_ceiling"] = (
    round(together["users_per_s"] / apart["ceiling_users_per_s"], 3) if apart["ceiling_users_per_s"] else None)
result.write(out, {k: v for k, v in apart.items() if k not in ("machine", "date")})


def line(name, h):
    top = ", ".join(f"{k} {v:.0f}" for k, v in sorted(h["cpu_us_per_user_by_service"].items(),
                                                      key=lambda kv: -kv[1]) if v >= 1)
    print(f"    {name}: {h['users']:,} users, {h['users_per_s']:,.0f}/s, "
          f"{h['cpu_us_per_user']:.0f} us CPU per user ({top})")


line("together", apart["together"])
line("capture half", apart["capture"])
line("process half", apart["process"])
print(f"==> {apart['cpu_us_per_user']:.0f} us of CPU per user in all: at most "
      f"{apart['ceiling_users_per_s']:,.0f} users/s on {apart['cores']} cores; the whole pipeline "
      f"did {together['users_per_s']:,.0f}/s; {apart['target_users_per_s']:,.0f}/s would need "
      f"{apart['cpu_us_per_user_at_target']:.0f} us or less")
PY
