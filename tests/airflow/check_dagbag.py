"""Loads the DAG folder the way Airflow's dag-processor does, with every subprocess and network
connection forbidden, and prints one JSON line: {"dag_ids", "import_errors", "seconds",
"tasks"}. A DAG file that does work at import time (runs a command, opens a connection) shows
up as an import error. Run with Airflow's venv Python; needs no stack.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn


class HeavyImport(RuntimeError):
    pass


def forbid(what: str) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise HeavyImport(f"{what} at DAG import time")

    return refuse


def main() -> int:
    dags_dir = sys.argv[1]
    from airflow.dag_processing.dagbag import DagBag  # Airflow itself may use sockets on import

    subprocess.Popen.__init__ = forbid("a subprocess")  # type: ignore[method-assign]
    socket.socket.connect = forbid("a network connection")  # type: ignore[method-assign]
    t0 = time.monotonic()
    bag = DagBag(dag_folder=dags_dir)
    seconds = time.monotonic() - t0
    print(
        json.dumps(
            {
                "dag_ids": sorted(bag.dag_ids),
                "import_errors": {k: v for k, v in bag.import_errors.items()},
                "seconds": seconds,
                "tasks": {d: sorted(t.task_id for t in bag.dags[d].tasks) for d in bag.dag_ids},
                "schedules": {d: str(bag.dags[d].schedule) for d in bag.dag_ids},
                "max_active_runs": {d: bag.dags[d].max_active_runs for d in bag.dag_ids},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
