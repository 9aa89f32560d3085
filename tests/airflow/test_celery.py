"""The provider on the CeleryExecutor: redis broker, PostgreSQL metadata database and result
backend, two Celery workers with scratch and cache directories of their own (see
``celery_stack``), real Docker, the embedded lakeFS server.

1. The ml demo runs through it with its batches on both workers, and its output commits
   equal, file for file and in provenance, those of ``airflow-pachyderm run`` on the same
   input commits (in-process runs, the LocalExecutor's way of running tasks).
2. A worker killed mid-batch: the batch runs again on the other worker, the job commits once.

The tests share one deployment and run in this order.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from celery_specs import NAP_SECONDS, NAPS_DAG_ID, NAPS_FILES, NAPS_INPUT
from celery_stack import CeleryStack
from dag_files import ML_DAG_IDS, ML_DEMO
from demo_data import ingest_demo
from runs import (
    PIPELINES_TIMEOUT,
    TERMINAL_STATES,
    dag_runs,
    q,
    settle,
    wait_for_parsed_dags,
    wait_ml_caught_up,
)

from airflow_pachyderm.datums.manifest import MANIFEST_PATH, ManifestEntry, iter_manifest
from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.jobs.provenance import KEY_JOB
from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

BASELINE_BRANCH = "local"
RUN_TIMEOUT = 600
# Commit metadata that names the run rather than what was computed: job and plan ids, run
# id and link, the branch and the commit the job built on (on main, earlier no-op runs of
# the deployment came first); and lakeFS's own merge bookkeeping (a job on main merges its
# staging branch; a new side branch is created at the job's commit instead).
RUN_SPECIFIC_METADATA = (
    "pachyderm.job", "pachyderm.plan", "pachyderm.airflow", "pachyderm.output_branch",
    "pachyderm.base_commit", "airflow.run_id", "::lakefs::Airflow::url", ".lakefs.merge.",
)
KILL_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def lakefs(celery_lakefs: LakeFSServerProcess) -> Any:
    client = LakeFSClient(
        LakeFSConfig(
            celery_lakefs.endpoint, celery_lakefs.access_key_id, celery_lakefs.secret_access_key
        )
    )
    yield client
    client.close()


def process_tries(stack: CeleryStack, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """Every try of every mapped process task of a run (map index, try, state, hostname)."""
    base = f"/api/v2/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/process"
    tis = stack.api("GET", base + "/listMapped", query={"limit": "1000"})["task_instances"]
    tries = []
    for ti in tis:
        answer = stack.api("GET", f"{base}/{ti['map_index']}/tries")
        tries += answer["task_instances"]
    return sorted(tries, key=lambda t: (t["map_index"], t["try_number"]))


def file_hashes(client: LakeFSClient, repo: str, ref: str) -> dict[str, str]:
    return {
        obj.path: hashlib.sha256(client.read_bytes(repo, ref, obj.path)).hexdigest()
        for obj in client.list_objects(repo, ref)
    }


def provenance(client: LakeFSClient, repo: str, ref: str) -> dict[str, str]:
    """Commit metadata without what names the run, the history or how inputs were chosen
    (``pachyderm.input.<name>.branch`` for a branch head, ``.ref`` for a pinned ref: the
    input commit ids themselves are compared)."""
    metadata = client.get_commit(repo, ref).metadata
    return {
        key: value for key, value in metadata.items()
        if not key.startswith(RUN_SPECIFIC_METADATA)
        and not (key.startswith("pachyderm.input.") and key.endswith((".branch", ".ref")))
    }


def replace_all(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def manifest(
    client: LakeFSClient, repo: str, ref: str, commits: dict[str, str] | None = None
) -> list[ManifestEntry]:
    """An output commit's datum manifest, input commit ids mapped through ``commits``."""
    data = io.BytesIO(client.read_bytes(repo, ref, MANIFEST_PATH))
    return sorted(
        entry._replace(inputs=tuple(
            item._replace(commit=(commits or {}).get(item.commit, item.commit))
            for item in entry.inputs
        ))
        for entry in iter_manifest(data)
    )


