"""The peer-suite runner itself: a fresh server, the variables the suites read, the exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).with_name("with_server.py")
PROBE = """
import os, sys, urllib.request
url = os.environ["LAKECTL_SERVER_ENDPOINT_URL"] + "/api/v1/healthcheck"
assert os.environ["STORAGE_NAMESPACE"].startswith("local://")
assert os.environ["LAKECTL_CREDENTIALS_ACCESS_KEY_ID"]
with urllib.request.urlopen(url, timeout=10) as response:
    assert response.status == 204
print(os.environ["LAKECTL_SERVER_ENDPOINT_URL"])
sys.exit(3)
"""


def test_runs_the_command_against_a_fresh_server_and_returns_its_exit_code():
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--", sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    endpoint = done.stdout.strip()
    probe_after = subprocess.run(
        [sys.executable, "-c", f"import urllib.request; urllib.request.urlopen({endpoint!r})"],
        capture_output=True,
        timeout=30,
    )
    assert probe_after.returncode != 0  # the server is gone


def test_without_a_command_it_explains_and_fails():
    done = subprocess.run([sys.executable, str(RUNNER)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "command" in done.stderr
