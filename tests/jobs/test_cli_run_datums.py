"""`airflow-pachyderm run` (real Airflow dag.test, real Docker) and `airflow-pachyderm datums`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jobkit import make_repo, unique

from airflow_pachyderm.jobs.provenance import Provenance

UPPER = 'tr a-z A-Z < "$data" > "/pfs/out/$(basename "$data")"'


def _pipeline_yaml(data_repo: str, name: str, cmd: str = UPPER, extra: str = "") -> str:
    """One pipeline: a datum per top-level file of ``data_repo``, at /pfs/data."""
    return f"""\
pipeline: {{name: {name}}}
input:
  pfs: {{repo: {data_repo}, name: data, glob: "/*"}}
transform:
  image: airflow-pachyderm/python:latest
  cmd: ["sh", "-c", {json.dumps(cmd)}]
{extra}"""


def _spec(tmp_path: Path, data_repo: str, name: str, cmd: str = UPPER) -> Path:
    """That pipeline, and a downstream one counting its outputs."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(_pipeline_yaml(data_repo, name, cmd) + f"""\
---
pipeline: {{name: {name}-count}}
input:
  pfs: {{repo: {name}, name: upstream, glob: "/"}}
transform:
  image: airflow-pachyderm/python:latest
  cmd: ["sh", "-c", "ls /pfs/upstream | wc -l > /pfs/out/count"]
