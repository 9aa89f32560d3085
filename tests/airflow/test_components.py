"""The provider inside a real Airflow 3 deployment: api-server, scheduler, dag-processor and
triggerer run as processes (see ``airflow_stack``), tasks run real containers, and the data
lives in a real lakeFS-compatible server.

1. The dag-processor turns the ml demo's spec into DAGs and reports a bad spec precisely.
2. The connection form's Test button works for the ``lakefs`` connection type.

Commits triggering pipelines, reproducible runs and the sensors: ``test_triggering.py``.
"""

from __future__ import annotations

import re
import secrets
import time

import pytest
from airflow_stack import AirflowStack
from dag_files import ML_DAG_IDS, TYPO_KEY, DagFiles
from runs import asset_uris, wait_for_parsed_dags

from airflow_pachyderm.server.process import LakeFSServerProcess, free_port

PARSE_TIMEOUT = 90.0


# -- 1. dag-processor ------------------------------------------------------------------------


@pytest.mark.slow
def test_dag_processor_builds_pipeline_dags_and_reports_spec_errors(
    airflow_stack: AirflowStack, dag_files: DagFiles
) -> None:
    deadline = time.monotonic() + PARSE_TIMEOUT
    wait_for_parsed_dags(airflow_stack, ML_DAG_IDS, deadline)
    airflow_stack.wait_for(
        "the dag-processor to record the import error of the broken DAG file",
        lambda: airflow_stack.api("GET", "/api/v2/importErrors")["import_errors"],
        deadline,
    )

    dags = {
        dag["dag_id"]: dag for dag in airflow_stack.cli_json("dags", "list")
        if dag["fileloc"] != str(dag_files.sensors)
    }
    assert set(dags) == set(ML_DAG_IDS), "only the valid file's pipelines become DAGs"
    for dag_id in ML_DAG_IDS:
        assert dags[dag_id]["fileloc"] == str(dag_files.valid)
        assert dags[dag_id]["owners"] == ["ml"]

    # The command exits 1 when there are import errors, as here.
    errors = airflow_stack.cli_json("dags", "list-import-errors", ok_codes=(1,))
    assert [error["filepath"] for error in errors] == [dag_files.broken.name]
    message = errors[0]["error"]
    typo = re.escape(f"{dag_files.broken_spec}:{dag_files.typo_line}:1: {TYPO_KEY}: ")
    assert re.search(rf"^{typo}.*did you mean 'transform'\?", message, re.MULTILINE), message

    details = airflow_stack.api("GET", "/api/v2/dags/inference/details")
    expression = details["asset_expression"]
    assert list(expression) == ["any"], f"any new input commit starts a run: {expression}"
    assert asset_uris(expression) == {
        "lakefs://attributes/main",
        "lakefs://model/main",
        "lakefs://code/main",
    }
    params = details["params"]
    assert set(params) == {
        "input_attributes", "input_model", "input_code", "output_branch", "reprocess", "datums"
    }
    for name, param in params.items():
        assert param["description"], f"param {name} has no description"
    assert params["input_model"]["value"] == ""
    assert params["reprocess"]["schema"]["enum"] == ["changed", "all", "failed", "datums"]
    # A malformed value is refused when the run is triggered: no run starts.
    for conf in ({"reprocess": "sometimes"}, {"input_model": "main~1 x"}, {"datums": "0f3"},
                 {"output_branch": "not a branch"}):
        airflow_stack.api("POST", "/api/v2/dags/inference/dagRuns",
                          {"logical_date": None, "conf": conf}, expect=400)
    assert airflow_stack.api("GET", "/api/v2/dags/inference/dagRuns")["dag_runs"] == []
    # The REST API wants a login; a viewer reads but may not trigger.
    airflow_stack.api("GET", "/api/v2/dags/inference", user=None, expect=401)
    airflow_stack.api("GET", "/api/v2/dags/inference", user="viewer")
    airflow_stack.api("POST", "/api/v2/dags/inference/dagRuns", {"logical_date": None},
                      user="viewer", expect=403)
    assert params["output_branch"]["value"] == "main"
    assert params["reprocess"]["value"] == "changed"

    model = airflow_stack.api("GET", "/api/v2/dags/model/details")
    assert asset_uris(model["asset_expression"]) == {
        "lakefs://training/main",
        "lakefs://code/main",
    }


# -- 2. Test button of the connection form ---------------------------------------------------


@pytest.mark.slow
def test_connection_test_button_checks_lakefs_credentials(
    airflow_stack: AirflowStack, demo_lakefs: LakeFSServerProcess
) -> None:
    connection = {
        "connection_id": "lakefs_form",
        "conn_type": "lakefs",
        "host": demo_lakefs.endpoint,
        "login": demo_lakefs.access_key_id,
        "password": demo_lakefs.secret_access_key,
    }
    accepted = airflow_stack.api("POST", "/api/v2/connections/test", connection)
    assert accepted["status"] is True, accepted
    assert demo_lakefs.endpoint in accepted["message"]

    wrong_secret = f"wrong-{secrets.token_hex(12)}"
    rejected = airflow_stack.api(
        "POST", "/api/v2/connections/test", {**connection, "password": wrong_secret}
    )
    assert rejected["status"] is False, rejected
    assert "401" in rejected["message"], rejected
    for secret in (wrong_secret, demo_lakefs.secret_access_key):
        assert secret not in rejected["message"]

    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = airflow_stack.api(
        "POST", "/api/v2/connections/test", {**connection, "host": nowhere}
    )
    assert unreachable["status"] is False, unreachable
    assert nowhere in unreachable["message"], "the message names the endpoint it tried"
