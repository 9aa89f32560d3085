"""Start the embedded lakeFS-compatible server as a subprocess (tests, benchmarks, demo).

Example::

    with LakeFSServerProcess() as server:
        os.environ.update(server.env())        # LAKECTL_* for lakeFS clients
        client = lakefs.Client(host=server.endpoint,
                               username=server.access_key_id,
                               password=server.secret_access_key)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from airflow_pachyderm.server.cli import ACCESS_KEY_ENV, SECRET_KEY_ENV, generate_credentials


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LakeFSServerProcess:
    """A server subprocess on a free local port, with its own credentials and data directory.

    ``data_dir`` defaults to a new temporary directory, removed by :meth:`close`. The server's
    output goes to ``log_path``.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        log_level: str = "warning",
        startup_timeout: float = 30.0,
    ) -> None:
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="lakefs-server-"))
        self.host = host
        self.port = port or free_port(host)
        if access_key_id is None or secret_access_key is None:
            access_key_id, secret_access_key = generate_credentials()
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.server.log"
        self._process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        """Base URL, without ``/api/v1`` (what ``LAKECTL_SERVER_ENDPOINT_URL`` holds)."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def env(self) -> dict[str, str]:
        return {
            "LAKECTL_SERVER_ENDPOINT_URL": self.endpoint,
            ACCESS_KEY_ENV: self.access_key_id,
            SECRET_KEY_ENV: self.secret_access_key,
        }

    def start(self) -> LakeFSServerProcess:
        if self.running:
            return self
        env = {**os.environ, **self.env()}
        command = [
            sys.executable, "-m", "airflow_pachyderm.server",
            "--host", self.host, "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--log-level", self.log_level,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._wait_until_ready()
        return self

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful shutdown (SIGTERM), then SIGKILL if it does not exit in time."""
        if not self.running:
            return
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def restart(self) -> LakeFSServerProcess:
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> LakeFSServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.endpoint}/api/v1/healthcheck"
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(
                    f"lakeFS-compatible server exited at start-up; see {self.log_path}:\n"
                    + self._log_tail()
                )
            # Not listening yet: keep polling until the deadline.
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(url, timeout=2) as response,
            ):
                if response.status == 204:
                    return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"lakeFS-compatible server did not answer on {url} within {self.startup_timeout}s"
        )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def random_repository_name(prefix: str = "repo") -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
