"""A spec reaches the tasks as ``to_dict()`` and comes back with ``from_dict()``: what the
user left unset must stay unset (batching depends on it)."""

from __future__ import annotations

from airflow_pachyderm.spec.loader import spec_from_data
from airflow_pachyderm.spec.models import PipelineSpec

BASE = {
    "pipeline": {"name": "edges"},
    "transform": {"image": "python:3.12-slim", "cmd": ["python3", "/code/edges.py"]},
    "input": {"pfs": {"repo": "images", "glob": "/*"}},
    "parallelismSpec": {"constant": 2},
}


def test_unset_datum_set_spec_stays_unset_so_batches_follow_parallelism() -> None:
    spec = spec_from_data(dict(BASE), file="edges.yaml")
    again = PipelineSpec.from_dict(spec.to_dict())
    assert spec.datum_set_spec is None and again.datum_set_spec is None
    assert again.spec_hash() == spec.spec_hash()


def test_a_given_datum_set_spec_survives_the_round_trip() -> None:
    spec = spec_from_data({**BASE, "datumSetSpec": {"number": 7}}, file="edges.yaml")
    again = PipelineSpec.from_dict(spec.to_dict())
    assert again.datum_set_spec is not None and again.datum_set_spec.number == 7
