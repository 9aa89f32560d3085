"""Fixtures for job tests: a lakeFS client on the real server and a job driver."""

from __future__ import annotations

import pytest
from jobkit import JobDriver

from airflow_pachyderm.lakefs import LakeFSClient, LakeFSConfig
from airflow_pachyderm.runners.cache import ContentCache


@pytest.fixture
def lakefs(lakefs_server) -> LakeFSClient:
    client = LakeFSClient(
        LakeFSConfig(
            lakefs_server.endpoint, lakefs_server.access_key_id, lakefs_server.secret_access_key
        )
    )
    yield client
    client.close()


@pytest.fixture
def driver(lakefs, docker_api, tmp_path) -> JobDriver:
    return JobDriver(lakefs, tmp_path / "work", ContentCache(tmp_path / "cache"))


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory):
    """moto's standalone S3 server on 127.0.0.1 for the whole session (see moto_s3.py)."""
    from moto_s3 import moto_s3

    with moto_s3(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws_conn(moto_server, monkeypatch) -> str:
    """The id of an Airflow AWS connection to ``moto_server``."""
    monkeypatch.setenv("AIRFLOW_CONN_EGRESS_S3", moto_server.airflow_connection())
    return "egress_s3"
