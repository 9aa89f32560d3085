"""Scale-out on Celery workers: the same job on one worker, then on two.

Run: ``python benchmarks/scale_out.py [--datums 400] [--seconds 0.5] [--batches 4]``.
Starts the embedded lakeFS-compatible server and the CeleryExecutor deployment of the tests
(redis, PostgreSQL, Airflow's components, Celery workers a and b, one task at a time each;
see tests/airflow/celery_stack.py). A pipeline sleeps a fixed time per datum (sleep-bound, so
two workers overlap even on two cores) and copies the datum's file; its datums are split into
``--batches`` batches. The job runs once with worker b stopped (one worker) and once, on a
fresh input repository of the same files, with both workers:

* ``celery_2_workers_speedup``: job time on one worker / job time on two (target >= 1.7);
  job time is the DAG run's start to end as Airflow records it (plan, every batch, commit).

The one-worker job time is also printed (``celery_1_worker_job``, the baseline), as JSON
lines like the other benchmarks. Needs Docker and airflow-pachyderm/python:latest.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "airflow"))

from celery_specs import sleep_pipeline
from celery_stack import CeleryStack, celery_stack
from dag_files import write_pipelines_dag
from runs import TERMINAL_STATES, dag_runs, q, wait_for_parsed_dags

from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

TARGET = 1.7
PIPELINES = {1: "scale-one", 2: "scale-two"}


def emit(metric: str, value: float, unit: str, target: str | None,
         baseline: float | None = None, ratio: float | None = None) -> None:
    print(json.dumps({
        "benchmark": "scale_out", "metric": metric, "value": round(value, 3), "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": None if ratio is None else round(ratio, 3), "target": target,
    }), flush=True)


def ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def run_job(stack: CeleryStack, client: LakeFSClient, name: str, datums: int,
            timeout: float) -> tuple[float, dict[str, int]]:
    """Commit ``datums`` files to the pipeline's input, unpause it, wait for its run; the
    run's seconds (Airflow's start to end) and how many batches each worker ran."""
    repo = f"{name}-input"
    client.create_repository(repo)
    for n in range(datums):
        client.upload(repo, "main", f"datum-{n:05d}.txt", f"datum {n}\n".encode())
    client.commit(repo, "main", f"{datums} datums")
    deadline = time.monotonic() + timeout
    stack.api("PATCH", f"/api/v2/dags/{name}", {"is_paused": False})
    try:
        def finished() -> dict[str, Any] | None:
            runs = [r for r in dag_runs(stack, name) if r["state"] in TERMINAL_STATES]
            return runs[0] if runs else None

        run = stack.wait_for(f"the {name} run", finished, deadline, interval=2.0)
    finally:
        stack.api("PATCH", f"/api/v2/dags/{name}", {"is_paused": True})
    if run["state"] != "success":
        raise SystemExit(f"{name} run failed:\n{stack.task_logs(name, run['dag_run_id'])}")
    base = f"/api/v2/dags/{q(name)}/dagRuns/{q(run['dag_run_id'])}/taskInstances"
    tis = stack.api("GET", f"{base}/process/listMapped", query={"limit": "1000"})
    workers: dict[str, int] = {}
    for ti in tis["task_instances"]:
        workers[ti["hostname"]] = workers.get(ti["hostname"], 0) + 1
    return ts(run["end_date"]) - ts(run["start_date"]), workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datums", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=0.5, help="sleep per datum")
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    timeout = 120 + 3 * args.datums * args.seconds
    with tempfile.TemporaryDirectory(prefix="scale-out-") as tmp:
        root = Path(tmp)
        specs = root / "specs.yaml"
        specs.write_text("---\n".join(
            sleep_pipeline(name, args.seconds, args.batches, -(-args.datums // args.batches))
            for name in PIPELINES.values()
        ))
        home = root / "airflow"
        write_pipelines_dag(home / "dags", "scale_out", "the scale-out benchmark", specs)
        with LakeFSServerProcess(data_dir=root / "lakefs") as server:
            connection = {"conn_type": "lakefs", "host": server.endpoint,
                          "login": server.access_key_id, "password": server.secret_access_key}
            client = LakeFSClient(LakeFSConfig(
                server.endpoint, server.access_key_id, server.secret_access_key))
            with celery_stack(
                home, extra_env={"AIRFLOW_CONN_LAKEFS_DEFAULT": json.dumps(connection)}
            ) as stack:
                wait_for_parsed_dags(stack, tuple(PIPELINES.values()), time.monotonic() + 120)
                stack.stop(components=[stack.worker("b").component])
                one, by_one = run_job(stack, client, PIPELINES[1], args.datums, timeout)
                stack.restart_worker("b", time.monotonic() + 120)
                two, by_two = run_job(stack, client, PIPELINES[2], args.datums, timeout)
            client.close()
    print(f"# batches per worker: one worker {by_one}, two workers {by_two}", file=sys.stderr)
    emit("celery_1_worker_job", one, "s", None)
    emit("celery_2_workers_job", two, "s", None)
    emit("celery_2_workers_speedup", one / two, "x", f">= {TARGET}", baseline=one,
         ratio=one / two)
    return 0


if __name__ == "__main__":
    sys.exit(main())
