"""The job specification: built once from a validated pipeline spec, frozen, read by engine
and runner."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_pachyderm.datums import CrossInput, PfsLeaf, leaf_inputs
from airflow_pachyderm.jobs.convert import build_job_spec, datum_salt
from airflow_pachyderm.spec.models import PipelineSpec

SPEC = PipelineSpec.from_dict(
    {
        "pipeline": {"name": "edges"},
        "input": {
            "cross": [
                {"pfs": {"repo": "images", "glob": "/*"}},
                {"pfs": {"repo": "model", "glob": "/", "name": "weights"}},
            ]
        },
        "transform": {"image": "python:3.12-slim", "cmd": ["python3", "/code/edges.py"]},
        "datumTries": 2,
    }
)


def test_job_spec_pins_inputs_and_image_for_engine_and_runner() -> None:
    commits = {SPEC.input_key(pfs): f"c-{pfs.name}" for pfs in SPEC.pfs_inputs()}
    job = build_job_spec(SPEC, commits, image_id="sha256:abc")

    assert job.pipeline == "edges"
    assert isinstance(job.tree, CrossInput)
    assert [(leaf.name, leaf.repo, leaf.commit) for leaf in leaf_inputs(job.tree)] == [
        ("images", "images", "c-images"),
        ("weights", "model", "c-weights"),
    ]
    assert all(isinstance(leaf, PfsLeaf) for leaf in leaf_inputs(job.tree))
    assert job.transform.image == "sha256:abc"
    assert job.transform.cmd == ["python3", "/code/edges.py"]
    assert job.transform.datum_tries == 2
    assert job.salt == datum_salt(SPEC, "sha256:abc")
    # Without an image id the runner starts the image by name.
    assert build_job_spec(SPEC, commits).transform.image == "python:3.12-slim"


def test_job_spec_is_frozen() -> None:
    commits = {SPEC.input_key(pfs): "c1" for pfs in SPEC.pfs_inputs()}
    job = build_job_spec(SPEC, commits)
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.salt = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.transform.image = "other"  # type: ignore[misc]


def test_job_spec_needs_a_commit_for_every_input() -> None:
    with pytest.raises(KeyError):
        build_job_spec(SPEC, {})
