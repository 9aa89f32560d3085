"""moto's standalone S3 server on a free loopback port, as a context manager.

Used by the S3 egress tests (a session fixture) and by ``benchmarks/egress.py``. The server
process is ours: it is stopped by PID.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60.0
# moto accepts any credentials; these are the ones the tests' Airflow connection carries.
ACCESS_KEY = "egress-test-key"
SECRET_KEY = "egress-test-secret"


@dataclass
class MotoS3:
    endpoint: str
    pid: int

    def airflow_connection(self) -> str:
        """An ``AIRFLOW_CONN_*`` value: an AWS connection to this server."""
        return json.dumps({
            "conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY,
            "extra": {"endpoint_url": self.endpoint, "region_name": "us-east-1"},
        })  # fmt: skip

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_s3(log_dir: Path) -> Iterator[MotoS3]:
    """Start ``moto_server`` on 127.0.0.1; stop it (by PID) on exit.

    :raises RuntimeError: moto is not installed or the server did not answer in time.
    """
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if exe is None:
        raise RuntimeError("moto_server is missing: install the test extra (moto[server])")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = log_dir / "moto.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=fh,
                                stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not start: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.2)
        yield MotoS3(endpoint, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
