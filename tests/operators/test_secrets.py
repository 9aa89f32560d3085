"""Secrets named in a spec come from Airflow variables and connections, masked in logs."""

from __future__ import annotations

import json

import pytest

from airflow_pachyderm.operators.process import resolve_secret_files, resolve_secrets
from airflow_pachyderm.spec.models import Secret


def test_secrets_from_variables_and_connection_fields(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_API_TOKEN", "token-from-variable")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "host": "db.internal", "login": "reader",
        "password": "pw-from-connection", "extra": {"region": "eu-1"},
    }))
    env = resolve_secrets([
        Secret(name="api_token", env_var="API_TOKEN"),
        Secret(name="warehouse", env_var="DB_PASSWORD", key="password"),
        Secret(name="warehouse", env_var="DB_USER", key="login"),
        Secret(name="warehouse", env_var="DB_REGION", key="extra.region"),
    ])
    assert env == {
        "API_TOKEN": "token-from-variable",
        "DB_PASSWORD": "pw-from-connection",
        "DB_USER": "reader",
        "DB_REGION": "eu-1",
    }
    from airflow.sdk._shared.secrets_masker import redact

    assert "pw-from-connection" not in str(redact("the password is pw-from-connection"))


def test_unknown_secret_key_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "generic"}))
    with pytest.raises(KeyError, match="has no extra field 'nope'"):
        resolve_secrets([Secret(name="warehouse", env_var="X", key="extra.nope")])
    with pytest.raises(KeyError, match="use password, login"):
        resolve_secrets([Secret(name="warehouse", env_var="X", key="colour")])


def test_file_secrets_from_a_json_variable_and_a_connection_field(monkeypatch) -> None:
    mongo = {"uri": "mongodb://db", "password": "m0ng0-pw"}
    monkeypatch.setenv("AIRFLOW_VAR_MONGOSECRET", json.dumps(mongo))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "password": "pw-file", "extra": {"pgpass": "host:5432:*:u:pw"},
    }))
    secrets = [
        Secret(name="mongosecret", mount_path="/tmp/mongosecret"),
        Secret(name="warehouse", key="password", mount_path="/secrets/warehouse"),
        Secret(name="warehouse", key="extra.pgpass", mount_path="/secrets/warehouse"),
        Secret(name="warehouse", key="login", env_var="DB_USER"),
    ]
    assert resolve_secret_files(secrets) == {
        "/tmp/mongosecret": {"uri": "mongodb://db", "password": "m0ng0-pw"},
        "/secrets/warehouse": {"password": "pw-file", "pgpass": "host:5432:*:u:pw"},
    }
    # Env secrets and file secrets do not mix.
    assert set(resolve_secrets(secrets)) == {"DB_USER"}
    from airflow.sdk._shared.secrets_masker import redact

    assert "m0ng0-pw" not in str(redact("mongo password m0ng0-pw"))


@pytest.mark.parametrize("value", ["plain text", "[1, 2]", "{}", '{"a/b": "x"}'])
def test_mounted_variable_must_be_a_json_object_of_file_names(monkeypatch, value: str) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_BAD", value)
    with pytest.raises(ValueError, match="must be a JSON object of file name -> value"):
        resolve_secret_files([Secret(name="bad", mount_path="/secrets/bad")])


def test_sql_egress_password_from_a_json_variable(monkeypatch) -> None:
    from airflow_pachyderm.operators.egress import sql_password

    monkeypatch.setenv("AIRFLOW_VAR_ANALYTICS_DB", json.dumps({"PACHYDERM_SQL_PASSWORD": "pw"}))
    assert sql_password("analytics_db", "PACHYDERM_SQL_PASSWORD") == "pw"
    with pytest.raises(ValueError, match="must be a JSON object with the entry 'OTHER'"):
        sql_password("analytics_db", "OTHER")
