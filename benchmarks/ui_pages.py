"""UI plugin pages with 1,000 commits in the repository: server-side time per page.

Run: ``python benchmarks/ui_pages.py [--commits N] [--samples S]`` (defaults 1000, 30).
Starts the embedded lakeFS-compatible server, runs the ml demo once with
``airflow-pachyderm run`` (real Docker jobs: real provenance and datum manifests), then
grows the ``inference`` repository to N commits (each adds one file and carries the
provenance of the real job). Starts Airflow's api-server and dag-processor with the plugin
and measures, as the admin user:

* ``commits_page``: the first page of ``inference@main``'s commits (50 rows, provenance
  of each); ``commits_page_last``: its oldest page (the deepest pagination offset);
* ``file_lineage``: the lineage page of one prediction file of the head commit (its datum
  and input files from the manifest, the walk up to the training data, the SVG).

Server-side time is the plugin's own ``Server-Timing`` header (after Airflow's
authentication middleware, before the network); the round trip is printed too. Baselines
measured in the same run: a raw lakeFS log call of one page (50 commits) for the commits
pages, and the same lineage walk called in-process (``jobs.lineage.upstream``, no HTTP, no
auth, no HTML) for the lineage page. One JSON object per line and figure; target p50 <= 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "airflow"))

from airflow_stack import AirflowStack
from dag_files import ML_DAG_IDS, ML_DEMO, write_dag_files
from demo_data import ingest_demo
from runs import wait_for_parsed_dags

from airflow_pachyderm.jobs.lineage import upstream
from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

TARGET = "p50 <= 200 ms"


def emit(metric: str, value: float, baseline: float | None, unit: str = "ms",
         target: str = TARGET) -> None:
    print(json.dumps({
        "benchmark": "ui_pages", "metric": metric, "value": round(value, 2), "unit": unit,
        "baseline": None if baseline is None else round(baseline, 2),
        "ratio": round(value / baseline, 3) if baseline else None, "target": target,
    }), flush=True)


def timed(fn: Callable[[], object], samples: int) -> list[float]:
    fn()  # warm caches and connections once
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def get(stack: AirflowStack, path: str) -> tuple[float, float]:
    """(server-side ms from Server-Timing, round-trip ms) of one authenticated GET."""
    request = urllib.request.Request(stack.base_url + path)
    request.add_header("Authorization", f"Bearer {stack.access_token()}")
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        timing = response.headers.get("Server-Timing", "")
    total = (time.perf_counter() - start) * 1e3
    return float(timing.split("dur=")[1]), total


def page_figures(stack: AirflowStack, path: str, samples: int) -> tuple[float, float]:
    get(stack, path)
    pairs = [get(stack, path) for _ in range(samples)]
    return (statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs))


def grow(client: LakeFSClient, commits: int) -> None:
    """Commits on inference@main up to ``commits``, each with the real job's provenance."""
    head = client.get_commit("inference", "main")
    existing = sum(1 for _ in client.log_commits("inference", "main"))
    metadata = dict(head.metadata or {})
    for n in range(existing, commits):
        client.upload("inference", "main", f"history/{n:05d}.txt", f"{n}\n".encode())
        client.commit("inference", "main", f"history {n}",
                      metadata={**metadata, "pachyderm.job": f"{n:064x}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ui-pages-") as tmp, \
            LakeFSServerProcess(data_dir=Path(tmp) / "lakefs") as server:
        client = LakeFSClient(LakeFSConfig(server.endpoint, server.access_key_id,
                                           server.secret_access_key))
        ingest_demo(client)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
        env |= {**server.env(), "AIRFLOW_PACHYDERM_RUN_HOME": str(Path(tmp) / "run")}
        subprocess.run([sys.executable, "-m", "airflow_pachyderm", "run",
                        str(ML_DEMO / "pipelines.yaml")], env=env, check=True,
                       capture_output=True, timeout=900)
        grow(client, args.commits)
        predictions = next(o.path for o in client.list_objects("inference", "main")
                           if o.path.endswith(".csv"))
        (Path(tmp) / "specs").mkdir()
        files = write_dag_files(Path(tmp) / "home" / "dags", Path(tmp) / "specs")
        connection = {"conn_type": "lakefs", "host": server.endpoint,
                      "login": server.access_key_id, "password": server.secret_access_key}
        stack = AirflowStack(files.valid.parent.parent,
                             extra_env={"AIRFLOW_CONN_LAKEFS_DEFAULT": json.dumps(connection)})
        stack.migrate()
        try:
            stack.start(["api-server", "dag-processor"])
            stack.wait_healthy(time.monotonic() + 120)
            wait_for_parsed_dags(stack, ML_DAG_IDS, time.monotonic() + 120)
            log_ms = statistics.median(timed(
                lambda: client.log_page("inference", "main", amount=50), args.samples))
            emit("lakefs_log_page_p50", log_ms, None, target="baseline")
            server_ms, round_ms = page_figures(
                stack, "/pachyderm/repos/inference/commits?ref=main", args.samples)
            emit("commits_page_p50", server_ms, log_ms)
            emit("commits_page_round_trip_p50", round_ms, log_ms, target="informative")
            oldest = list(client.log_commits("inference", "main"))[-25].id
            server_ms, round_ms = page_figures(
                stack, f"/pachyderm/repos/inference/commits?ref=main&after={oldest}",
                args.samples)
            emit("commits_page_last_p50", server_ms, log_ms)
            walk_ms = statistics.median(timed(
                lambda: upstream(client, "inference", "main", path=predictions), args.samples))
            emit("lineage_walk_in_process_p50", walk_ms, None, target="baseline")
            server_ms, round_ms = page_figures(
                stack, f"/pachyderm/lineage/inference/main?path={predictions}", args.samples)
            emit("file_lineage_p50", server_ms, walk_ms)
            emit("file_lineage_round_trip_p50", round_ms, walk_ms, target="informative")
        finally:
            stack.stop()
            client.close()


if __name__ == "__main__":
    main()
