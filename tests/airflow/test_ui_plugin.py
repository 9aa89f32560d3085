"""The UI plugin in a real deployment: who may see and do what, and every page's content.

The session's deployment runs the ml demo; this module's fixture gives it some history
(a first model and inference, then a retraining on relabelled data and its inference).
Users: ``admin``, ``viewer`` (reads every DAG, triggers none) and ``outsider`` (logged in,
no role: reads nothing), from the fixture's simple auth manager.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from airflow_stack import AirflowStack, ComponentError
from dag_files import ML_DAG_IDS, ML_DEMO
from demo_data import ingest_demo
from docker.errors import DockerException
from runs import (
    PIPELINES_TIMEOUT,
    input_commits,
    remove_leftover_containers,
    settle,
    wait_for_parsed_dags,
    wait_ml_caught_up,
)
from ui_client import call

from airflow_pachyderm.lakefs import LakeFSClient
from airflow_pachyderm.plugins.html import seg

pytestmark = [pytest.mark.slow, pytest.mark.docker]


@dataclass(frozen=True)
class History:
    """Commits of the ml demo before and after a retraining on relabelled data."""

    stack: AirflowStack
    lakefs: LakeFSClient
    old_inference: str
    old_model: str
    new_model: str
    training_v1: str


def relabelled_iris() -> bytes:
    """The iris data set with its species rotated: a model that predicts differently."""
    lines = (ML_DEMO / "data" / "iris.csv").read_text().splitlines()
    species = sorted({line.rsplit(",", 1)[1] for line in lines[1:]})
    rotate = dict(zip(species, species[1:] + species[:1], strict=True))
    rows = [f"{line.rsplit(',', 1)[0]},{rotate[line.rsplit(',', 1)[1]]}" for line in lines[1:]]
    return ("\n".join([lines[0], *rows]) + "\n").encode()


@pytest.fixture(scope="module")
def history(
    airflow_stack: AirflowStack, lakefs: LakeFSClient, docker_api: Any
) -> Iterator[History]:
    stack = airflow_stack
    wait_for_parsed_dags(stack, ML_DAG_IDS, time.monotonic() + 90)
    if not lakefs.repository_exists("training"):  # else an earlier module ingested it
        ingest_demo(lakefs)
    for dag_id in ML_DAG_IDS:
        stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    try:
        deadline = time.monotonic() + PIPELINES_TIMEOUT
        wait_ml_caught_up(stack, lakefs, deadline)
        settle(stack, ML_DAG_IDS, deadline)
        old_inference = lakefs.resolve_ref("inference", "main")
        old_model = lakefs.resolve_ref("model", "main")
        training_v1 = input_commits(lakefs, "model", old_model)["training"]
        lakefs.upload("training", "main", "iris.csv", relabelled_iris())
        lakefs.commit("training", "main", "relabelled iris")
        deadline = time.monotonic() + PIPELINES_TIMEOUT
        stack.wait_for(
            "inference with the retrained model",
            lambda: lakefs.resolve_ref("model", "main") != old_model
            and input_commits(lakefs, "inference", "main").get("model")
            == lakefs.resolve_ref("model", "main"),
            deadline,
        )
        settle(stack, ML_DAG_IDS, deadline)
        yield History(stack, lakefs, old_inference, old_model,
                      lakefs.resolve_ref("model", "main"), training_v1)
    finally:
        with contextlib.suppress(ComponentError, OSError, DockerException):
            for dag_id in ML_DAG_IDS:
                stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})
            remove_leftover_containers(stack, docker_api)


# -- security -------------------------------------------------------------------------


def read_routes(h: History) -> list[str]:
    commit = h.old_inference
    return [
        "/pachyderm/",
        "/pachyderm/dags/inference",
        "/pachyderm/repos/inference/commits",
        f"/pachyderm/repos/inference/commits/{commit}",
        f"/pachyderm/repos/inference/tree/{commit}",
        f"/pachyderm/lineage/inference/{commit}",
        f"/pachyderm/repos/training/raw/{h.training_v1}?path=iris.csv",
        "/pachyderm/static/app.js",
    ]


def test_every_route_refuses_anonymous_callers(history: History) -> None:
    routes = [*read_routes(history), f"/pachyderm/rerun/inference/{history.old_inference}"]
    for path in routes:
        status, _ = call(history.stack, "GET", path, user=None)
        assert status == 401, path
    body = {"repo": "inference", "commit": history.old_inference, "output_branch": "x"}
    assert call(history.stack, "POST", "/pachyderm/api/rerun", user=None, body=body)[0] == 401


def test_reading_needs_read_access_to_the_dag(history: History) -> None:
    for path in read_routes(history)[1:-1]:  # the index and static files: any logged-in user
        assert call(history.stack, "GET", path, user="outsider")[0] == 403, path
        assert call(history.stack, "GET", path, user="viewer")[0] == 200, path
    status, page = call(history.stack, "GET", "/pachyderm/", user="outsider")
    assert status == 200
    assert b"/pachyderm/dags/inference" not in page  # lists no pipeline it may not read


def test_a_viewer_cannot_rerun(history: History) -> None:
    rerun_page = f"/pachyderm/rerun/inference/{history.old_inference}"
    assert call(history.stack, "GET", rerun_page, user="viewer")[0] == 403
    body = {"repo": "inference", "commit": history.old_inference,
            "output_branch": "viewer-tries", "inputs": {}}
    status, answer = call(history.stack, "POST", "/pachyderm/api/rerun", user="viewer", body=body)
    assert status == 403, answer
    assert not history.lakefs.branch_exists("inference", "viewer-tries")


def test_rerun_refuses_a_bad_branch_name_before_triggering(history: History) -> None:
    body = {"repo": "inference", "commit": history.old_inference,
            "output_branch": "-no good", "inputs": {}}
    status, answer = call(history.stack, "POST", "/pachyderm/api/rerun", user="admin", body=body)
    assert status == 422
    assert b"output_branch" in answer


def test_airflow_lists_the_views_in_its_navigation_and_on_dags(history: History) -> None:
    plugins = history.stack.api("GET", "/api/v2/plugins")["plugins"]
    (plugin,) = [p for p in plugins if p["name"] == "pachyderm"]
    views = {v["destination"]: v for v in plugin["external_views"]}
    assert views["nav"]["href"] == "/pachyderm/"
    assert views["dag"]["href"] == "/pachyderm/dags/{DAG_ID}"


# -- content --------------------------------------------------------------------------


def page_text(h: History, path: str) -> str:
    status, body = call(h.stack, "GET", path, user="admin")
    assert status == 200, body[:2000]
    return body.decode()


def test_commits_page_shows_provenance_of_output_commits(history: History) -> None:
    h = history
    text = page_text(h, "/pachyderm/repos/inference/commits")
    assert h.old_inference[:12] in text
    assert f"model@{h.old_model[:12]}" in text and f"model@{h.new_model[:12]}" in text
    assert "python-sklearn" in text  # the image
    assert "/dags/inference/runs/" in text  # run links


def test_commit_page_shows_which_runs_used_it(history: History) -> None:
    text = page_text(history, f"/pachyderm/repos/model/commits/{history.old_model}")
    assert f"inference@{history.old_inference[:12]}" in text


def test_download_streams_the_file_through_the_plugin(history: History) -> None:
    h = history
    status, body = call(h.stack, "GET",
                        f"/pachyderm/repos/training/raw/{h.training_v1}?path=iris.csv",
                        user="viewer")
    assert status == 200
    assert body == (ML_DEMO / "data" / "iris.csv").read_bytes()


def test_lineage_of_a_file_names_its_datum_and_input_files(history: History) -> None:
    h = history
    files = [o.path for o in h.lakefs.list_objects("inference", h.old_inference)
             if not o.path.startswith(("_pachyderm/", "."))]
    path = files[0]
    text = page_text(h, f"/pachyderm/lineage/inference/{h.old_inference}?path={seg(path)}")
    assert "Datum" in text and "input-file" in text
    assert f"training@{h.training_v1[:12]}" in text  # two steps up


# -- in a real browser ----------------------------------------------------------------

SCREENSHOTS = ML_DEMO.parents[1] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through its chromedriver (nothing downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1440,1000", "--no-first-run"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_browse_walk_lineage_and_rerun_in_a_browser(history: History, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    h, driver = history, browser
    base = h.stack.base_url
    wait = WebDriverWait(driver, 60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    # Log in through Airflow's own login form.
    driver.get(f"{base}/auth/login/")
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(h.stack.passwords["admin"])
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.get_cookie("_token") is not None)

    # The plugin inside Airflow: its navigation entry, and a tab on each pipeline DAG.
    for route, heading, name in (
        ("/plugin/pachyderm", "Pipelines", "airflow-navigation"),
        ("/dags/inference/plugin/pachyderm-dag", "Pipeline inference", "airflow-dag-tab"),
    ):
        driver.get(base + route)
        wait.until(ec.frame_to_be_available_and_switch_to_it((By.TAG_NAME, "iframe")))
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), heading))
        driver.switch_to.default_content()
        shot(name)

    # Pipelines -> the inference output's commits.
    driver.get(f"{base}/pachyderm/")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.graph")))
    assert "inference" in driver.find_element(By.CSS_SELECTOR, "table.pipelines").text
    shot("pipelines")
    driver.find_element(By.LINK_TEXT, "inference@main").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.commits")))
    shot("commits")

    # The old inference's files, one previewed.
    driver.get(f"{base}/pachyderm/repos/inference/tree/{h.old_inference}")
    files = wait.until(ec.presence_of_all_elements_located((By.CSS_SELECTOR, "a.file")))
    shot("files")
    files[0].click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.csv, pre.preview")))
    shot("file-preview")

    # The file's lineage, walked upstream by clicking graph nodes: model, then training.
    driver.find_element(By.LINK_TEXT, "Lineage of this file").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.file-inputs")))
    shot("lineage")
    driver.find_element(By.CSS_SELECTOR, f'g.node[data-id="model@{h.old_model}"]').click()
    wait.until(ec.title_contains(f"model@{h.old_model[:12]}"))
    driver.find_element(By.CSS_SELECTOR, f'g.node[data-id="training@{h.training_v1}"]').click()
    wait.until(ec.title_contains(f"training@{h.training_v1[:12]}"))
    assert "source data" in driver.find_element(By.CSS_SELECTOR, "table.lineage").text

    # Rerun the old inference with the current model into a side branch.
    driver.get(f"{base}/pachyderm/rerun/inference/{h.old_inference}")
    model = Select(wait.until(ec.presence_of_element_located((By.NAME, "input_model"))))
    assert model.first_selected_option.get_attribute("value") == h.old_model
    model.select_by_value(h.new_model)
    branch = driver.find_element(By.NAME, "output_branch")
    branch.clear()
    branch.send_keys("bad name")
    wait.until(ec.text_to_be_present_in_element((By.ID, "branch-check"), "letters, digits"))
    branch.clear()
    branch.send_keys("rerun-with-current-model")
    wait.until(ec.text_to_be_present_in_element((By.ID, "branch-check"), "ok"))
    shot("rerun")
    driver.find_element(By.ID, "rerun-with").click()
    wait.until(ec.presence_of_element_located((By.ID, "run-state")))
    shot("rerun-progress")
    WebDriverWait(driver, PIPELINES_TIMEOUT).until(ec.url_contains("/pachyderm/diff/"))
    wait.until(ec.presence_of_element_located((By.ID, "new-commit")))
    shot("diff")

    new = h.lakefs.resolve_ref("inference", "rerun-with-current-model")
    assert new[:12] in driver.find_element(By.ID, "new-commit").text
    pinned = input_commits(h.lakefs, "inference", new)
    assert pinned["model"] == h.new_model
    assert pinned["attributes"] == input_commits(h.lakefs, "inference", h.old_inference)[
        "attributes"]
    # The relabelled model predicts other species: the predictions changed.
    assert "changed" in driver.find_element(By.CSS_SELECTOR, "table.diff").text
    assert driver.find_elements(By.CSS_SELECTOR, ".side-by-side table.csv")


# -- the same rerun from the command line -------------------------------------------------


def test_cli_rerun_triggers_the_dag_in_airflow_and_reports_its_commit(
    history: History, demo_lakefs: Any
) -> None:
    """``airflow-pachyderm rerun`` with a deployment configured: the run goes through
    Airflow (it shows in the UI, with the Params' conf), and its commit pins the old model
    given by a 12-hex prefix."""
    h = history
    env = {
        **os.environ,
        "AIRFLOW_PACHYDERM_AIRFLOW_URL": h.stack.base_url,
        "AIRFLOW_PACHYDERM_AIRFLOW_USER": h.stack.admin,
        "AIRFLOW_PACHYDERM_AIRFLOW_PASSWORD": h.stack.passwords[h.stack.admin],
        "LAKECTL_SERVER_ENDPOINT_URL": demo_lakefs.endpoint,
        "LAKECTL_CREDENTIALS_ACCESS_KEY_ID": demo_lakefs.access_key_id,
        "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY": demo_lakefs.secret_access_key,
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow-pachyderm"), "rerun", "inference",
         "--input", f"model={h.old_model[:12]}", "--output-branch", "cli-rerun-old-model",
         "--specs", str(ML_DEMO / "pipelines.yaml"), "--timeout", str(PIPELINES_TIMEOUT),
         "--json"],
        env=env, capture_output=True, text=True, timeout=PIPELINES_TIMEOUT + 60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    assert answer["state"] == "success", answer
    assert answer["conf"] == {"input_model": h.old_model[:12],
                              "output_branch": "cli-rerun-old-model", "reprocess": "changed"}
    run = h.stack.api("GET", f"/api/v2/dags/inference/dagRuns/{quote(answer['run_id'])}")
    assert run["conf"] == answer["conf"] and run["state"] == "success"
    output = h.lakefs.resolve_ref("inference", "cli-rerun-old-model")
    assert answer["output_commit"] == output
    assert input_commits(h.lakefs, "inference", output)["model"] == h.old_model
