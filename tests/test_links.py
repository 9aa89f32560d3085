"""Addresses of the provider's pages, and the pipeline tasks' extra links and labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_pachyderm import load_pipelines
from airflow_pachyderm.datums import Datum
from airflow_pachyderm.datums.model import DatumFile
from airflow_pachyderm.datums.plan import PlannedDatum
from airflow_pachyderm.jobs.plan import batch_label
from airflow_pachyderm.links import PLUGIN_PREFIX, commits_url, files_url, lineage_url

ML_SPECS = Path(__file__).resolve().parents[1] / "dags_examples" / "ml" / "pipelines.yaml"


@pytest.fixture(autouse=True)
def base_url(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://127.0.0.1:8080/")
    return "http://127.0.0.1:8080"


def test_page_addresses(base_url: str) -> None:
    assert PLUGIN_PREFIX == "/pachyderm"
    assert commits_url("model", "main~1") == f"{base_url}/pachyderm/repos/model/commits/main~1"
    assert files_url("inference", "0f3a") == f"{base_url}/pachyderm/repos/inference/tree/0f3a"
    assert (files_url("inference", "0f3a", "/out dir/x/")
            == f"{base_url}/pachyderm/repos/inference/tree/0f3a?path=out+dir%2Fx")
    assert (lineage_url("inference", "0f3a")
            == f"{base_url}/pachyderm/lineage/inference/0f3a?direction=up")


def test_tasks_have_extra_links_and_batch_labels(base_url: str) -> None:
    dag = load_pipelines(ML_SPECS)["inference"]
    plan = dag.get_task("plan")
    assert {link.name for link in plan.operator_extra_links} == {
        "input attributes", "input model", "input code"
    }
    commit = dag.get_task("commit")
    assert {link.name for link in commit.operator_extra_links} == {
        "output commit", "job files", "lineage"
    }
    # A link shows what the task found while it ran; nothing before that.
    link = next(link for link in commit.operator_extra_links if link.name == "job files")
    assert link.get_link(commit, ti_key=None) == ""
    commit.pachyderm_links["job_files"] = files_url("inference", "0f3a")
    assert link.get_link(commit, ti_key=None) == f"{base_url}/pachyderm/repos/inference/tree/0f3a"
    assert "label" in dag.get_task("process").map_index_template


def test_batch_label_names_first_file_and_size() -> None:
    def planned(path: str) -> PlannedDatum:
        file = DatumFile("images", "images", "c0ffee", path, "etag", 1, path)
        return PlannedDatum(Datum("a" * 64, (file,)), "h", None, "new")

    assert batch_label(3, [planned("cats/1.png")], 25) == "3: cats/1.png +24 (25 datums)"
    assert batch_label(0, [planned("one.csv")], 1) == "0: one.csv (1 datum)"
    long = batch_label(1, [planned("d/" * 40 + "x.png")], 2)
    assert long.startswith("1: ...") and long.endswith("x.png +1 (2 datums)")
