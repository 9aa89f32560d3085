"""Lineage walks over commits written the way the commit step writes them.

A two-step graph on the real embedded server: ``raw`` (source data) and ``params``
(source) feed ``model``, which with ``raw`` again feeds ``predictions``. The output
commits carry the metadata and manifest the commit step writes (the same functions).
"""

from __future__ import annotations

import io
import secrets

import pytest

from airflow_pachyderm.datums.manifest import (
    MANIFEST_PATH,
    ManifestEntry,
    ManifestInput,
    write_manifest,
)
from airflow_pachyderm.jobs.lineage import LineageError, downstream, upstream
from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.lakefs.provenance import InputCommit, Provenance


def _repo(lakefs, name: str) -> str:
    repo = f"{name}-{secrets.token_hex(4)}"
    lakefs.create_repository(repo, storage_namespace=f"local://{repo}")
    return repo


def _source_commit(lakefs, repo: str, files: dict[str, bytes], message: str) -> str:
    for path, data in files.items():
        lakefs.upload(repo, "main", path, io.BytesIO(data))
    return lakefs.commit(repo, "main", message).id


def _output_commit(
    lakefs, repo: str, pipeline: str, inputs: list[InputCommit], datums: list[ManifestEntry]
) -> str:
    for entry in datums:
        for path in entry.outputs:
            lakefs.upload(repo, "main", path, io.BytesIO(entry.datum_id.encode()))
    buffer = io.BytesIO()
    write_manifest(buffer, datums)
    lakefs.upload(repo, "main", MANIFEST_PATH, io.BytesIO(buffer.getvalue()))
    prov = Provenance(
        pipeline=pipeline,
        job=secrets.token_hex(16),
        spec_hash="f" * 64,
        image="img:1",
        inputs=tuple(inputs),
        datums={"processed": len(datums)},
        manifest_path=MANIFEST_PATH,
    )
    return lakefs.commit(repo, "main", f"{pipeline} job", metadata=prov.to_metadata()).id


@pytest.fixture
def graph(lakefs):
    raw, params = _repo(lakefs, "raw"), _repo(lakefs, "params")
    model, predictions = _repo(lakefs, "model"), _repo(lakefs, "predictions")
    raw_c = _source_commit(lakefs, raw, {"a.csv": b"1\n", "b.csv": b"2\n"}, "data")
    params_c = _source_commit(lakefs, params, {"p.json": b"{}"}, "params")
    model_c = _output_commit(
        lakefs, model, "train",
        [InputCommit("raw", raw, raw_c, "main"), InputCommit("params", params, params_c, "main")],
        [ManifestEntry("1" * 64, "h", (ManifestInput("raw", raw, raw_c, "a.csv"),
                                       ManifestInput("params", params, params_c, "p.json")),
                       ("model.pkl",))],
    )
    pred_c = _output_commit(
        lakefs, predictions, "infer",
        [InputCommit("model", model, model_c, "main"), InputCommit("raw", raw, raw_c, "main")],
        [
            ManifestEntry("2" * 64, "h", (ManifestInput("raw", raw, raw_c, "a.csv"),
                                          ManifestInput("model", model, model_c, "model.pkl")),
                          ("a.pred",)),
            ManifestEntry("3" * 64, "h", (ManifestInput("raw", raw, raw_c, "b.csv"),
                                          ManifestInput("model", model, model_c, "model.pkl")),
                          ("b.pred",)),
        ],
    )
    return {
        "repos": (raw, params, model, predictions),
        "raw": (raw, raw_c), "params": (params, params_c),
        "model": (model, model_c), "predictions": (predictions, pred_c),
    }


def test_upstream_of_a_file_names_its_datum_inputs_and_every_commit_to_the_sources(
    lakefs, graph
):
    predictions, _ = graph["predictions"]
    lineage = upstream(lakefs, predictions, "main", path="/b.pred")

    assert lineage.root.key == graph["predictions"]
    assert set(lineage.nodes) == {graph[k] for k in ("raw", "params", "model", "predictions")}
    edges = {(e.output, e.input, e.input_name) for e in lineage.edges}
    assert edges == {
        (graph["predictions"], graph["model"], "model"),
        (graph["predictions"], graph["raw"], "raw"),
        (graph["model"], graph["raw"], "raw"),
        (graph["model"], graph["params"], "params"),
    }
    assert lineage.file is not None
    assert lineage.file.datum_id == "3" * 64
    assert [(i.repo, i.commit, i.path) for i in lineage.file.inputs] == [
        (*graph["raw"], "b.csv"),
        (*graph["model"], "model.pkl"),
    ]
    as_json = lineage.to_dict()
    assert as_json["file"]["inputs"][0]["path"] == "b.csv"
    by_commit = {n["commit"]: n for n in as_json["nodes"]}
    assert by_commit[graph["model"][1]]["pipeline"] == "train"
    assert by_commit[graph["raw"][1]]["pipeline"] is None
    assert not as_json["truncated"]


def test_depth_stops_the_walk_and_says_so(lakefs, graph):
    lineage = upstream(lakefs, graph["predictions"][0], graph["predictions"][1], depth=1)
    assert graph["params"] not in lineage.nodes  # two steps up
    assert graph["model"] in lineage.nodes
    assert lineage.truncated


def test_downstream_finds_outputs_made_directly_and_through_other_outputs(lakefs, graph):
    lineage = downstream(lakefs, *graph["params"], repos=graph["repos"])
    assert set(lineage.nodes) == {graph["params"], graph["model"], graph["predictions"]}
    assert {(e.output, e.input) for e in lineage.edges} == {
        (graph["model"], graph["params"]),
        (graph["predictions"], graph["model"]),
    }
    direct = downstream(lakefs, *graph["params"], depth=1, repos=graph["repos"])
    assert graph["predictions"] not in direct.nodes and direct.truncated


def test_downstream_of_a_commit_nothing_read_is_just_the_commit(lakefs, graph):
    raw = graph["raw"][0]
    newer = _source_commit(lakefs, raw, {"c.csv": b"3\n"}, "more data")
    lineage = downstream(lakefs, raw, newer, repos=graph["repos"])
    assert list(lineage.nodes) == [(raw, newer)] and lineage.edges == []


def test_a_file_of_source_data_has_no_datum(lakefs, graph):
    lineage = upstream(lakefs, graph["raw"][0], graph["raw"][1], path="a.csv")
    assert lineage.file is not None and lineage.file.datum_id == ""
    assert lineage.to_dict()["file"]["datum_id"] is None


def test_missing_path_ref_and_unwritten_path_are_errors(lakefs, graph):
    predictions, commit = graph["predictions"]
    with pytest.raises(NotFoundError):
        upstream(lakefs, predictions, commit, path="nope.pred")
    with pytest.raises(NotFoundError):
        upstream(lakefs, predictions, "no-such-branch")
    with pytest.raises(LineageError, match="no datum"):
        upstream(lakefs, predictions, commit, path=MANIFEST_PATH)
