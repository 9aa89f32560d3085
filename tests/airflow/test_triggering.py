"""Commits trigger pipelines in a real Airflow deployment, and every run is reproducible.

The session's deployment (api-server, scheduler, dag-processor, triggerer, LocalExecutor)
runs the ml demo's DAGs with the asset watchers the DAG factory attaches; commits are made
with the provider's lakeFS client, as a user's ingestion would. The tests run in file order
and build on each other's state (one deployment per session is the only affordable way):

1. unpausing the DAGs catches up with the existing data; a commit on ``training`` runs
   ``model`` then ``inference`` once each, a commit on ``attributes`` only ``inference``;
2. a triggerer restart neither duplicates nor misses a commit; a paused DAG is not
   triggered, and unpausing it picks up the newest head once;
3. lakeFS down for 30 s: the next commit still triggers, the triggerer logs one outage;
4. clearing a finished run recomputes the same input commits; clearing one task of a
   finished job leaves it green;
5. a side-branch run whose datum fails leaves no branch that looks like a result;
6. the sensors, deferred and poking, in a hand-written DAG.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from airflow_stack import AirflowStack, ComponentError
from dag_files import ML_DAG_IDS, SENSING_REPO, SENSORS_DAG_ID
from demo_data import FEATURES, DemoData, ingest_demo, to_csv
from docker.errors import DockerException
from runs import (
    PIPELINES_TIMEOUT,
    TERMINAL_STATES,
    commit_task_result,
    dag_runs,
    input_commits,
    q,
    read_csv,
    remove_leftover_containers,
    run_by_id,
    run_ids,
    settle,
    task_states,
    wait_for_parsed_dags,
    wait_ml_caught_up,
    watchers,
)
from ui_client import call

from airflow_pachyderm.jobs.job import JOB_BRANCH_PREFIX
from airflow_pachyderm.lakefs import LakeFSClient
from airflow_pachyderm.server.process import LakeFSServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.docker]

OUTAGE_S = 30.0
OUTAGE_LOG = "is not answering"
RECOVERY_LOG = "answers again"


@dataclass
class Live:
    """The deployment with the demo's data ingested and both DAGs caught up."""

    stack: AirflowStack
    lakefs: LakeFSClient
    demo: DemoData
    n_attributes: int = 0

    def settle(
        self,
        after: dict[str, set[str]] | None = None,
        expect: tuple[str, ...] = (),
        timeout: float = PIPELINES_TIMEOUT,
    ) -> dict[str, list[dict[str, Any]]]:
        """Wait for a new run of each DAG in ``expect`` (not in ``after``), then for every
        run to finish and no new one to come; every run must have succeeded."""
        deadline = time.monotonic() + timeout
        for dag_id in expect:
            assert after is not None
            self.stack.wait_for(
                f"a new {dag_id} run", lambda d=dag_id: run_ids(self.stack, d) - after[d],
                deadline, interval=0.5,
            )
        runs = settle(self.stack, ML_DAG_IDS, deadline)
        for dag_id, dag_run_list in runs.items():
            for run in dag_run_list:
                assert run["state"] == "success", (
                    f"{dag_id} run {run['dag_run_id']} ended {run['state']}:\n"
                    + self.stack.task_logs(dag_id, run["dag_run_id"])
                )
        return runs

    def add_attributes(self, message: str) -> tuple[str, str]:
        """Commit one more attributes file; its path and the commit id."""
        self.n_attributes += 1
        path = f"extra-{self.n_attributes:02d}.csv"
        rows = next(iter(self.demo.attributes.values()))
        self.lakefs.upload("attributes", "main", path, to_csv(rows))
        return path, self.lakefs.commit("attributes", "main", message).id


@pytest.fixture(scope="module")
def live(
    airflow_stack: AirflowStack, lakefs: LakeFSClient, docker_api: Any
) -> Iterator[Live]:
    wait_for_parsed_dags(airflow_stack, ML_DAG_IDS, time.monotonic() + 90)
    demo = ingest_demo(lakefs)
    for dag_id in ML_DAG_IDS:
        airflow_stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    state = Live(airflow_stack, lakefs, demo)
    try:
        wait_ml_caught_up(airflow_stack, lakefs, time.monotonic() + PIPELINES_TIMEOUT)
        yield state
    finally:
        # Best effort: when a test failed, its own error is the one to report.
        with contextlib.suppress(ComponentError, OSError, DockerException):
            for dag_id in ML_DAG_IDS:
                airflow_stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})
            remove_leftover_containers(airflow_stack, docker_api)


