"""Helpers for tests that drive pipeline runs through a real Airflow deployment's REST API."""

from __future__ import annotations

import csv
import io
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from airflow_stack import AirflowStack
from dag_files import ML_DAG_IDS

from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.lakefs import LakeFSClient
from airflow_pachyderm.runners.docker import cleanup_job_containers

PIPELINES_TIMEOUT = 240.0
TERMINAL_STATES = {"success", "failed"}


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


def run_ids(stack: AirflowStack, dag_id: str) -> set[str]:
    return {run["dag_run_id"] for run in dag_runs(stack, dag_id)}


def settle(
    stack: AirflowStack, dag_ids: Iterable[str], deadline: float, quiet: float = 6.0
) -> dict[str, list[dict[str, Any]]]:
    """Wait until no run of ``dag_ids`` is queued or running and no new run appeared for
    ``quiet`` seconds (several watcher polls and scheduler loops); the runs by DAG."""
    last: dict[str, list[dict[str, Any]]] = {}
    stable_since = time.monotonic()

    def quiet_now() -> dict[str, list[dict[str, Any]]] | None:
        nonlocal last, stable_since
        now = {dag_id: dag_runs(stack, dag_id) for dag_id in dag_ids}
        busy = any(r["state"] not in TERMINAL_STATES for runs in now.values() for r in runs)
        shape = {d: sorted((r["dag_run_id"], r["state"]) for r in runs) for d, runs in now.items()}
        if busy or shape != {
            d: sorted((r["dag_run_id"], r["state"]) for r in runs) for d, runs in last.items()
        }:
            last, stable_since = now, time.monotonic()
            return None
        return now if time.monotonic() - stable_since >= quiet else None

    return stack.wait_for(f"runs of {', '.join(dag_ids)} to settle", quiet_now, deadline,
                          interval=0.5)


def run_by_id(runs: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    (run,) = [run for run in runs if run["dag_run_id"] == run_id]
    return run


def task_states(stack: AirflowStack, dag_id: str, run_id: str) -> dict[str, str]:
    """task id (mapped tasks: ``id[index]``) -> state."""
    path = f"/api/v2/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances"
    tis = stack.api("GET", path, query={"limit": "1000"})["task_instances"]
    return {
        ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti["state"]
        for ti in tis
    }


def input_commits(client: LakeFSClient, repo: str, ref: str) -> dict[str, str]:
    """input name -> commit id, from an output commit's provenance."""
    metadata = client.get_commit(repo, ref).metadata
    prefix = "pachyderm.input."
    return {
        key[len(prefix):]: value.split("@", 1)[1]
        for key, value in metadata.items()
        if key.startswith(prefix) and key.count(".") == 2
    }


def watchers(stack: AirflowStack, uri: str) -> list[dict[str, Any]] | None:
    """The asset watchers Airflow has attached to the asset ``uri`` (None: this Airflow's
    REST API does not show them, as on 3.1)."""
    (asset,) = [
        a for a in stack.api("GET", "/api/v2/assets", query={"uri_pattern": uri})["assets"]
        if a["uri"] == uri
    ]
    return asset.get("watchers")


ML_INPUT_ASSETS = (
    "lakefs://training/main", "lakefs://attributes/main", "lakefs://code/main",
    "lakefs://model/main",
)


def wait_ml_caught_up(stack: AirflowStack, client: LakeFSClient, deadline: float) -> None:
    """After unpausing the ml DAGs: their watchers start at the dag-processor's next parse
    of the file, then model runs, and inference runs on the model's output commit."""
    for uri in ML_INPUT_ASSETS:
        stack.wait_for(f"a watcher on {uri}", lambda u=uri: watchers(stack, u) != [], deadline)
    stack.wait_for(
        "inference to read the first model",
        lambda: client.branch_exists("model", "main")
        and client.branch_exists("inference", "main")
        and input_commits(client, "inference", "main").get("model")
        == client.resolve_ref("model", "main"),
        deadline,
    )
