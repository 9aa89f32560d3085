"""Trigger latency: from a lakeFS commit to a queued DAG run, and to the output commit.

Run: ``python benchmarks/trigger_latency.py [--commits N]`` (default 20). Starts the
embedded lakeFS-compatible server and a real Airflow deployment (api-server, scheduler,
dag-processor, triggerer, LocalExecutor) on 127.0.0.1 with the ml demo's DAGs, as the
component tests do, ingests the demo data and lets both pipelines catch up. Then, N times:
commit one new attributes file and measure

* ``commit_to_queued``: from the commit call returning to the ``inference`` DAG run existing
  (queued or later), through the asset watcher's poll, the triggerer and the scheduler;
* ``commit_to_output``: to the ``inference`` output commit on main that reads that commit
  (one datum processed, the others skipped).

Prints one JSON object per line and figure, p50 and p90 of each, with the baseline of
lakeFS's own Airflow sensor (its default poke interval of 60 s: a new commit is seen after
30 s on average and up to 60 s) and the ratio. Then where the seconds of a small job go
(medians): watcher+scheduler until queued, queued until the plan task starts, each task's
run time and the gaps between tasks. Needs Docker and the demo images.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "airflow"))

from airflow_stack import AirflowStack
from dag_files import ML_DAG_IDS, write_dag_files
from demo_data import ingest_demo, to_csv
from runs import dag_runs, q, settle, wait_for_parsed_dags, wait_ml_caught_up

from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

LAKEFS_SENSOR_POKE_S = 60.0  # airflow-provider-lakefs's CommitSensor default poke_interval
TASKS = ("plan", "process", "commit", "publish")


def emit(metric: str, value: float, target: str, baseline: float | None = None,
         unit: str = "s") -> None:
    print(json.dumps({
        "benchmark": "trigger_latency",
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        "baseline": baseline,
        "ratio": round(value / baseline, 4) if baseline else None,
        "target": target,
    }), flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def ts(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else float("nan")


def breakdown(stack: AirflowStack, run: dict[str, Any], committed_at: float) -> dict[str, float]:
    """Seconds spent in each phase of one run (wall-clock epoch times from Airflow)."""
    path = f"/api/v2/dags/inference/dagRuns/{q(run['dag_run_id'])}/taskInstances"
    tis = stack.api("GET", path, query={"limit": "100"})["task_instances"]
    by_task: dict[str, list[dict[str, Any]]] = {}
    for ti in tis:
        by_task.setdefault(ti["task_id"], []).append(ti)
    start = {t: min(ts(ti["start_date"]) for ti in by_task[t]) for t in TASKS}
    end = {t: max(ts(ti["end_date"]) for ti in by_task[t]) for t in TASKS}
    queued = ts(run.get("queued_at"))
    phases = {"commit_to_run_queued": queued - committed_at,
              "queued_to_plan_start": start["plan"] - queued}
    previous = None
    for task in TASKS:
        if previous is not None:
            phases[f"gap_{previous}_to_{task}"] = start[task] - end[previous]
        phases[f"task_{task}"] = end[task] - start[task]
        previous = task
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="trigger-latency-"))
    with LakeFSServerProcess(data_dir=work / "lakefs") as server:
        (work / "specs").mkdir()
        files = write_dag_files(work / "airflow" / "dags", work / "specs")
        files.broken.unlink()  # only the ml demo's DAGs
        files.sensors.unlink()
        connection = {"conn_type": "lakefs", "host": server.endpoint,
                      "login": server.access_key_id, "password": server.secret_access_key}
        stack = AirflowStack(work / "airflow", extra_env={
            "AIRFLOW_CONN_LAKEFS_DEFAULT": json.dumps(connection),
        })
        client = LakeFSClient(LakeFSConfig(server.endpoint, server.access_key_id,
                                           server.secret_access_key))
        stack.migrate()
        try:
            stack.start()
            stack.wait_healthy(time.monotonic() + 180)
            wait_for_parsed_dags(stack, ML_DAG_IDS, time.monotonic() + 120)
            demo = ingest_demo(client)
            for dag_id in ML_DAG_IDS:
                stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
            wait_ml_caught_up(stack, client, time.monotonic() + 600)
            settle(stack, ML_DAG_IDS, time.monotonic() + 600)
            rows = next(iter(demo.attributes.values()))
            queued_s: list[float] = []
            output_s: list[float] = []
            phases: dict[str, list[float]] = {}
            for n in range(args.commits):
                before = {run["dag_run_id"] for run in dag_runs(stack, "inference")}
                client.upload("attributes", "main", f"latency-{n:03d}.csv", to_csv(rows))
                commit = client.commit("attributes", "main", f"latency probe {n}").id
                committed_at = time.time()
                t0 = time.monotonic()
                run = None
                while run is None:
                    new = [r for r in dag_runs(stack, "inference") if r["dag_run_id"] not in before]
                    run = new[0] if new else None
                    if run is None:
                        if time.monotonic() - t0 > 120:
                            raise TimeoutError(f"no inference run for commit {commit}")
                        time.sleep(0.05)
                queued_s.append(time.monotonic() - t0)
                while (client.get_commit("inference", "main").metadata
                       .get("pachyderm.input.attributes") != f"attributes@{commit}"):
                    if time.monotonic() - t0 > 300:
                        raise TimeoutError(f"no inference output for commit {commit}")
                    time.sleep(0.05)
                output_s.append(time.monotonic() - t0)
                runs = settle(stack, ML_DAG_IDS, time.monotonic() + 300, quiet=2.0)
                (finished,) = [r for r in runs["inference"] if r["dag_run_id"] == run["dag_run_id"]]
                for name, seconds in breakdown(stack, finished, committed_at).items():
                    phases.setdefault(name, []).append(seconds)
        finally:
            stack.stop()
            client.close()

    emit("commit_to_queued_p50_s", percentile(queued_s, 50), "<= 1 s", LAKEFS_SENSOR_POKE_S)
    emit("commit_to_queued_p90_s", percentile(queued_s, 90), "<= 2 s", LAKEFS_SENSOR_POKE_S)
    emit("commit_to_output_p50_s", percentile(output_s, 50), "<= 6 s", LAKEFS_SENSOR_POKE_S)
    emit("commit_to_output_p90_s", percentile(output_s, 90), "report", LAKEFS_SENSOR_POKE_S)
    for name, values in phases.items():
        emit(f"breakdown_{name}_p50_s", statistics.median(values), "report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
