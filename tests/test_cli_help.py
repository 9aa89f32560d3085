"""Every subcommand of airflow-pachyderm answers --help, through the installed script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_pachyderm.cli import SUBCOMMANDS


def _script() -> list[str]:
    # The console script installed next to this interpreter, as users run it.
    script = shutil.which("airflow-pachyderm", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "airflow_pachyderm"]


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_subcommand_help(command: str) -> None:
    result = subprocess.run([*_script(), command, "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"airflow-pachyderm {command}" in result.stdout
    assert SUBCOMMANDS[command][1] in result.stdout


def test_top_level_help_lists_every_subcommand() -> None:
    result = subprocess.run([sys.executable, "-m", "airflow_pachyderm", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in SUBCOMMANDS:
        assert command in result.stdout
