"""The provider inside a real Airflow 3 deployment: api-server, scheduler, dag-processor and
triggerer run as processes (see ``airflow_stack``), tasks run real containers, and the data
lives in a real lakeFS-compatible server.

1. The dag-processor turns the ml demo's spec into DAGs and reports a bad spec precisely.
2. A new commit on an input branch triggers the pipeline that reads it, and that pipeline's
   output commit triggers its downstream pipeline (the mission).
3. The connection form's Test button works for the ``lakefs`` connection type.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from airflow_stack import AirflowStack, ComponentError
from dag_files import ML_DAG_IDS, TYPO_KEY, DagFiles
from demo_data import FEATURES, ingest_demo
from docker.errors import DockerException

from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.lakefs import LakeFSClient
from airflow_pachyderm.runners.docker import cleanup_job_containers
from airflow_pachyderm.server.process import LakeFSServerProcess, free_port

PARSE_TIMEOUT = 90.0
PIPELINES_TIMEOUT = 240.0
TERMINAL_STATES = {"success", "failed"}


# -- helpers ---------------------------------------------------------------------------------


def q(value: str) -> str:
    """Quote one path segment (run ids hold ':' and '+')."""
    return urllib.parse.quote(value, safe="")


def wait_for_parsed_dags(stack: AirflowStack, dag_ids: tuple[str, ...], deadline: float) -> None:
    def parsed() -> bool:
        dags = stack.api("GET", "/api/v2/dags", query={"limit": "100"})["dags"]
        return set(dag_ids) <= {dag["dag_id"] for dag in dags}

    stack.wait_for(f"the dag-processor to parse DAGs {', '.join(dag_ids)}", parsed, deadline)


def asset_uris(expression: Any) -> set[str]:
    """Every asset URI in a DAG's serialized asset expression."""
    if isinstance(expression, dict):
        if "asset" in expression:
            return {expression["asset"]["uri"]}
        return set().union(*(asset_uris(value) for value in expression.values()))
    if isinstance(expression, list):
        return set().union(*(asset_uris(item) for item in expression))
    return set()


def asset_id(stack: AirflowStack, uri: str) -> int:
    # uri_pattern is a substring match: keep the exact URI only.
    assets = stack.api("GET", "/api/v2/assets", query={"uri_pattern": uri})["assets"]
    matches = [asset["id"] for asset in assets if asset["uri"] == uri]
    assert len(matches) == 1, f"expected one asset {uri}, found {assets}"
    return matches[0]


def dag_runs(stack: AirflowStack, dag_id: str) -> list[dict[str, Any]]:
    return stack.api("GET", f"/api/v2/dags/{q(dag_id)}/dagRuns", query={"limit": "100"})["dag_runs"]


