"""Checks across pipelines: duplicates, cycles, order."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_pachyderm.spec import PipelineGraph, SpecErrors, load_specs
from airflow_pachyderm.spec.checking import check_paths, load_graph

SPEC = """\
pipeline: {{name: {name}}}
input:
  cross:
{inputs}
transform: {{image: busybox, cmd: ["true"]}}
"""


def pipeline(name: str, *repos: str) -> str:
    inputs = "\n".join(
        f'    - pfs: {{repo: {repo}, name: in_{i}, glob: "/*"}}' for i, repo in enumerate(repos)
    )
    return SPEC.format(name=name, inputs=inputs)


def write(tmp_path: Path, name: str, *docs: str) -> Path:
    path = tmp_path / name
    path.write_text("---\n".join(docs))
    return path


def test_order_upstream_downstream(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "graph.yaml",
        pipeline("report", "scores", "raw"),
        pipeline("scores", "features", "model"),
        pipeline("model", "features"),
        pipeline("features", "raw"),
    )
    graph = PipelineGraph(load_specs(path))
    assert graph.topological_order() == ["features", "model", "scores", "report"]
    assert graph.upstream("scores") == ["features", "model"]
    assert graph.downstream("features") == ["model", "scores"]
    assert graph.upstream("features") == []
    assert graph.downstream("report") == []
    with pytest.raises(KeyError, match="no pipeline named 'nope'"):
        graph.upstream("nope")


def test_cycle_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cycle.yaml",
        pipeline("aaa", "raw", "ccc"),
        pipeline("bbb", "aaa"),
        pipeline("ccc", "bbb"),
        pipeline("ddd", "aaa"),
    )
    with pytest.raises(SpecErrors) as raised:
        PipelineGraph(load_specs(path))
    assert [str(e) for e in raised.value.errors] == [
        f"{path}:5:19: input.cross[1].pfs.repo: pipelines form a cycle (aaa reads ccc, "
        "ccc reads bbb, bbb reads aaa): a pipeline cannot depend on its own output, "
        "directly or through others"
    ]


def test_duplicate_names_across_files_reported_at_both(tmp_path: Path) -> None:
    first = write(tmp_path, "one.yaml", pipeline("same", "raw"))
    second = write(tmp_path, "two.yaml", pipeline("other", "raw"), pipeline("same", "raw"))
    with pytest.raises(SpecErrors) as raised:
        load_graph(tmp_path)
    assert [str(e) for e in raised.value.errors] == [
        f"{first}:1:18: pipeline.name: pipeline 'same' is also defined at {second}:7:18; "
        "pipeline names (and output repos) must be unique",
        f"{second}:7:18: pipeline.name: pipeline 'same' is also defined at {first}:1:18; "
        "pipeline names (and output repos) must be unique",
    ]


def test_graph_errors_reported_with_file_errors(tmp_path: Path) -> None:
    write(tmp_path, "loop.yaml", pipeline("loop", "loop"))
    broken = write(tmp_path, "broken.yaml", pipeline("broken", "raw").replace("busybox", '""'))
    _specs, errors = check_paths(tmp_path)
    assert [(e.file, e.field_path) for e in errors] == [
        (str(broken), "transform.image"),
        (str(tmp_path / "loop.yaml"), "input.cross[0].pfs.repo"),
    ]
