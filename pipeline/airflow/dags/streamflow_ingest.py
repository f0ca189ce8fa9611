"""streamflow_ingest: fetches users from the randomuser-compatible API into PostgreSQL staging.

Continuous (a new run as soon as the last one ends, never two at once). Each run is one
`streamflow ingest`: its JSON summary becomes the task's XCom. The API being down fails the
task after the binary's own retries; Airflow then retries it with a growing delay.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

import streamflow_cli as cli


@dag(
    dag_id="streamflow_ingest",
    schedule="@continuous",
    **cli.DAG_DEFAULTS,
    doc_md=__doc__,
    params={
        "count": Param(5000, type="integer", minimum=1, description="users per run"),
        "batch_size": Param(
            int(cli.setting("ingest.batch_size", "5000")),
            type="integer",
            minimum=1,
            maximum=5000,
            description="records per API request (setting ingest.batch_size)",
        ),
        "nat": Param(
            cli.setting("ingest.nat", ""),
            type="string",
            description="nationalities, comma-separated, empty for all (setting ingest.nat)",
        ),
        "max_retries": Param(
            int(cli.setting("ingest.max_retries", "6")),
            type="integer",
            minimum=0,
            description="retries of one API request before the run fails (setting ingest.max_retries)",
        ),
        "url": Param(
            cli.setting("ingest.url", ""),
            type="string",
            description="API URL, empty for the local mock API (setting ingest.url)",
        ),
    },
)
def streamflow_ingest() -> None:
    @task(
        retries=3,
        retry_delay=timedelta(seconds=int(cli.setting("airflow.ingest_retry_delay_s", "5"))),
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(minutes=2),
        execution_timeout=timedelta(minutes=30),
    )
    def ingest() -> dict[str, Any]:
        p = get_current_context()["params"]
        args = [
            "ingest",
            "--quiet",
            "--count",
            str(p["count"]),
            "--batch-size",
            str(p["batch_size"]),
            "--max-retries",
            str(p["max_retries"]),
        ]
        if p["nat"]:
            args += ["--nat", p["nat"]]
        if p["url"]:
            args += ["--url", p["url"]]
        _, summary = cli.run(args)
        return summary

    ingest()


streamflow_ingest()