def new_runs(
    runs: dict[str, list[dict[str, Any]]], before: dict[str, set[str]]
) -> dict[str, list[dict[str, Any]]]:
    return {
        dag_id: sorted(
            (run for run in dag_run_list if run["dag_run_id"] not in before[dag_id]),
            key=lambda run: run["run_after"],
        )
        for dag_id, dag_run_list in runs.items()
    }


def computed(stack: AirflowStack, dag_id: str, run: dict[str, Any]) -> bool:
    """Whether a run made an output commit (rather than skipping an unchanged job)."""
    return task_states(stack, dag_id, run["dag_run_id"]).get("commit") == "success"


def snapshot(live: Live) -> dict[str, set[str]]:
    return {dag_id: run_ids(live.stack, dag_id) for dag_id in ML_DAG_IDS}


# -- 1. commits trigger the pipelines that read them --------------------------------------


def test_unpaused_pipelines_catch_up_with_existing_data(live: Live) -> None:
    runs = live.settle()
    model_runs = [run for run in runs["model"] if computed(live.stack, "model", run)]
    assert len(model_runs) == 1, "the first model computes once; other runs are no-ops"
    assert all(run["run_type"] == "asset_triggered" for run in runs["model"] + runs["inference"])
    model_commit = live.lakefs.resolve_ref("model", "main")
    assert commit_task_result(live.stack, "model", model_runs[0]["dag_run_id"]) == model_commit
    assert input_commits(live.lakefs, "model", "main") == {
        "training": live.demo.commits["training"], "code": live.demo.commits["code"],
    }
    # inference, triggered by its data and by the model's output commit, ends up on it.
    assert input_commits(live.lakefs, "inference", "main") == {
        "attributes": live.demo.commits["attributes"], "model": model_commit,
        "code": live.demo.commits["code"],
    }
    # Output assets: in the same group as inputs, produced by the publish task.
    (asset,) = [
        a for a in live.stack.api(
            "GET", "/api/v2/assets", query={"uri_pattern": "lakefs://inference/main"}
        )["assets"] if a["uri"] == "lakefs://inference/main"
    ]
    assert asset["group"] == "lakefs"
    assert [(t["dag_id"], t["task_id"]) for t in asset["producing_tasks"]] == [
        ("inference", "publish")
    ]
    species = set(live.demo.species_of.values())
    for path, rows in live.demo.attributes.items():
        predictions = read_csv(live.lakefs, "inference", "main", path)
        assert [{name: row[name] for name in FEATURES} for row in predictions] == rows, path
        assert {row["predicted_species"] for row in predictions} <= species


def test_training_commit_runs_model_then_inference_once(live: Live) -> None:
    before = snapshot(live)
    iris = live.lakefs.read_bytes("training", "main", "iris.csv")
    live.lakefs.upload("training", "main", "more/iris-copy.csv", iris)
    training = live.lakefs.commit("training", "main", "more training data").id
    runs = new_runs(live.settle(before, expect=("model", "inference")), before)

    assert len(runs["model"]) == 1, runs["model"]
    model_run = runs["model"][0]
    assert model_run["run_type"] == "asset_triggered"
    model_commit = live.lakefs.resolve_ref("model", "main")
    assert input_commits(live.lakefs, "model", model_commit)["training"] == training
    assert live.lakefs.get_commit("model", model_commit).metadata["airflow.run_id"] == (
        model_run["dag_run_id"]
    )
    # The model's output commit (not the watcher of model/main) started inference, once.
    assert len(runs["inference"]) == 1, runs["inference"]
    inference_run = runs["inference"][0]
    events = live.stack.api(
        "GET",
        f"/api/v2/dags/inference/dagRuns/{q(inference_run['dag_run_id'])}/upstreamAssetEvents",
    )["asset_events"]
    assert [(e["source_dag_id"], e["source_task_id"], e["extra"]["commit"]) for e in events] == [
        ("model", "publish", model_commit)
    ]
    assert input_commits(live.lakefs, "inference", "main")["model"] == model_commit
    check_ui_annotations(live, inference_run["dag_run_id"], model_commit)


