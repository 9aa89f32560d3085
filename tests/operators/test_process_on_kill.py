"""Killing a process task mid-batch leaves no container running (real lakeFS, real Docker)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.operators.process import ProcessBatchOperator
from airflow_pachyderm.runners.cache import ContentCache
from airflow_pachyderm.runners.docker import BATCH_LABEL

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "jobs"))
from jobkit import JobDriver, make_repo, per_file_spec, unique


@pytest.mark.docker
def test_on_kill_removes_the_running_batch_container(
    lakefs_server, docker_api, tmp_path, monkeypatch
) -> None:
    for key, value in lakefs_server.env().items():
        monkeypatch.setenv(key, value)  # the hook falls back to LAKECTL_* without a connection
    client = LakeFSClient(LakeFSConfig.from_env())
    data = make_repo(client, {"a.txt": b"a"}, "data")
    spec = per_file_spec("killed", data, ["sleep", "300"])
    driver = JobDriver(client, tmp_path / "work", ContentCache(tmp_path / "cache"))
    _, batches = driver.plan(spec, unique("run"))
    batch = batches[0]
    label = f"{BATCH_LABEL}={batch.job_id}/{batch.index}"

    op = ProcessBatchOperator(
        task_id="process", pipeline_spec=spec.to_dict(), batch=batch.to_xcom(),
        lakefs_conn_id="no_such_connection", workdir=str(tmp_path),
    )
    outcome: list[BaseException | dict] = []

    def run() -> None:
        try:
            outcome.append(op.execute({"params": {}}))
        except BaseException as exc:
            outcome.append(exc)

    task = threading.Thread(target=run, daemon=True)
    task.start()
    try:
        _kill_mid_batch(op, task, docker_api, label, outcome)
    finally:
        for container in docker_api.containers(all=True, filters={"label": label}):
            docker_api.remove_container(container["Id"], force=True)
        client.close()


def _kill_mid_batch(op, task, docker_api, label, outcome) -> None:
    deadline = time.monotonic() + 120
    while not docker_api.containers(filters={"label": label, "status": "running"}):
        assert task.is_alive(), f"the batch ended before it was killed: {outcome}"
        assert time.monotonic() < deadline, "the batch's container never started"
        time.sleep(0.2)

    op.on_kill()  # what Airflow's task runner calls when it kills the task

    assert docker_api.containers(all=True, filters={"label": label}) == []
    task.join(timeout=120)
    assert not task.is_alive(), "the task kept running after its container was removed"
    assert outcome and not isinstance(outcome[0], dict), outcome
