"""The benchmark result files (bench/results/<name>.json): the figures, the machine they were
measured on, and when. Used by bench/lib.sh (`write_result`) and the fault suite (tests/faults).

    python3 bench/result.py OUT key=json-value...
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from typing import Any


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    distro = next(
        (ln.split("=", 1)[1].strip().strip('"') for ln in open("/etc/os-release") if ln.startswith("PRETTY_NAME=")), "?"
    )
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb} GiB RAM, {distro}, kernel {platform.release()}"


def write(out: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Writes doc plus `machine` and `date` (UTC) to out; returns what it wrote."""
    doc = dict(doc)
    doc["machine"] = machine()
    doc["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc


if __name__ == "__main__":
    out, pairs = sys.argv[1], sys.argv[2:]
    doc = {k: json.loads(v) for k, v in (p.split("=", 1) for p in pairs)}
    print(json.dumps(write(out, doc), indent=2))