def check_ui_annotations(live: Live, run_id: str, model_commit: str) -> None:
    """In Airflow's own pages: the tasks' extra links to the provider's pages, the mapped
    tasks' batch labels and the run's summary of input and output commits."""
    run = f"/api/v2/dags/inference/dagRuns/{q(run_id)}/taskInstances"
    output = live.lakefs.resolve_ref("inference", "main")
    plan_links = live.stack.api("GET", f"{run}/plan/links")["extra_links"]
    base = live.stack.base_url
    assert plan_links["input model"] == f"{base}/pachyderm/repos/model/commits/{model_commit}", (
        plan_links
    )
    commit_links = live.stack.api("GET", f"{run}/commit/links")["extra_links"]
    assert commit_links["job files"] == f"{base}/pachyderm/repos/inference/tree/{output}", (
        commit_links
    )
    # Every link opens a page of the UI plugin.
    for link in [*plan_links.values(), *commit_links.values()]:
        status, _ = call(live.stack, "GET", link.removeprefix(base), user="admin")
        assert status == 200, link
    mapped = live.stack.api("GET", f"{run}/process/listMapped")["task_instances"]
    labels = [ti["rendered_map_index"] for ti in mapped]
    assert labels and all(re.fullmatch(r"\d+: \S.* \(\d+ datums?\)", str(x)) for x in labels), (
        labels
    )
    summary = live.stack.api(
        "GET", f"{run}/commit/xcomEntries/summary", query={"deserialize": "true"}
    )["value"]
    assert f"inference@{output}" in summary and f"model=model@{model_commit[:12]}" in summary


def test_attributes_commit_runs_only_inference(live: Live) -> None:
    before = snapshot(live)
    path, attributes = live.add_attributes("one more file to classify")
    runs = new_runs(live.settle(before, expect=("inference",)), before)
    assert runs["model"] == []
    assert len(runs["inference"]) == 1
    (event,) = live.stack.api(
        "GET",
        f"/api/v2/dags/inference/dagRuns/{q(runs['inference'][0]['dag_run_id'])}"
        "/upstreamAssetEvents",
    )["asset_events"]
    payload = event["extra"]["payload"]
    assert (payload["repo"], payload["branch"], payload["commit"]) == (
        "attributes", "main", attributes
    )
    assert payload["message"] == "one more file to classify"
    head = live.lakefs.get_commit("inference", "main").metadata
    assert head["pachyderm.input.attributes"] == f"attributes@{attributes}"
    assert head["pachyderm.datums.processed"] == "1", "only the new file is a new datum"
    assert live.lakefs.exists("inference", "main", path)


# -- 2. no duplicate, no missed commit ----------------------------------------------------


def test_triggerer_restart_neither_duplicates_nor_misses(live: Live) -> None:
    before = snapshot(live)
    _, first = live.add_attributes("before the triggerer restart")
    live.settle(before, expect=("inference",))
    live.stack.stop(components=["triggerer"])
    middle = snapshot(live)
    _, second = live.add_attributes("while the triggerer is down")
    time.sleep(3)
    assert len(new_runs(live.settle(), before)["inference"]) == 1, "nothing watches now"
    live.stack.start(["triggerer"])
    runs = new_runs(live.settle(middle, expect=("inference",)), before)
    assert runs["model"] == []
    pinned = [
        input_commits(live.lakefs, "inference", commit_task_result(
            live.stack, "inference", run["dag_run_id"]))["attributes"]
        for run in runs["inference"]
    ]
    assert pinned == [first, second], "each commit once, in order; none missed after restart"


def trigger_stopped(stack: AirflowStack, repo: str) -> bool:
    """Whether the triggerer has stopped (since it last started) the watcher that reported
    commits of ``repo``."""
    log = stack.log_path("triggerer").read_text(errors="replace")
    names = set(re.findall(rf"name='(ID \d+)' result=\"TriggerEvent<{{'repo': '{repo}'", log))

    def last(pattern: str) -> int:
        found = [m.start() for m in re.finditer(pattern, log)]
        return found[-1] if found else -1

    return bool(names) and all(
        last(rf"trigger completed .*name='{name}'") > last(rf"trigger {name} starting")
        for name in names
    )