def run_baseline(server: LakeFSServerProcess, home: Path, *args: str) -> None:
    """``airflow-pachyderm run`` of the ml demo (dag.test: tasks in-process, SQLite)."""
    env = {**os.environ, **server.env(), "AIRFLOW_PACHYDERM_RUN_HOME": str(home)}
    for key in [k for k in env if k.startswith("AIRFLOW__") or k == "AIRFLOW_HOME"]:
        del env[key]
    result = subprocess.run(
        [sys.executable, "-m", "airflow_pachyderm", "run", str(ML_DEMO / "pipelines.yaml"),
         "--output-branch", BASELINE_BRANCH, *args],
        env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


# -- 1. the ml demo on two workers ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.docker
def test_ml_demo_spreads_over_both_workers_and_equals_a_local_run(
    celery_deployment: CeleryStack,
    celery_lakefs: LakeFSServerProcess,
    lakefs: LakeFSClient,
    tmp_path: Path,
) -> None:
    stack = celery_deployment
    ingest_demo(lakefs)
    # The baseline first, to a side branch: the Celery run then computes everything again
    # on main rather than finding it done.
    # One command: model into the side branch, then inference reading the model there.
    run_baseline(celery_lakefs, tmp_path / "local", "--input", f"model={BASELINE_BRANCH}")

    deadline = time.monotonic() + PIPELINES_TIMEOUT
    wait_for_parsed_dags(stack, ML_DAG_IDS, deadline)
    for dag_id in ML_DAG_IDS:
        stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    try:
        wait_ml_caught_up(stack, lakefs, deadline)
        runs = settle(stack, ML_DAG_IDS, deadline)
    finally:
        for dag_id in ML_DAG_IDS:
            stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})

    ran_by: dict[str, list[str]] = {}
    for dag_id in ML_DAG_IDS:
        for run in runs[dag_id]:
            assert run["state"] == "success", stack.task_logs(dag_id, run["dag_run_id"])
            for ti in process_tries(stack, dag_id, run["dag_run_id"]):
                if ti["state"] != "success":
                    continue
                where = f"{dag_id} run {run['dag_run_id']} batch {ti['map_index']}"
                print(f"{where}: worker {ti['hostname']}, queue {ti['queue']}")
                ran_by.setdefault(ti["hostname"], []).append(where)
    assert set(ran_by) == {"a", "b"}, f"batches by worker: {ran_by}"

    # The inference commits read different model commits (each run's own, equal in
    # content): the local run's model commit id is mapped to the Celery run's.
    same_model = {
        lakefs.resolve_ref("model", BASELINE_BRANCH): lakefs.resolve_ref("model", "main")
    }
    for repo in ML_DAG_IDS:
        celery_files = file_hashes(lakefs, repo, "main")
        local_files = file_hashes(lakefs, repo, BASELINE_BRANCH)
        assert len(celery_files) > 1, f"{repo}@main holds no outputs: {celery_files}"
        # The manifest names input commits: compared entry by entry below.
        assert celery_files.keys() == local_files.keys(), repo
        for path, digest in celery_files.items():
            assert path == MANIFEST_PATH or digest == local_files[path], f"{repo}: {path}"
        assert manifest(lakefs, repo, "main") == manifest(
            lakefs, repo, BASELINE_BRANCH, same_model
        ), repo
        local = {
            key: replace_all(value, same_model)
            for key, value in provenance(lakefs, repo, BASELINE_BRANCH).items()
        }
        assert provenance(lakefs, repo, "main") == local, repo


# -- 2. a worker dies mid-batch ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.docker
def test_batch_of_a_killed_worker_reruns_on_the_other_and_commits_once(
    celery_deployment: CeleryStack, lakefs: LakeFSClient
) -> None:
    stack = celery_deployment
    deadline = time.monotonic() + KILL_TIMEOUT
    lakefs.create_repository(NAPS_INPUT)
    for n in range(NAPS_FILES):
        lakefs.upload(NAPS_INPUT, "main", f"nap-{n}.txt", f"nap {n}\n".encode())
    lakefs.commit(NAPS_INPUT, "main", "things to sleep on")
    wait_for_parsed_dags(stack, (NAPS_DAG_ID,), deadline)
    stack.api("PATCH", f"/api/v2/dags/{NAPS_DAG_ID}", {"is_paused": False})
    killed = None
    try:
        run = stack.wait_for(
            f"a {NAPS_DAG_ID} run", lambda: dag_runs(stack, NAPS_DAG_ID), deadline
        )[0]
        run_id = run["dag_run_id"]

        def running_batch() -> dict[str, Any] | None:
            tries = process_tries(stack, NAPS_DAG_ID, run_id)
            return next(
                (t for t in tries if t["state"] == "running" and t["hostname"]), None
            )

        victim = stack.wait_for("a running batch", running_batch, deadline, interval=0.3)
        time.sleep(NAP_SECONDS / 2)  # mid-batch: its first datum is asleep in its container
        killed = victim["hostname"]
        pids = stack.kill_worker(killed)
        print(f"killed worker {killed} (pids {pids}) running batch {victim['map_index']}")

        def finished() -> dict[str, Any] | None:
            (now,) = [r for r in dag_runs(stack, NAPS_DAG_ID) if r["dag_run_id"] == run_id]
            return now if now["state"] in TERMINAL_STATES else None

        final = stack.wait_for(f"{NAPS_DAG_ID} run {run_id} to finish", finished, deadline)
        assert final["state"] == "success", stack.task_logs(NAPS_DAG_ID, run_id)
    finally:
        stack.api("PATCH", f"/api/v2/dags/{NAPS_DAG_ID}", {"is_paused": True})
        if killed is not None:
            stack.restart_worker(killed, time.monotonic() + 120)

    tries = [t for t in process_tries(stack, NAPS_DAG_ID, run_id)
             if t["map_index"] == victim["map_index"]]
    for t in tries:
        print(f"batch {t['map_index']} try {t['try_number']}: {t['state']} on {t['hostname']}")
    first, last = tries[0], tries[-1]
    assert (first["try_number"], first["hostname"]) == (1, killed), tries
    assert (last["try_number"], last["state"]) == (2, "success"), tries
    assert last["hostname"] not in ("", None, killed), tries
    # One output commit of the job on main, holding every datum's output once. (First
    # parents only: the job's commit on its staging branch, merged by that one commit, is
    # reachable from main too and carries the job id as well.)
    job_id = job_id_for(NAPS_DAG_ID, run_id)
    job_commits = [
        commit.id for commit in lakefs.log_commits(NAPS_DAG_ID, "main", first_parent=True)
        if (commit.metadata or {}).get(KEY_JOB) == job_id
    ]
    assert len(job_commits) == 1, job_commits
    outputs = [p for p in file_hashes(lakefs, NAPS_DAG_ID, "main") if p != MANIFEST_PATH]
    assert sorted(outputs) == [f"nap-{n}.txt" for n in range(NAPS_FILES)]