def upstream_events(stack: AirflowStack, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    path = f"/api/v2/dags/{q(dag_id)}/dagRuns/{q(run_id)}/upstreamAssetEvents"
    return stack.api("GET", path)["asset_events"]


def wait_for_run_consuming(
    stack: AirflowStack,
    dag_id: str,
    what: str,
    is_trigger: Callable[[dict[str, Any]], bool],
    deadline: float,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The finished run of ``dag_id`` that an asset event matching ``is_trigger`` started,
    and that event."""

    def finished_run() -> tuple[dict[str, Any], dict[str, Any]] | None:
        for run in dag_runs(stack, dag_id):
            # Only finished runs: Airflow 3.3's event listings answer 500 while an event's
            # run has no start date yet.
            if run["state"] not in TERMINAL_STATES:
                continue
            for event in upstream_events(stack, dag_id, run["dag_run_id"]):
                if is_trigger(event):
                    return run, event
        return None

    run, event = stack.wait_for(
        f"a finished {dag_id} run triggered by {what}", finished_run, deadline
    )
    assert run["state"] == "success", (
        f"{dag_id} run {run['dag_run_id']} ended {run['state']}:\n"
        + stack.task_logs(dag_id, run["dag_run_id"])
    )
    return run, event


def commit_task_result(stack: AirflowStack, dag_id: str, run_id: str) -> str:
    """What the commit task returned: the output commit id."""
    path = (
        f"/api/v2/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances/commit"
        "/xcomEntries/return_value"
    )
    return stack.api("GET", path, query={"deserialize": "true"})["value"]


def remove_leftover_containers(stack: AirflowStack, docker_api: Any) -> None:
    """Containers of this deployment's jobs that a failed run may have left behind."""
    for dag_id in ML_DAG_IDS:
        for run in dag_runs(stack, dag_id):
            cleanup_job_containers(job_id_for(dag_id, run["dag_run_id"]), api=docker_api)


def read_csv(client: LakeFSClient, repo: str, ref: str, path: str) -> list[dict[str, str]]:
    text = client.read_bytes(repo, ref, path).decode()
    return list(csv.DictReader(io.StringIO(text)))


# -- 1. dag-processor ------------------------------------------------------------------------


@pytest.mark.slow
def test_dag_processor_builds_pipeline_dags_and_reports_spec_errors(
    airflow_stack: AirflowStack, dag_files: DagFiles
) -> None:
    deadline = time.monotonic() + PARSE_TIMEOUT
    wait_for_parsed_dags(airflow_stack, ML_DAG_IDS, deadline)
    airflow_stack.wait_for(
        "the dag-processor to record the import error of the broken DAG file",
        lambda: airflow_stack.api("GET", "/api/v2/importErrors")["import_errors"],
        deadline,
    )

    dags = {dag["dag_id"]: dag for dag in airflow_stack.cli_json("dags", "list")}
    assert set(dags) == set(ML_DAG_IDS), "only the valid file's pipelines become DAGs"
    for dag_id in ML_DAG_IDS:
        assert dags[dag_id]["fileloc"] == str(dag_files.valid)
        assert dags[dag_id]["owners"] == ["ml"]

    # The command exits 1 when there are import errors, as here.
    errors = airflow_stack.cli_json("dags", "list-import-errors", ok_codes=(1,))
    assert [error["filepath"] for error in errors] == [dag_files.broken.name]
    message = errors[0]["error"]
    typo = re.escape(f"{dag_files.broken_spec}:{dag_files.typo_line}:1: {TYPO_KEY}: ")
    assert re.search(rf"^{typo}.*did you mean 'transform'\?", message, re.MULTILINE), message

    details = airflow_stack.api("GET", "/api/v2/dags/inference/details")
    expression = details["asset_expression"]
    assert list(expression) == ["any"], f"any new input commit starts a run: {expression}"
    assert asset_uris(expression) == {
        "lakefs://attributes/main",
        "lakefs://model/main",
        "lakefs://code/main",
    }
    params = details["params"]
    assert set(params) == {"input_commits", "output_branch", "reprocess"}
    for name, param in params.items():
        assert param["description"], f"param {name} has no description"
    assert set(params["input_commits"]["schema"]["properties"]) == {"attributes", "model", "code"}
    assert params["input_commits"]["value"] == {}
    assert params["output_branch"]["value"] == "main"
    assert params["reprocess"]["value"] == "changed"

    model = airflow_stack.api("GET", "/api/v2/dags/model/details")
    assert asset_uris(model["asset_expression"]) == {
        "lakefs://training/main",
        "lakefs://code/main",
    }


# -- 2. asset-triggered pipelines ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.docker
def test_new_commit_triggers_pipeline_and_its_output_triggers_downstream(
    airflow_stack: AirflowStack, lakefs: LakeFSClient, docker_api: Any
) -> None:
    deadline = time.monotonic() + PIPELINES_TIMEOUT
    wait_for_parsed_dags(airflow_stack, ML_DAG_IDS, deadline)
    demo = ingest_demo(lakefs)
    for dag_id in ML_DAG_IDS:
        airflow_stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    try:
        # What a post-commit hook on training@main would send.
        event = airflow_stack.api(
            "POST",
            "/api/v2/assets/events",
            {
                "asset_id": asset_id(airflow_stack, "lakefs://training/main"),
                "extra": {"commit": demo.commits["training"]},
            },
        )

        model_run, _ = wait_for_run_consuming(
            airflow_stack,
            "model",
            f"asset event {event['id']}",
            lambda upstream: upstream["id"] == event["id"],
            deadline,
        )
        assert model_run["run_type"] == "asset_triggered"
        model_commit = commit_task_result(airflow_stack, "model", model_run["dag_run_id"])
        assert model_commit == lakefs.resolve_ref("model", "main")

        inference_run, model_event = wait_for_run_consuming(
            airflow_stack,
            "inference",
            "the model run's output event",
            lambda upstream: (
                upstream["source_dag_id"] == "model"
                and upstream["source_run_id"] == model_run["dag_run_id"]
            ),
            deadline,
        )
        assert model_event["source_task_id"] == "commit"
        assert model_event["uri"] == "lakefs://model/main"
        assert model_event["extra"]["commit"] == model_commit
        inference_commit = commit_task_result(
            airflow_stack, "inference", inference_run["dag_run_id"]
        )
    finally:
        # Best effort: when the test failed, its own error is the one to report.
        with contextlib.suppress(ComponentError, OSError, DockerException):
            remove_leftover_containers(airflow_stack, docker_api)

    # Provenance: each output commit names the exact commit of every input.
    model_meta = lakefs.get_commit("model", model_commit).metadata
    assert model_meta["pachyderm.input.training"] == f"training@{demo.commits['training']}"
    assert model_meta["pachyderm.input.code"] == f"code@{demo.commits['code']}"
    assert model_meta["airflow.run_id"] == model_run["dag_run_id"]
    assert lakefs.exists("model", model_commit, "model.pkl")

    inference_head = lakefs.get_commit("inference", "main")
    assert inference_head.id == inference_commit
    meta = inference_head.metadata
    assert meta["pachyderm.input.model"] == f"model@{model_commit}"
    assert meta["pachyderm.input.attributes"] == f"attributes@{demo.commits['attributes']}"
    assert meta["pachyderm.input.code"] == f"code@{demo.commits['code']}"
    assert meta["airflow.dag_id"] == "inference"
    assert meta["airflow.run_id"] == inference_run["dag_run_id"]
    assert meta["pachyderm.datums.processed"] == str(len(demo.attributes))

    species = set(demo.species_of.values())
    for path, rows in demo.attributes.items():
        predictions = read_csv(lakefs, "inference", "main", path)
        assert [{name: row[name] for name in FEATURES} for row in predictions] == rows, path
        labels = [row["predicted_species"] for row in predictions]
        assert set(labels) <= species, f"{path}: unexpected labels {labels}"
        if demo.species_of[path] == "setosa":  # linearly separable: a trained model gets it
            assert set(labels) == {"setosa"}, f"{path}: {labels}"

    # Only the pipelines reading a changed branch ran, once each.
    assert [run["dag_run_id"] for run in dag_runs(airflow_stack, "model")] == [
        model_run["dag_run_id"]
    ]
    assert [run["dag_run_id"] for run in dag_runs(airflow_stack, "inference")] == [
        inference_run["dag_run_id"]
    ]


# -- 3. Test button of the connection form ---------------------------------------------------


@pytest.mark.slow
def test_connection_test_button_checks_lakefs_credentials(
    airflow_stack: AirflowStack, demo_lakefs: LakeFSServerProcess
) -> None:
    connection = {
        "connection_id": "lakefs_form",
        "conn_type": "lakefs",
        "host": demo_lakefs.endpoint,
        "login": demo_lakefs.access_key_id,
        "password": demo_lakefs.secret_access_key,
    }
    accepted = airflow_stack.api("POST", "/api/v2/connections/test", connection)
    assert accepted["status"] is True, accepted
    assert demo_lakefs.endpoint in accepted["message"]

    wrong_secret = f"wrong-{secrets.token_hex(12)}"
    rejected = airflow_stack.api(
        "POST", "/api/v2/connections/test", {**connection, "password": wrong_secret}
    )
    assert rejected["status"] is False, rejected
    assert "401" in rejected["message"], rejected
    for secret in (wrong_secret, demo_lakefs.secret_access_key):
        assert secret not in rejected["message"]

    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = airflow_stack.api(
        "POST", "/api/v2/connections/test", {**connection, "host": nowhere}
    )
    assert unreachable["status"] is False, unreachable
    assert nowhere in unreachable["message"], "the message names the endpoint it tried"
