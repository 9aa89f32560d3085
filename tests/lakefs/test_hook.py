"""LakeFSHook as Airflow sees it: connections, the Test button, provider registration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.hook import LakeFSHook


@pytest.fixture
def lakefs_connection(lakefs_server, monkeypatch):
    conn_id = f"lakefs_{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps(
            {
                "conn_type": "lakefs",
                "host": lakefs_server.endpoint,
                "login": lakefs_server.access_key_id,
                "password": lakefs_server.secret_access_key,
                "extra": {"storage_namespace": "local://team-a/{repo}"},
            }
        ),
    )
    return conn_id


def test_hook_reads_its_airflow_connection(lakefs_connection) -> None:
    hook = LakeFSHook(lakefs_conn_id=lakefs_connection)
    client = hook.get_conn()
    assert isinstance(client, LakeFSClient) and not isinstance(hook, LakeFSClient)
    assert hook.get_conn() is client
    repo = f"conn-{uuid.uuid4().hex[:8]}"
    created = client.create_repository(repo)
    assert created.storage_namespace == f"local://team-a/{repo}"
    client.upload(repo, "main", "hello.txt", b"hello")
    commit = client.commit(repo, "main", "hello", metadata={"k": "v"})
    assert client.resolve_ref(repo, "main") == commit.id


def test_test_button_reports_success_and_failure(lakefs_server, lakefs_connection, monkeypatch):
    ok, message = LakeFSHook(lakefs_conn_id=lakefs_connection).test_connection()
    assert ok, message
    assert lakefs_server.endpoint in message

    monkeypatch.setenv(
        "AIRFLOW_CONN_LAKEFS_WRONG",
        json.dumps({"conn_type": "lakefs", "host": lakefs_server.endpoint,
                    "login": lakefs_server.access_key_id, "password": "wrong-secret"}),
    )
    ok, message = LakeFSHook(lakefs_conn_id="lakefs_wrong").test_connection()
    assert not ok
    assert "401" in message or "nauthorized" in message or "credentials" in message.lower()
    assert "wrong-secret" not in message


def test_hook_falls_back_to_lakectl_variables(lakefs_server, monkeypatch) -> None:
    for key, value in lakefs_server.env().items():
        monkeypatch.setenv(key, value)
    hook = LakeFSHook(lakefs_conn_id="no_such_connection")
    hook.get_conn().health_check()
    assert hook.config.base_url == lakefs_server.endpoint


def test_hook_without_connection_or_variables_fails_clearly(monkeypatch) -> None:
    for key in list(os.environ):
        if key.startswith("LAKECTL_"):
            monkeypatch.delenv(key)
    with pytest.raises(Exception, match="no_such_connection"):
        LakeFSHook(lakefs_conn_id="no_such_connection").get_conn().health_check()


def test_ui_field_behaviour_labels_the_form() -> None:
    behaviour = LakeFSHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["host"] == "lakeFS endpoint URL"
    assert behaviour["relabeling"]["login"] == "Access key ID"
    assert behaviour["relabeling"]["password"] == "Secret access key"
    assert "storage_namespace" in behaviour["placeholders"]["extra"]


def _airflow(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        capture_output=True, text=True, timeout=180, env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Airflow may print warnings before the JSON document.
    return next(line for line in result.stdout.splitlines() if line.startswith("["))


@pytest.mark.slow
def test_airflow_lists_the_provider_and_its_connection_type() -> None:
    providers = json.loads(_airflow("providers", "list", "-o", "json"))
    ours = [p for p in providers if p["package_name"] == "airflow-pachyderm"]
    assert ours, [p["package_name"] for p in providers]
    hooks = json.loads(_airflow("providers", "hooks", "-o", "json"))
    lakefs = [h for h in hooks if h.get("connection_type") == "lakefs"]
    assert lakefs and lakefs[0]["class"] == "airflow_pachyderm.lakefs.hook.LakeFSHook"


def test_hook_keeps_airflow_logger_and_its_client_the_lakefs_calls(lakefs_connection) -> None:
    hook = LakeFSHook(lakefs_conn_id=lakefs_connection)
    hook.log.info("the hook's logger is Airflow's")
    repo = f"logs-{uuid.uuid4().hex[:8]}"
    client = hook.get_conn()
    client.create_repository(repo)
    assert [c.message for c in client.log_commits(repo, "main")] == ["Repository created"]
