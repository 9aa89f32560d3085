"""Running the installed ``airflow-pachyderm`` script against a lakeFS server, as users do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_pachyderm.server.process import LakeFSServerProcess


def script() -> list[str]:
    # The console script installed next to this interpreter, as users run it.
    found = shutil.which("airflow-pachyderm", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "airflow_pachyderm"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Cli:
    """``cli("ls", "repo@main")`` runs the script with the server's LAKECTL_* variables."""

    env: dict[str, str]
    cwd: Path

    def __call__(self, *args: str, ok: bool | None = True, timeout: float = 120,
                 env: dict[str, str] | None = None) -> Result:
        done = subprocess.run([*script(), *args], capture_output=True, text=True,
                              timeout=timeout, env={**self.env, **(env or {})}, cwd=self.cwd)
        result = Result(done.returncode, done.stdout, done.stderr)
        if ok is True:
            assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
        return result

    def fails(self, *args: str, expect: str, env: dict[str, str] | None = None) -> str:
        """Run a command that must fail: exit 1, one line naming ``expect``, no traceback."""
        result = self(*args, ok=False, env=env)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert expect in lines[0], lines[0]
        return lines[0]


def cli_env(server: LakeFSServerProcess) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW_PACHYDERM_AIRFLOW_", "LAKECTL_"))}
    return {**env, **server.env()}
