"""A rerun sends exactly the trigger Params every pipeline DAG declares (dag_factory.params_for)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from airflow_pachyderm.plugins.pipelines import Pipeline
from airflow_pachyderm.plugins.views_rerun import RerunRequest, rerun_conf

PARAMS = frozenset({"input_model", "input_attributes", "output_branch", "reprocess", "datums"})


def request(**fields: str) -> RerunRequest:
    return RerunRequest(repo="inference", commit="c" * 64, output_branch="side", **fields)


def test_one_param_per_input_plus_branch_and_mode() -> None:
    pipeline = Pipeline(dag_id="inference", name="inference", param_names=PARAMS)
    conf = rerun_conf(pipeline, request(), {"model": "m" * 64, "attributes": "a" * 64})
    assert conf == {"input_model": "m" * 64, "input_attributes": "a" * 64,
                    "output_branch": "side", "reprocess": "changed"}


def test_datum_ids_go_with_the_datums_mode() -> None:
    pipeline = Pipeline(dag_id="inference", name="inference", param_names=PARAMS)
    conf = rerun_conf(pipeline, request(reprocess="datums", datums="3a1f,9bc2"), {})
    assert conf["reprocess"] == "datums" and conf["datums"] == "3a1f,9bc2"


def test_an_unknown_reprocess_mode_is_refused() -> None:
    with pytest.raises(ValidationError):
        request(reprocess="everything")
