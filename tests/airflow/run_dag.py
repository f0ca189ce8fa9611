"""Runs one DAG with dag.test() in Airflow's venv and prints what happened as one JSON line.

Run through `streamflow airflow --python tests/airflow/run_dag.py <dag_id> [conf-json]`, so
that it uses the stack's Airflow metadata database and settings. Output: {"dag_id", "state",
"tasks": {task_id: {"state", "tries", "xcom"}}}.
"""

from __future__ import annotations

import json
import sys
import traceback

from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session


def main() -> int:
    dag_id = sys.argv[1]
    conf = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    bag = DagBag()
    dag = bag.get_dag(dag_id)
    if dag is None:
        print(json.dumps({"dag_id": dag_id, "state": "not_found", "import_errors": bag.import_errors}))
        return 2
    run = dag.test(run_conf=conf)
    tasks = {}
    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id).all()
        for ti in tis:
            xcom = (
                session.query(XComModel)
                .filter(
                    XComModel.dag_id == dag_id,
                    XComModel.run_id == run.run_id,
                    XComModel.task_id == ti.task_id,
                    XComModel.key == "return_value",
                )
                .first()
            )
            tasks[ti.task_id] = {"state": str(ti.state), "tries": ti.try_number, "xcom": xcom.value if xcom else None}
    print(json.dumps({"dag_id": dag_id, "run_id": run.run_id, "state": str(run.state), "tasks": tasks}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # the harness reads stdout: say what broke there too
        print(json.dumps({"state": "harness_error", "error": traceback.format_exc()}))
        sys.exit(3)
