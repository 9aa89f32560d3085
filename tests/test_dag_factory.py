"""Specs -> DAGs: structure, schedule, params, docs; broken specs as import errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Airflow reads its configuration at first import: give it a private home.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow_pachyderm.compat import (
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    ParamValidationError,
)
from airflow_pachyderm.dag_factory import input_asset, load_pipelines
from airflow_pachyderm.operators import (
    CommitOperator,
    PlanOperator,
    ProcessBatchOperator,
    PublishOperator,
)
from airflow_pachyderm.spec import SpecErrors, load_specs
from airflow_pachyderm.triggers import LakeFSCommitEventTrigger

REPO = Path(__file__).parent.parent
EXAMPLES = REPO / "dags_examples" / "specs"
ML = REPO / "dags_examples" / "ml"
INVALID = REPO / "tests" / "spec" / "invalid"
DAG_FILE = "# Airflow DAGs, one per pipeline spec\nfrom airflow_pachyderm import load_pipelines\n\n"


@pytest.fixture(scope="module")
def dags() -> dict:
    return {**load_pipelines(EXAMPLES, {}), **load_pipelines(ML, {})}


def test_one_dag_per_pipeline(dags: dict) -> None:
    assert sorted(dags) == sorted(spec.name for spec in load_specs([EXAMPLES, ML]))


def test_task_structure(dags: dict) -> None:
    dag = dags["inference"]
    plan, process, commit, publish = (
        dag.get_task(t) for t in ("plan", "process", "commit", "publish")
    )
    assert isinstance(plan, PlanOperator)
    assert isinstance(commit, CommitOperator)
    assert isinstance(publish, PublishOperator)
    assert process.operator_class is ProcessBatchOperator  # a mapped operator
    assert process.expand_input.value["batch"].operator is plan
    assert plan.downstream_task_ids == {"process", "commit"}
    assert process.downstream_task_ids == {"commit"}
    assert commit.downstream_task_ids == {"publish"}
    # Runs with no batch to process, not when the plan skipped an unchanged job.
    assert commit.trigger_rule == "none_failed_min_one_success"
    (spec,) = [s for s in load_specs(ML) if s.name == "inference"]
    assert plan.pipeline_spec == spec.to_dict()
    assert commit.pipeline_spec == spec.to_dict()
    assert process.partial_kwargs["pipeline_spec"] == spec.to_dict()
    assert plan.lakefs_conn_id == commit.lakefs_conn_id == "lakefs_default"
    assert process.partial_kwargs["max_active_tis_per_dagrun"] == 2
    assert commit.outlets == []
    assert publish.outlets == [input_asset("inference", "main")]
    assert "egress" not in dag.task_ids  # the ML example has no egress


def test_assets_chain_pipelines(dags: dict) -> None:
    inference = dags["inference"]
    uris = sorted(asset.uri for asset in inference.timetable.asset_condition.objects)
    assert uris == ["lakefs://attributes/main", "lakefs://code/main", "lakefs://model/main"]
    # The model DAG's publish task reports lakefs://model/main, one of inference's triggers
    # (tests/airflow shows the scheduler chaining the two DAGs).
    assert input_asset("model", "main") in inference.timetable.asset_condition.objects
    assert dags["model"].get_task("publish").outlets == [input_asset("model", "main")]
    # Every input asset is watched: a commit made outside the pipelines (new data, a revert
    # of a model) starts a run too.
    for asset in inference.timetable.asset_condition.objects:
        (watcher,) = asset.watchers
        assert isinstance(watcher.trigger, LakeFSCommitEventTrigger)
        repo, branch = asset.uri.removeprefix("lakefs://").split("/")
        assert watcher.trigger.serialize()[1] == {
            "repo": repo, "branch": branch, "lakefs_conn_id": "lakefs_default",
            "poll_interval": 1.0,
        }
    single = dags["edges"].timetable.asset_condition
    assert single == input_asset("images", "main")
    assert (single.name, single.uri, single.group) == (
        "lakefs://images/main",
        "lakefs://images/main",
        "lakefs",
    )


def test_cron_only_pipeline_runs_on_its_schedule(dags: dict) -> None:
    timetable = dags["prices"].timetable
    assert timetable == CronTriggerTimetable("@hourly", timezone="UTC")


def test_cron_and_data_combined(tmp_path: Path) -> None:
    (tmp_path / "mixed.yaml").write_text(
        "pipeline: {name: mixed}\n"
        "input:\n  cross:\n"
        '    - pfs: {repo: raw, glob: "/*"}\n'
        '    - cron: {name: tick, spec: "*/5 * * * *"}\n'
        'transform: {image: busybox, cmd: ["true"]}\n'
    )
    dag = load_pipelines(tmp_path / "mixed.yaml")["mixed"]
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert dag.timetable.timetable == CronTriggerTimetable("*/5 * * * *", timezone="UTC")
    assert dag.timetable.asset_condition == input_asset("raw", "main")


def test_params_with_defaults_and_descriptions(dags: dict) -> None:
    params = dags["inference"].params
    assert params.dump() == {
        "input_attributes": "", "input_model": "", "input_code": "",
        "output_branch": "main", "reprocess": "changed", "datums": "",
    }
    for name in params:
        assert params.get_param(name).description
    # Each input's field names its repo and branch.
    assert "'model'" in params.get_param("input_model").description
    assert "branch 'main'" in params.get_param("input_model").description
    assert params.get_param("reprocess").schema["enum"] == ["changed", "all", "failed", "datums"]
    params.validate()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("input_model", "main~1"),
        ("input_model", "0f3a9c2e41b7"),
        ("input_model", "v1.2"),
        ("input_model", "main^"),
        ("input_model", None),
        ("output_branch", "rerun-old-model"),
        ("reprocess", "datums"),
        ("datums", "0f3a9c2e41b7, 9b1d0000"),
        ("datums", ""),
    ],
)
def test_params_accept(dags: dict, name: str, value: object) -> None:
    assert dags["inference"].params.get_param(name).resolve(value) == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("input_model", "main~1 "),
        ("input_model", '{"model": "main~1"}'),
        ("output_branch", "not a branch"),
        ("output_branch", ""),
        ("reprocess", "sometimes"),
        ("reprocess", "0f3a9c2e41b7"),
        ("datums", "0f3"),
        ("datums", "xyz1234"),
    ],
)
def test_params_refuse(dags: dict, name: str, value: object) -> None:
    with pytest.raises(ParamValidationError):
        dags["inference"].params.get_param(name).resolve(value)


def test_dag_attributes(dags: dict) -> None:
    dag = dags["model"]
    assert set(dag.tags) == {"ml", "training", "pachyderm"}
    assert dag.default_args["owner"] == "ml"
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert "## Pipeline `model`" in dag.doc_md
    assert "`lakefs://training/main`, glob `/`" in dag.doc_md
    assert "pfs training: training@main /" in dag.doc_md
    assert "image: airflow-pachyderm/python-sklearn:latest" in dag.doc_md  # the spec as written
    assert dags["inference"].doc_md.count("├── ") == 2


def test_dag_id_prefix_and_conn_id(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        'pipeline: {name: edges}\ninput: {pfs: {repo: images, glob: "/*"}}\n'
        'transform: {image: busybox, cmd: ["true"]}\n'
        "airflow: {dag_id_prefix: vision_, retries: 2, pool: gpu}\n"
    )
    namespace: dict = {}
    dags = load_pipelines(tmp_path / "p.yaml", namespace, lakefs_conn_id="lakefs_prod")
    assert list(dags) == ["vision_edges"]
    assert namespace["vision_edges"] is dags["vision_edges"]
    dag = dags["vision_edges"]
    assert dag.default_args["retries"] == 2
    assert dag.get_task("plan").lakefs_conn_id == "lakefs_prod"
    assert dag.get_task("process").partial_kwargs["pool"] == "gpu"


def test_relative_path_resolves_against_the_dag_file(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "edges.yaml").write_text((EXAMPLES / "opencv.yaml").read_text())
    dag_file = tmp_path / "pipelines.py"
    dag_file.write_text(DAG_FILE + 'load_pipelines("specs", globals())\n')
    namespace = {"__file__": str(dag_file), "__name__": "pipelines"}
    exec(compile(dag_file.read_text(), str(dag_file), "exec"), namespace)
    assert namespace["edges"].dag_id == "edges"


def test_invalid_spec_raises_precise_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecErrors) as raised:
        load_pipelines(INVALID / "empty_cmd.yaml", {})
    assert str(raised.value) == (
        f"{INVALID / 'empty_cmd.yaml'}:7:8: transform.cmd: cmd is empty: write the command "
        'to run as a list, e.g. cmd: ["python3", "/code/main.py"]'
    )


DAGBAG_SCRIPT = """
import json, sys
from airflow_pachyderm.compat import dag_bag
bag = dag_bag(sys.argv[1])
print(json.dumps({"dag_ids": sorted(bag.dag_ids), "import_errors": bag.import_errors}))
"""


def test_dagbag_shows_spec_errors_as_import_errors(tmp_path: Path) -> None:
    dags_folder = tmp_path / "dags"
    (dags_folder / "good").mkdir(parents=True)
    (dags_folder / "bad").mkdir()
    (dags_folder / "good" / "opencv.yaml").write_text((EXAMPLES / "opencv.yaml").read_text())
    bad_spec = dags_folder / "bad" / "join.yaml"
    bad_spec.write_text((INVALID / "join_without_join_on.yaml").read_text())
    (dags_folder / "good_dags.py").write_text(DAG_FILE + 'load_pipelines("good", globals())\n')
    (dags_folder / "bad_dags.py").write_text(DAG_FILE + 'load_pipelines("bad", globals())\n')
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    result = subprocess.run(
        [sys.executable, "-c", DAGBAG_SCRIPT, str(dags_folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["dag_ids"] == ["edges"]
    assert list(report["import_errors"]) == [str(dags_folder / "bad_dags.py")]
    message = report["import_errors"][str(dags_folder / "bad_dags.py")]
    assert message.rstrip().endswith(
        f"{bad_spec}:6:12: input.join[1].pfs.joinOn: every pfs input of a join needs joinOn: "
        'capture part of the path in the glob, e.g. glob: "/(*).csv", and write joinOn: "$1"'
    )


def test_egress_is_its_own_task_after_commit(tmp_path) -> None:
    spec = tmp_path / "egress.yaml"
    spec.write_text(
        "pipeline: {name: exported}\n"
        "input: {pfs: {repo: images, glob: '/*'}}\n"
        "transform: {image: python:3.12-slim, cmd: [python3, /code/x.py]}\n"
        "egress: {URL: 's3://bucket/prefix'}\n"
    )
    dag = load_pipelines(spec, {})["exported"]
    egress = dag.get_task("egress")
    assert egress.upstream_task_ids == {"commit"}
    assert egress.downstream_task_ids == set()


def test_pachyderm_names_become_lakefs_assets_and_warnings_are_logged(caplog) -> None:
    lab = REPO / "tests" / "spec" / "pachyderm" / "lab"
    with caplog.at_level("WARNING", logger="airflow_pachyderm.dag_factory"):
        dags = load_pipelines(lab, {})
    assert sorted(dags) == ["Group_By_Hospital", "churn", "reduce_hospitals", "staging.edges"]
    assert "egress" in dags["churn"].task_ids
    reduce = dags["reduce_hospitals"].timetable.asset_condition.objects
    assert sorted(asset.uri for asset in reduce) == [
        "lakefs://c-parameters/main",
        "lakefs://group-by-hospital/main",
    ]
    # The upstream pipeline's publish task reports the same asset.
    publish = dags["Group_By_Hospital"].get_task("publish")
    assert [outlet.uri for outlet in publish.outlets] == ["lakefs://group-by-hospital/main"]
    edges = dags["staging.edges"].timetable.asset_condition.objects
    assert sorted(asset.uri for asset in edges) == [
        "lakefs://images/main",
        "lakefs://staging-images/main",
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert (
        "group_by_hospital.pipeline.json:29:3: warning: autoscaling: autoscaling configures "
        "Kubernetes and has no effect here" in logged
    )
    assert "warning: transform: no image: the transform runs on the default image" in logged
    assert "edges.pipeline.json:20:5: warning: transform.imagePullSecrets" in logged
