"""Runs the `streamflow` binary for the DAGs: the work happens there, not in Python.

`streamflow up` starts Airflow with STREAMFLOW_BIN (the binary) and every setting as a
STREAMFLOW_* variable, so a task's `streamflow` sees exactly what the stack was started with.
Importing this module does no work.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from typing import Any

import pendulum

log = logging.getLogger(__name__)


# What every StreamFlow DAG shares: a fixed start in the past, no catch-up of missed intervals,
# one run at a time, and a tag to find them by.
DAG_DEFAULTS: dict[str, Any] = {
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "max_active_runs": 1,
    "tags": ["streamflow"],
}


class StreamflowError(RuntimeError):
    """A `streamflow` command failed; the message carries its exit status and last output."""


def setting(name: str, default: str) -> str:
    """A StreamFlow setting ("ingest.batch_size") as `up` passed it to Airflow."""
    return os.environ.get("STREAMFLOW_" + name.upper().replace(".", "_"), default)


def run(args: list[str], ok_codes: tuple[int, ...] = (0,), timeout_s: int = 3600) -> tuple[int, dict[str, Any]]:
    """Runs `streamflow <args>`, logs its stderr, and returns (exit status, the JSON object of
    its last stdout line). Raises StreamflowError for an exit status not in `ok_codes`."""
    binary = os.environ.get("STREAMFLOW_BIN", "streamflow")
    cmd = [binary, *args]
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    for line in proc.stderr.splitlines():
        log.info("%s", line)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    try:
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        result = {"output": lines[-1]}
    if proc.returncode not in ok_codes:
        tail = "\n".join(proc.stderr.splitlines()[-10:])
        raise StreamflowError(f"`streamflow {args[0]}` exited with status {proc.returncode}:\n{tail}")
    return proc.returncode, result
