"""The ``cli`` fixture: the installed script against the session's lakeFS server."""

from __future__ import annotations

from pathlib import Path

import pytest
from clikit import Cli, cli_env

from airflow_pachyderm.server.process import LakeFSServerProcess


@pytest.fixture
def cli(lakefs_server: LakeFSServerProcess, tmp_path: Path) -> Cli:
    return Cli(cli_env(lakefs_server), tmp_path)
