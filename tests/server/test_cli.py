"""``python -m airflow_pachyderm.server``: generated credentials, printed once, are enforced."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

from airflow_pachyderm.server.process import free_port


def test_server_generates_and_enforces_credentials(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKECTL_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_pachyderm.server", "--port", str(port),
         "--data-dir", str(tmp_path / "d"), "--log-level", "warning"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = [process.stderr.readline() for _ in range(3)]
        text = "".join(lines)
        key = re.search(r"LAKECTL_CREDENTIALS_ACCESS_KEY_ID=(\S+)", text).group(1)
        secret = re.search(r"LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=(\S+)", text).group(1)
        url = f"http://127.0.0.1:{port}/api/v1/repositories"
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        deadline = time.monotonic() + 20
        while True:
            try:
                request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
                with urllib.request.urlopen(request) as response:
                    assert response.status == 200
                break
            except urllib.error.URLError as exc:
                if isinstance(exc, urllib.error.HTTPError) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        try:
            urllib.request.urlopen(url)
            raise AssertionError("request without credentials was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        process.terminate()
        process.wait(10)
    assert secret not in process.stderr.read()  # printed once, never again


def test_cli_requires_both_credentials(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "airflow_pachyderm.server", "--data-dir", str(tmp_path),
         "--access-key-id", "only-key"],
        env={k: v for k, v in os.environ.items() if not k.startswith("LAKECTL_")},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "secret access key" in result.stderr
