"""streamflow_housekeeping: keeps the local pipeline's disk use bounded.

Daily. Purges staging rows that Cassandra already holds and that are older than the retention
(Cassandra keeps them; reconcile still accounts for them) and rejected records older than theirs,
then vacuums the staging tables; independently prunes Airflow logs and Spark checkpoint files
older than the log retention.
Each step's JSON report is its task's XCom.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

import streamflow_cli as cli


def _housekeeping(step: str) -> dict[str, Any]:
    p = get_current_context()["params"]
    _, report = cli.run(
        [
            "housekeeping",
            "--only",
            step,
            "--staging-retention-h",
            str(p["staging_retention_h"]),
            "--log-retention-h",
            str(p["log_retention_h"]),
            "--reject-retention-days",
            str(p["reject_retention_days"]),
        ]
    )
    return report


@dag(
    dag_id="streamflow_housekeeping",
    schedule="@daily",
    **cli.DAG_DEFAULTS,
    doc_md=__doc__,
    params={
        "staging_retention_h": Param(
            int(cli.setting("housekeeping.staging_retention_h", "168")),
            type="integer",
            minimum=0,
            description="purge staging rows older than this many hours (setting housekeeping.staging_retention_h)",
        ),
        "reject_retention_days": Param(
            int(cli.setting("housekeeping.reject_retention_days", "30")),
            type="integer",
            minimum=0,
            description="delete rejected records older than this many days (setting housekeeping.reject_retention_days)",
        ),
        "log_retention_h": Param(
            int(cli.setting("housekeeping.log_retention_h", "336")),
            type="integer",
            minimum=0,
            description="prune logs and checkpoint files older than this (setting housekeeping.log_retention_h)",
        ),
    },
)
def streamflow_housekeeping() -> None:
    @task(retries=2, retry_delay=timedelta(minutes=1))
    def purge_staging() -> dict[str, Any]:
        return _housekeeping("purge")

    @task(retries=2, retry_delay=timedelta(minutes=1))
    def purge_rejects() -> dict[str, Any]:
        return _housekeeping("rejects")

    @task(retries=2, retry_delay=timedelta(minutes=1))
    def vacuum() -> dict[str, Any]:
        return _housekeeping("vacuum")

    @task(retries=2, retry_delay=timedelta(minutes=1))
    def prune_files() -> dict[str, Any]:
        return _housekeeping("prune")

    [purge_staging(), purge_rejects()] >> vacuum()
    prune_files()


streamflow_housekeeping()