def test_paused_dag_is_not_triggered_and_unpausing_reads_the_newest_head_once(
    live: Live,
) -> None:
    uri = "lakefs://attributes/main"  # read by inference alone
    deadline = time.monotonic() + 120
    live.stack.api("PATCH", "/api/v2/dags/inference", {"is_paused": True})
    # The dag-processor's next parse detaches the watcher; the triggerer then stops it.
    live.stack.wait_for("the watcher of a paused DAG to stop",
                        lambda: not watchers(live.stack, uri)
                        and trigger_stopped(live.stack, "attributes"), deadline)
    before = snapshot(live)
    live.add_attributes("while inference is paused")
    _, newest = live.add_attributes("the newest, still paused")
    time.sleep(4)
    assert run_ids(live.stack, "inference") == before["inference"]
    live.stack.api("PATCH", "/api/v2/dags/inference", {"is_paused": False})
    live.stack.wait_for("the watcher to start again", lambda: watchers(live.stack, uri),
                        deadline)
    runs = new_runs(live.settle(before, expect=("inference",)), before)
    jobs = [run for run in runs["inference"] if computed(live.stack, "inference", run)]
    assert len(jobs) == 1, runs["inference"]
    assert input_commits(live.lakefs, "inference", "main")["attributes"] == newest


# -- 3. lakeFS outage ------------------------------------------------------------------------


def test_lakefs_outage_is_ridden_out_with_one_log_line(
    live: Live, demo_lakefs: LakeFSServerProcess
) -> None:
    log_path = live.stack.log_path("triggerer")
    outages_before = log_path.read_text(errors="replace").count(OUTAGE_LOG)
    before = snapshot(live)
    demo_lakefs.stop()
    try:
        time.sleep(OUTAGE_S)
    finally:
        demo_lakefs.start()
    _, attributes = live.add_attributes("after the outage")
    runs = new_runs(live.settle(before, expect=("inference",)), before)
    assert len(runs["inference"]) == 1
    assert input_commits(live.lakefs, "inference", "main")["attributes"] == attributes
    log = log_path.read_text(errors="replace")
    assert log.count(OUTAGE_LOG) - outages_before == 1, "one message per outage, not a flood"
    assert RECOVERY_LOG in log
    live.stack.check_alive()


# -- 4. reproducible runs --------------------------------------------------------------------


def clear(stack: AirflowStack, dag_id: str, run_id: str, **body: Any) -> None:
    stack.api(
        "POST",
        f"/api/v2/dags/{q(dag_id)}/clearTaskInstances",
        {"dry_run": False, "dag_run_id": run_id, "only_failed": False, **body},
    )


