"""Fixtures for the hardening tests (see rawhttp.py for the client)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rawhttp import RawClient

from airflow_pachyderm.server.process import LakeFSServerProcess


@pytest.fixture
def raw(lakefs_server: LakeFSServerProcess) -> Iterator[RawClient]:
    client = RawClient(lakefs_server)
    yield client
    client.close()
