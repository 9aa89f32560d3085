"""The ml example end to end through the command line: ingest with ``put``, ``wait`` while
``run`` trains and infers (real Airflow dag.test, real Docker), then the ``lineage`` of one
predictions file in every format, and a local ``rerun`` on an older input commit. The run
also writes Airflow's OpenLineage events to a file (the provider's file transport): the plan
and commit tasks report the lakeFS datasets they read and wrote."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clikit import Cli, cli_env, script

from airflow_pachyderm.server.process import LakeFSServerProcess

ML = Path(__file__).parents[2] / "dags_examples" / "ml"
RUN_TIMEOUT = 900


@pytest.fixture(scope="module")
def ml(docker_api: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server and one ml run for the module: commit ids by repo, and the CLI."""
    root = tmp_path_factory.mktemp("ml-cli")
    # A server of its own: the session's deployment fixtures use the demo's repo names too.
    with LakeFSServerProcess(data_dir=root / "lakefs") as server:
        env = cli_env(server)
        env["AIRFLOW_PACHYDERM_RUN_HOME"] = str(root / "airflow")
        for key in [k for k in env if k.startswith("AIRFLOW__") or k == "AIRFLOW_HOME"]:
            del env[key]  # `run` prepares its own Airflow home
        events = root / "openlineage.jsonl"
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
            {"type": "file", "log_file_path": str(events), "append": True})
        cli = Cli(env, root)
        commits = _ingest(cli, root)
        waiting = subprocess.Popen(
            [*script(), "wait", f"training@{commits['training']}", "--specs", str(ML),
             "--timeout", str(RUN_TIMEOUT), "--interval", "1"],
            env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            result = cli("run", str(ML / "pipelines.yaml"), timeout=RUN_TIMEOUT)
            wait_out, wait_err = waiting.communicate(timeout=120)
        finally:
            if waiting.poll() is None:
                waiting.kill()
        assert waiting.returncode == 0, wait_err
        for line in result.stdout.splitlines():
            name, ref, _ = line.split("\t")
            commits[name] = ref.partition("@")[2]
        yield {"cli": cli, "commits": commits, "wait": wait_out, "root": root,
               "events": events, "endpoint": server.endpoint}


def _ingest(cli: Cli, root: Path) -> dict[str, str]:
    data = root / "data"
    (data / "attributes").mkdir(parents=True)
    rows = list(csv.DictReader(io.StringIO((ML / "data" / "iris.csv").read_text())))
    features = [name for name in rows[0] if name != "species"]
    for species in dict.fromkeys(row["species"] for row in rows):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=features, lineterminator="\n",
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows([row for row in rows if row["species"] == species][:4])
        (data / "attributes" / f"{species}-sample.csv").write_text(out.getvalue())
    commits = {}
    for repo, source in (("training", ML / "data" / "iris.csv"),
                         ("attributes", data / "attributes"),
                         ("code", ML / "code")):
        cli("repo", "create", repo)
        put = cli("put", "-r", str(source), f"{repo}@main:", "--json").json()
        commits[repo] = put["commit"]
    return commits


@pytest.mark.slow
@pytest.mark.docker
def test_wait_printed_each_pipeline_as_it_landed(ml: dict[str, Any]) -> None:
    commits = ml["commits"]
    assert ml["wait"].splitlines() == [
        f"model: model@{commits['model']} (job " + ml["wait"].split("(job ")[1].split("\n")[0],
        f"inference: inference@{commits['inference']} (job "
        + ml["wait"].split("(job ")[2].split("\n")[0],
    ]


@pytest.mark.slow
@pytest.mark.docker
def test_lineage_of_a_prediction_names_data_model_and_code(ml: dict[str, Any]) -> None:
    cli, commits = ml["cli"], ml["commits"]
    path = "setosa-sample.csv"
    data = cli("lineage", f"inference@main:{path}", "--json").json()
    assert data["root"] == {"repo": "inference", "commit": commits["inference"]}
    assert data["file"]["path"] == path and data["file"]["datum_id"]
    read = {(i["input"], i["repo"], i["commit"], i["path"]) for i in data["file"]["inputs"]}
    assert ("attributes", "attributes", commits["attributes"], path) in read
    assert ("model", "model", commits["model"], "model.pkl") in read
    edges = {(e["output"]["repo"], e["input"]["repo"], e["input"]["commit"])
             for e in data["edges"]}
    assert {("inference", "attributes", commits["attributes"]),
            ("inference", "model", commits["model"]),
            ("inference", "code", commits["code"]),
            ("model", "training", commits["training"]),
            ("model", "code", commits["code"])} <= edges
    repos = {n["repo"]: n for n in data["nodes"]}
    assert repos["model"]["pipeline"] == "model" and repos["training"]["pipeline"] is None

    for fmt in ("tree", "mermaid", "dot"):
        text = cli("lineage", f"inference@main:{path}", "--format", fmt).stdout
        for repo in ("attributes", "model", "training", "code"):
            assert f"{repo}@{commits[repo][:12]}" in text, (fmt, repo, text)
        assert path in text
    tree = cli("lineage", f"inference@main:{path}").stdout
    assert f"attributes: attributes@{commits['attributes'][:12]}:{path}" in tree
    shallow = cli("lineage", "inference@main", "--depth", "1", "--json").json()
    assert shallow["truncated"] and "training" not in {n["repo"] for n in shallow["nodes"]}
    down = cli("lineage", f"training@{commits['training']}", "--downstream", "--json").json()
    assert {n["repo"] for n in down["nodes"]} == {"training", "model", "inference"}
    cli.fails("lineage", "inference@main:no-such.csv", expect="no-such.csv")


@pytest.mark.slow
@pytest.mark.docker
def test_log_and_inspect_show_provenance(ml: dict[str, Any]) -> None:
    cli, commits = ml["cli"], ml["commits"]
    log = cli("log", "model@main", "--json").json()
    prov = log[0]["provenance"]
    assert prov["pipeline"] == "model" and prov["datums"]["processed"] == 1
    assert {(i["name"], i["commit"]) for i in prov["inputs"]} == {
        ("training", commits["training"]), ("code", commits["code"])}
    text = cli("log", "model@main").stdout
    assert f"training=training@{commits['training'][:12]}" in text
    shown = cli("inspect", "inference@main").stdout
    assert f"input      model = model@{commits['model']}" in shown
    assert "datums     processed 3" in shown


@pytest.mark.slow
@pytest.mark.docker
def test_rerun_locally_on_an_older_input(ml: dict[str, Any], tmp_path: Path) -> None:
    cli, commits = ml["cli"], ml["commits"]
    extra = tmp_path / "extra-sample.csv"
    extra.write_text((ml["root"] / "data" / "attributes" / "setosa-sample.csv").read_text())
    newer = cli("put", str(extra), "attributes@main:", "--json").json()["commit"]
    assert newer != commits["attributes"]
    result = cli("rerun", "inference", "--specs", str(ML), "--input",
                 f"attributes={commits['attributes'][:10]}", "--output-branch", "old-inputs",
                 timeout=RUN_TIMEOUT, env={"AIRFLOW_PACHYDERM_AIRFLOW_URL": ""})
    assert "running inference locally" in result.stderr
    inspected = cli("inspect", "inference@old-inputs", "--json").json()
    inputs = {i["name"]: i["commit"] for i in inspected["provenance"]["inputs"]}
    assert inputs["attributes"] == commits["attributes"]
    names = [e["path"] for e in cli("ls", "inference@old-inputs", "--json").json()["entries"]]
    assert "extra-sample.csv" not in names and "setosa-sample.csv" in names
    assert os.path.exists(ml["root"])


@pytest.mark.slow
@pytest.mark.docker
def test_openlineage_events_name_lakefs_datasets_with_commits(ml: dict[str, Any]) -> None:
    from airflow_pachyderm.spec import load_specs

    commits, namespace = ml["commits"], ml["endpoint"]
    dag_ids = {spec.name: spec.dag_id for spec in load_specs(ML)}
    complete = {}
    for line in ml["events"].read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") == "COMPLETE":  # the first run's, not a later rerun's
            complete.setdefault(event["job"]["name"], event)

    def datasets(event: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
        found = {}
        for item in event[kind]:
            assert item["namespace"] == namespace
            found[item["name"]] = item["facets"]
        return found

    model_commit = complete[f"{dag_ids['model']}.commit"]
    inputs = datasets(model_commit, "inputs")
    assert set(inputs) == {"training/main", "code/main"}
    assert inputs["training/main"]["pachyderm"]["commit"] == commits["training"]
    assert inputs["training/main"]["version"]["datasetVersion"] == commits["training"]
    assert inputs["code/main"]["pachyderm"]["input_name"] == "code"
    outputs = datasets(model_commit, "outputs")
    facet = outputs["model/main"]["pachyderm"]
    assert facet["commit"] == commits["model"] and facet["pipeline"] == "model"
    assert facet["datums"]["processed"] == 1 and len(facet["spec_hash"]) >= 16
    assert facet["_schemaURL"].endswith("PachydermCommitDatasetFacet:1-0-0")

    inference_commit = complete[f"{dag_ids['inference']}.commit"]
    inputs = datasets(inference_commit, "inputs")
    assert inputs["model/main"]["pachyderm"]["commit"] == commits["model"]
    assert inputs["attributes/main"]["pachyderm"]["commit"] == commits["attributes"]
    out = datasets(inference_commit, "outputs")["inference/main"]["pachyderm"]
    assert out["commit"] == commits["inference"] and out["datums"]["processed"] == 3

    plan = complete[f"{dag_ids['inference']}.plan"]
    planned = datasets(plan, "outputs")["inference/main"]["pachyderm"]
    assert planned["commit"] == "" and planned["datums"]["processed"] == 3
    assert datasets(plan, "inputs")["model/main"]["pachyderm"]["commit"] == commits["model"]
