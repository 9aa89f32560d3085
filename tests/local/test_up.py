"""``airflow-pachyderm up`` end to end: a real lakeFS server and real Airflow processes,
logged into with the printed credentials, stopped by SIGINT with nothing left running."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

STARTUP_TIMEOUT = 240.0
ML_DAG_IDS = {"model", "inference"}


def _call(url: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


class Output:
    """The lines ``up`` prints, read on a thread (so that its pipe never fills)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.mark.slow
def test_up_serves_the_example_with_real_logins_and_stops_everything(tmp_path: Path) -> None:
    home = tmp_path / "up"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LAKECTL_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_pachyderm", "up", "--home", str(home), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        text=True, env=env,
    )
    output = Output(process)
    descendants: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Press Ctrl-C" not in output.text():
            assert process.poll() is None, f"up exited early:\n{output.text()}"
            assert time.monotonic() < deadline, f"up did not start in time:\n{output.text()}"
            time.sleep(0.5)
        printed = output.text()
        exports = dict(re.findall(r"^export (AIRFLOW_PACHYDERM_AIRFLOW_\w+)=(\S+)$", printed,
                                  re.MULTILINE))
        url = exports["AIRFLOW_PACHYDERM_AIRFLOW_URL"]
        user = exports["AIRFLOW_PACHYDERM_AIRFLOW_USER"]
        password = exports["AIRFLOW_PACHYDERM_AIRFLOW_PASSWORD"]
        assert url.startswith("http://127.0.0.1:") and f"Airflow UI:  {url}" in printed
        assert f"log in as {user!r} with password {password}" in printed

        passwords = home / "airflow" / "passwords.json"
        assert stat.S_IMODE(passwords.stat().st_mode) == 0o600
        assert json.loads(passwords.read_text())[user] == password
        assert stat.S_IMODE((home / "env.sh").stat().st_mode) == 0o600

        # Nobody is an admin without logging in; a wrong password gets no token.
        assert _call(f"{url}/api/v2/dags")[0] == 401
        assert _call(f"{url}/auth/token", body={"username": user, "password": "wrong"})[0] == 401
        status, answer = _call(f"{url}/auth/token", body={"username": user, "password": password})
        assert status == 201, answer
        token = answer["access_token"]

        while True:
            status, answer = _call(f"{url}/api/v2/dags", token=token)
            assert status == 200, answer
            if {dag["dag_id"] for dag in answer["dags"]} >= ML_DAG_IDS:
                break
            assert time.monotonic() < deadline + 90, f"no example DAGs: {answer}"
            time.sleep(1)
        viewer = json.loads(passwords.read_text())["viewer"]
        status, answer = _call(f"{url}/auth/token",
                               body={"username": "viewer", "password": viewer})
        assert status == 201
        # The viewer reads, but may not trigger.
        assert _call(f"{url}/api/v2/dags", token=answer["access_token"])[0] == 200
        assert _call(f"{url}/api/v2/dags/model/dagRuns", token=answer["access_token"],
                     body={"logical_date": None})[0] == 403

        descendants = {p.pid: p for p in psutil.Process(process.pid).children(recursive=True)}
        assert len(descendants) >= 5, "lakeFS and four Airflow components"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, output.text()
    assert "stopped" in output.text()
    left = [p for p in descendants.values() if p.is_running() and p.status() != "zombie"]
    assert not left, f"still running after up stopped: {left}"
