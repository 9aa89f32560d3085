"""`airflow-pachyderm run` on the ml example exactly as shipped (dags_examples/ml): real Airflow
(dag.test), real Docker containers, the embedded lakeFS server. One of the core tests that
`make test` also runs on the oldest supported Airflow.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dag_files import ML_DEMO
from demo_data import FEATURES, ingest_demo

from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.server.process import LakeFSServerProcess

RUN_TIMEOUT = 600


@pytest.mark.slow
@pytest.mark.docker
def test_run_trains_the_model_then_infers_with_it(docker_api: Any, tmp_path: Path) -> None:
    # A server of its own: the session's deployment fixtures use the demo's repo names too.
    with LakeFSServerProcess(data_dir=tmp_path / "lakefs") as server:
        client = LakeFSClient(
            LakeFSConfig(server.endpoint, server.access_key_id, server.secret_access_key)
        )
        try:
            _run_and_check(server, client, tmp_path)
        finally:
            client.close()


def _run_and_check(server: LakeFSServerProcess, lakefs: LakeFSClient, tmp_path: Path) -> None:
    demo = ingest_demo(lakefs)
    env = {**os.environ, **server.env(),
           "AIRFLOW_PACHYDERM_RUN_HOME": str(tmp_path / "airflow")}
    # The command prepares its own Airflow home; the test session's settings must not leak.
    for key in [k for k in env if k.startswith("AIRFLOW__") or k == "AIRFLOW_HOME"]:
        del env[key]
    result = subprocess.run(
        [sys.executable, "-m", "airflow_pachyderm", "run", str(ML_DEMO / "pipelines.yaml")],
        env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    model_commit = lakefs.resolve_ref("model", "main")
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[0] for line in lines] == ["model", "inference"]
    assert lines[0][1] == f"model@{model_commit}"
    assert lakefs.exists("model", model_commit, "model.pkl")

    meta = lakefs.get_commit("inference", "main").metadata
    assert meta["pachyderm.input.model"] == f"model@{model_commit}"
    assert meta["pachyderm.input.attributes"] == f"attributes@{demo.commits['attributes']}"
    assert meta["pachyderm.datums.processed"] == str(len(demo.attributes))
    species = set(demo.species_of.values())
    for path, rows in demo.attributes.items():
        text = lakefs.read_bytes("inference", "main", path).decode()
        predictions = list(csv.DictReader(io.StringIO(text)))
        assert [{name: row[name] for name in FEATURES} for row in predictions] == rows, path
        assert {row["predicted_species"] for row in predictions} <= species, path
