"""A second Docker daemon that cannot see this host's files: a stand-in for a remote one.

It listens on a free loopback TCP port and runs in its own mount namespace with its own
data root, exec root and pidfile. In that namespace an empty tmpfs covers ``hidden`` (the
scratch root the tests and the benchmark put their work directories under), so a bind mount
of a worker directory shows an empty directory in its containers: a runner that bind-mounts
against it produces no outputs. Needs root (unshare, mount, dockerd); used by the tests and
by ``benchmarks/remote_daemon.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60.0


@dataclass
class RemoteDockerd:
    url: str  # tcp://127.0.0.1:<port>
    hidden: Path  # host directory its containers see as an empty tmpfs
    pid: int
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def remote_dockerd(images: list[str], hidden: Path | None = None) -> Iterator[RemoteDockerd]:
    """Start the daemon, copy ``images`` into it from the local daemon, stop it by PID after.

    :param hidden: the host directory to hide from its containers (created; default: a new
        temporary directory).
    :raises RuntimeError: no root, no dockerd, or the daemon did not come up (its log tail).
    """
    for tool in ("dockerd", "unshare", "docker"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"the remote-daemon test needs {tool!r} on PATH")
    if os.geteuid() != 0:
        raise RuntimeError("the remote-daemon test starts a second dockerd: it needs root")
    base = Path(tempfile.mkdtemp(prefix="ap-remote-dockerd-", dir="/var/tmp"))
    hidden = hidden or Path(tempfile.mkdtemp(prefix="ap-remote-hidden-"))
    hidden.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    pidfile = base / "dockerd.pid"
    log = base / "dockerd.log"
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {hidden} && exec dockerd -H {url} "
        f"--data-root {base / 'data'} --exec-root {base / 'exec'} --pidfile {pidfile} "
        "--bridge=none --iptables=false --ip-masq=false"
    )
    with open(log, "wb") as log_fh:
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            stdout=log_fh, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait_up(url, proc, log)
        for image in images:
            save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            subprocess.run(
                ["docker", "-H", url, "load", "-q"], stdin=save.stdout, check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            if save.wait() != 0:
                raise RuntimeError(f"docker save {image} failed")
        yield RemoteDockerd(url, hidden, proc.pid, log)
    finally:
        # `sh -c "... && exec dockerd"`: the process we started *is* dockerd by now.
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


def _wait_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    import docker

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(Exception):
            if docker.APIClient(base_url=url, timeout=5).ping():
                return
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"the second dockerd at {url} did not start:\n{tail}")