""")
    return path


def _cli(lakefs_server, tmp_path: Path, *args: str, timeout: int = 300):
    env = {**os.environ, **lakefs_server.env(),
           "AIRFLOW_PACHYDERM_RUN_HOME": str(tmp_path / "airflow")}
    # The child prepares its own Airflow home; the test session's settings must not leak.
    for key in [k for k in env if k.startswith("AIRFLOW__") or k == "AIRFLOW_HOME"]:
        del env[key]
    return subprocess.run([sys.executable, "-m", "airflow_pachyderm", *args],
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_run_executes_pipelines_in_order_through_airflow(lakefs, lakefs_server, docker_api,
                                                         tmp_path) -> None:
    data = make_repo(lakefs, {"a.txt": b"alpha", "b.txt": b"beta"}, "data")
    name = unique("cli")
    spec = _spec(tmp_path, data, name)
    result = _cli(lakefs_server, tmp_path, "run", str(spec))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[0] for line in lines] == [name, f"{name}-count"]
    upper_ref = lines[0][1]
    assert upper_ref.startswith(f"{name}@") and lines[0][2] == "main"
    assert lakefs.read_bytes(name, "main", "a.txt") == b"ALPHA"
    assert lakefs.read_bytes(f"{name}-count", "main", "count").strip() == b"2"
    # The downstream job recorded the upstream output commit it read.
    meta = lakefs.get_commit(f"{name}-count", "main").metadata
    prov = Provenance.from_metadata(meta)
    assert prov.input("upstream").ref == upper_ref
    assert meta["airflow.dag_id"] == f"{name}-count"
    assert meta["airflow.run_id"].startswith("manual__")

    # Pinned input, explicit reprocess, side branch: only the first pipeline.
    first_data = lakefs.resolve_ref(data, "main")
    lakefs.upload(data, "main", "c.txt", b"gamma")
    lakefs.commit(data, "main", "c")
    result = _cli(lakefs_server, tmp_path, "run", str(spec), "--pipeline", name,
                  "--input", f"data={first_data}", "--output-branch", "old", "--reprocess", "all")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == [name]
    old = Provenance.from_metadata(lakefs.get_commit(name, "old").metadata)
    assert old.input("data").commit == first_data
    assert old.datums["processed"] == 2
    assert not lakefs.exists(name, "old", "c.txt")


@pytest.mark.slow
def test_run_exits_non_zero_when_a_datum_fails(lakefs, lakefs_server, docker_api,
                                               tmp_path) -> None:
    data = make_repo(lakefs, {"a.txt": b"x"}, "data")
    name = unique("clifail")
    spec = _spec(tmp_path, data, name, cmd="echo boom >&2; exit 7")
    result = _cli(lakefs_server, tmp_path, "run", str(spec), "--pipeline", name)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "boom" in result.stderr and "failed" in result.stderr
    assert not list(lakefs.list_objects(name, "main", prefix="a.txt"))


def test_run_refuses_bad_arguments_before_touching_anything(lakefs_server, tmp_path) -> None:
    spec = _spec(tmp_path, "some-repo", "args")
    bad_input = _cli(lakefs_server, tmp_path, "run", str(spec), "--input", "nope=main")
    assert bad_input.returncode == 2 and "nope" in bad_input.stderr
    bad_pipeline = _cli(lakefs_server, tmp_path, "run", str(spec), "--pipeline", "ghost")
    assert bad_pipeline.returncode == 1 and "ghost" in bad_pipeline.stderr
    bad_mode = _cli(lakefs_server, tmp_path, "run", str(spec), "--reprocess", "sometimes")
    assert bad_mode.returncode == 2 and "sometimes" in bad_mode.stderr
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("pipeline: {name: x1y}\ntranform: {}\n")
    result = _cli(lakefs_server, tmp_path, "run", str(invalid))
    assert result.returncode == 1
    assert f"{invalid}:2:1: tranform" in result.stderr
    assert not (tmp_path / "airflow").exists()


def test_datums_lists_what_a_job_would_do(lakefs, lakefs_server, driver, tmp_path) -> None:
    data = make_repo(lakefs, {"a.txt": b"1", "b.txt": b"2", "c.txt": b"3"}, "data")
    name = unique("dat")
    spec = _spec(tmp_path, data, name)
    result = _cli(lakefs_server, tmp_path, "datums", str(spec), "--pipeline", name, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert sorted(r["files"][0]["path"] for r in rows) == ["a.txt", "b.txt", "c.txt"]
    assert {r["status"] for r in rows} == {"process"}
    commit = lakefs.resolve_ref(data, "main")
    assert all(f["commit"] == commit and f["repo"] == data and f["input"] == "data"
               for r in rows for f in r["files"])

    from airflow_pachyderm.spec import load_specs

    driver.run(next(s for s in load_specs(spec) if s.name == name))
    lakefs.upload(data, "main", "a.txt", b"changed")
    lakefs.delete_object(data, "main", "b.txt")
    lakefs.commit(data, "main", "change a, drop b")
    rows = json.loads(_cli(lakefs_server, tmp_path, "datums", str(spec), "--pipeline", name,
                           "--json").stdout)
    status = {r["files"][0]["path"]: r["status"] for r in rows}
    assert status == {"a.txt": "process", "b.txt": "delete", "c.txt": "skip"}

    table = _cli(lakefs_server, tmp_path, "datums", str(spec), "--pipeline", name)
    assert table.returncode == 0 and "1 to process, 1 to skip, 1 to delete" in table.stdout
    several = _cli(lakefs_server, tmp_path, "datums", str(spec))
    assert several.returncode == 2 and "--pipeline" in several.stderr


@pytest.mark.slow
def test_run_mirrors_the_output_commit_to_the_egress_url(lakefs, lakefs_server, docker_api,
                                                         tmp_path) -> None:
    data = make_repo(lakefs, {"a.txt": b"alpha"}, "data")
    name = unique("cliegress")
    export = tmp_path / "export"
    spec = tmp_path / "egress.yaml"
    spec.write_text(_pipeline_yaml(data, name, extra=f'egress: {{URL: "file://{export}"}}\n'))
    result = _cli(lakefs_server, tmp_path, "run", str(spec))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (export / "a.txt").read_bytes() == b"ALPHA"
    assert not (export / "_pachyderm").exists()
    # A side-branch run is not exported.
    lakefs.upload(data, "main", "b.txt", b"beta")
    lakefs.commit(data, "main", "b")
    result = _cli(lakefs_server, tmp_path, "run", str(spec), "--output-branch", "side")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in export.iterdir()) == ["a.txt"]
