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
