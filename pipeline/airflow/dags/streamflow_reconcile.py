"""streamflow_reconcile: proves that nothing was lost between PostgreSQL and Cassandra.

Hourly, and on demand. `streamflow reconcile` compares staging.users with Cassandra's users in
both directions and reports lag, rejects and dead letters; the report is the task's XCom. The
task fails, naming the users, when a staging user is still missing from Cassandra past the
freshness bound (or Cassandra holds a user staging never had).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

import streamflow_cli as cli


@dag(
    dag_id="streamflow_reconcile",
    schedule="@hourly",
    **cli.DAG_DEFAULTS,
    doc_md=__doc__,
    params={
        "freshness_s": Param(
            int(cli.setting("reconcile.freshness_s", "120")),
            type="integer",
            minimum=1,
            description="seconds a staging row may take to reach Cassandra (setting reconcile.freshness_s)",
        ),
    },
)
def streamflow_reconcile() -> None:
    @task(retries=0, execution_timeout=timedelta(minutes=30))
    def reconcile() -> dict[str, Any]:
        p = get_current_context()["params"]
        code, report = cli.run(["reconcile", "--freshness", str(p["freshness_s"])], ok_codes=(0, 1))
        if code == 1:
            raise cli.StreamflowError(
                f"reconcile failed: {report.get('missing', 0)} user(s) missing from Cassandra past "
                f"{p['freshness_s']} s: {', '.join(report.get('missing_ids', []))}; "
                f"{report.get('unexpected', 0)} unexpected in Cassandra: "
                f"{', '.join(report.get('unexpected_ids', []))}"
            )
        return report

    reconcile()


streamflow_reconcile()