def wait_finished(stack: AirflowStack, dag_id: str, run_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = run_by_id(dag_runs(stack, dag_id), run_id)
        return run if run["state"] in TERMINAL_STATES else None

    # A cleared run goes back to queued first: give the scheduler time to pick it up.
    time.sleep(2)
    return stack.wait_for(f"{dag_id} run {run_id} to finish", finished,
                          time.monotonic() + PIPELINES_TIMEOUT)


def test_clearing_a_finished_run_recomputes_its_own_inputs(live: Live) -> None:
    runs = dag_runs(live.stack, "inference")
    historical = [
        run for run in sorted(runs, key=lambda r: r["run_after"])
        if computed(live.stack, "inference", run)
    ][-3]  # a run that newer jobs have superseded
    first_commit = commit_task_result(live.stack, "inference", historical["dag_run_id"])
    first_inputs = input_commits(live.lakefs, "inference", first_commit)
    newest_inputs = input_commits(live.lakefs, "inference", "main")
    assert first_inputs != newest_inputs

    clear(live.stack, "inference", historical["dag_run_id"])
    run = wait_finished(live.stack, "inference", historical["dag_run_id"])
    assert run["state"] == "success", live.stack.task_logs("inference", run["dag_run_id"])
    again = commit_task_result(live.stack, "inference", historical["dag_run_id"])
    assert again != first_commit
    assert live.lakefs.resolve_ref("inference", "main") == again
    assert input_commits(live.lakefs, "inference", again) == first_inputs, (
        "a cleared run reads exactly the commits it read the first time"
    )


def test_clearing_one_task_of_a_finished_job_keeps_it_green(live: Live) -> None:
    head = live.lakefs.resolve_ref("inference", "main")
    # A finished job that ran a batch (not one whose datums were all skipped).
    finished = [
        run for run in sorted(dag_runs(live.stack, "inference"), key=lambda r: r["run_after"])
        if task_states(live.stack, "inference", run["dag_run_id"]).get("process[0]")
        == "success"
    ][-1]
    clear(live.stack, "inference", finished["dag_run_id"], task_ids=["process"],
          include_downstream=False)
    run = wait_finished(live.stack, "inference", finished["dag_run_id"])
    assert run["state"] == "success", live.stack.task_logs("inference", run["dag_run_id"])
    assert live.lakefs.resolve_ref("inference", "main") == head, "nothing recomputed"
    assert "already committed" in live.stack.task_logs("inference", run["dag_run_id"], 40)


# -- 5. failed jobs leave no result-like branches --------------------------------------------


def test_failed_side_branch_run_leaves_no_result_branch(live: Live) -> None:
    live.lakefs.create_branch("attributes", "bad-data", "main")
    live.lakefs.upload("attributes", "bad-data", "broken.csv", b"not,the,right,columns\n1,2,3,4\n")
    live.lakefs.commit("attributes", "bad-data", "a file inference cannot read")
    run = live.stack.api(
        "POST",
        "/api/v2/dags/inference/dagRuns",
        {
            "logical_date": None,
            "conf": {"input_attributes": "bad-data", "output_branch": "try-bad-data"},
        },
    )
    finished = wait_finished(live.stack, "inference", run["dag_run_id"])
    assert finished["state"] == "failed"
    branches = {b.id for b in live.lakefs.list_branches("inference")}
    assert "try-bad-data" not in branches, "a failed job creates no side branch"
    assert {b for b in branches if b != "main" and not b.startswith(JOB_BRANCH_PREFIX)} == set()
    states = task_states(live.stack, "inference", run["dag_run_id"])
    assert states["commit"] == "upstream_failed" and states["publish"] == "upstream_failed"
    log = live.stack.task_logs("inference", run["dag_run_id"], 60)
    # The broken file's datum fails; the batch may hold another, good one.
    failed = re.search(r"error: 1 of \d+ datums of batch \d+ failed", log)
    assert failed, log
    assert "missing columns" in log[failed.start():], "the datum's output tail is in the ERROR line"


# -- 6. sensors ------------------------------------------------------------------------------


def test_sensors_deferred_and_poking(airflow_stack: AirflowStack, lakefs: LakeFSClient) -> None:
    stack = airflow_stack
    wait_for_parsed_dags(stack, (SENSORS_DAG_ID,), time.monotonic() + 90)
    lakefs.create_repository(SENSING_REPO, exist_ok=True)
    stack.api("PATCH", f"/api/v2/dags/{SENSORS_DAG_ID}", {"is_paused": False})
    run_id = stack.api(
        "POST", f"/api/v2/dags/{SENSORS_DAG_ID}/dagRuns", {"logical_date": None}
    )["dag_run_id"]
    deadline = time.monotonic() + 120

    def waiting() -> dict[str, str] | None:
        states = task_states(stack, SENSORS_DAG_ID, run_id)
        ok = (
            states.get("commit_deferred") == states.get("file_deferred") == "deferred"
            and states.get("commit_poke_data") in ("running", "up_for_reschedule")
            and states.get("file_poke") in ("running", "up_for_reschedule")
        )
        return states if ok else None

    stack.wait_for("the sensors to wait (two deferred, two poking)", waiting, deadline)
    # Let the scheduler take in the executor's events of the deferring tasks first: if a
    # trigger fires and its task resumes before that, Airflow sees "finished with state
    # success, but the task instance's state attribute is running" and fails the task (a
    # race of Airflow's, seen on a loaded 2-core machine).
    time.sleep(8)
    lakefs.upload(SENSING_REPO, "main", "other/x.txt", b"x")
    other = lakefs.commit(SENSING_REPO, "main", "not under data/").id

    def done(task_id: str) -> bool:
        return task_states(stack, SENSORS_DAG_ID, run_id).get(task_id) == "success"

    stack.wait_for("the deferred commit sensor", lambda: done("commit_deferred"), deadline)
    time.sleep(3)
    states = task_states(stack, SENSORS_DAG_ID, run_id)
    assert states["commit_poke_data"] in ("running", "up_for_reschedule"), (
        "a commit outside the prefix does not count"
    )
    assert states["file_deferred"] == "deferred"

    lakefs.upload(SENSING_REPO, "main", "data/y.txt", b"y")
    lakefs.upload(SENSING_REPO, "main", "ready/flag", b"")
    data = lakefs.commit(SENSING_REPO, "main", "data and the flag").id
    stack.wait_for(
        "every sensor to finish",
        lambda: all(done(t) for t in ("commit_poke_data", "file_deferred", "file_poke")),
        deadline,
    )

    def xcom(task_id: str) -> Any:
        path = (f"/api/v2/dags/{SENSORS_DAG_ID}/dagRuns/{q(run_id)}/taskInstances/{task_id}"
                "/xcomEntries/return_value")
        return stack.api("GET", path, query={"deserialize": "true"})["value"]

    assert xcom("commit_deferred") == other
    assert xcom("commit_poke_data") == data
