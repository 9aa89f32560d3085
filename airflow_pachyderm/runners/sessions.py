"""A batch's long-lived container and the two ways of running one transform process in it.

``SupervisorSession`` (images with python3): the container's main process is
``supervisor.py``; each run is a fork/exec inside the container, requested over a fifo.
``ExecSession`` (any image with ``sleep``): each run is a ``docker exec``.
Both give every run its own process, environment and log, and report its exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from airflow_pachyderm.runners.base import RunnerError
from airflow_pachyderm.runners.logs import LineLogger

if TYPE_CHECKING:
    import docker

SUPERVISOR_SOURCE = Path(__file__).with_name("supervisor.py")
CONTROL_DIR = "/.airflow-pachyderm"
JOB_LABEL = "airflow-pachyderm.job"
PIPELINE_LABEL = "airflow-pachyderm.pipeline"
BATCH_LABEL = "airflow-pachyderm.batch"
READY_TIMEOUT_S = 60.0
# Past the supervisor's own timeout handling (TERM, 5 s, KILL), the host gives up on a run.
HOST_GRACE_S = 30.0
KILL_GRACE_S = 5


@dataclass
class RunOutcome:
    exit_code: int | None  # None: the container died, no exit code for the run
    timed_out: bool = False
    error: str | None = None


@dataclass
class ContainerConfig:
    image: str
    user: str
    env: dict[str, str]
    labels: dict[str, str]
    binds: dict[str, dict[str, str]]  # host path -> {"bind": container path, "mode": ro|rw}
    network: bool
    nano_cpus: int | None
    mem_limit: int | None
    cpu_shares: int | None = None
    mem_reservation: int | None = None
    gpus: int = 0
    pids_limit: int | None = None


class Session(Protocol):
    broken: bool

    def run(
        self,
        cmd: list[str],
        env: dict[str, str],
        cwd: str | None,
        stdin: str | None,
        timeout: float | None,
        lines: LineLogger,
    ) -> RunOutcome: ...

    def close(self) -> None: ...


def _create(api: docker.APIClient, cfg: ContainerConfig, entrypoint: list[str], binds: dict) -> str:
    import docker.errors
    import docker.types

    extra: dict = {}
    if cfg.cpu_shares:
        extra["cpu_shares"] = cfg.cpu_shares
    if cfg.mem_reservation:
        extra["mem_reservation"] = cfg.mem_reservation
    if cfg.gpus:
        extra["device_requests"] = [
            docker.types.DeviceRequest(count=cfg.gpus, capabilities=[["gpu"]])
        ]
    host_config = api.create_host_config(
        **extra,
        binds=binds,
        network_mode=None if cfg.network else "none",
        nano_cpus=cfg.nano_cpus,
        mem_limit=cfg.mem_limit,
        # Same as mem_limit: no swap on top, so the limit is a real limit.
        memswap_limit=cfg.mem_limit,
        # The runner removes containers itself, also after crashes (by label).
        auto_remove=False,
        # Safe by default, whatever the user: no fork bombs, no setuid escalation, no
        # capabilities (also for `user: root`, which then cannot chown, mount or ptrace).
        pids_limit=cfg.pids_limit,
        security_opt=["no-new-privileges"],
        cap_drop=["ALL"],
    )
    try:
        created = api.create_container(
            cfg.image,
            entrypoint=entrypoint,
            command=[],
            user=cfg.user,
            environment=cfg.env,
            labels=cfg.labels,
            host_config=host_config,
            stdin_open=False,
            tty=False,
        )
    except docker.errors.ImageNotFound as err:
        raise RunnerError(
            f"image {cfg.image!r} is not available to the Docker daemon: pull or build it "
            "(docker/build-images.sh builds the airflow-pachyderm/* images)"
        ) from err
    except docker.errors.APIError as err:
        if err.is_server_error():
            raise
        # e.g. resourceLimits.cpu above the Docker host's CPU count
        raise RunnerError(
            f"Docker refused the container for image {cfg.image!r}: {err.explanation}"
        ) from err
    return created["Id"]


def remove_container(api: docker.APIClient, container_id: str) -> None:
    import docker.errors

    with contextlib.suppress(docker.errors.NotFound):
        api.remove_container(container_id, force=True, v=True)


def _state(api: docker.APIClient, container_id: str) -> dict:
    import docker.errors

    try:
        return api.inspect_container(container_id)["State"]
    except docker.errors.NotFound:
        return {"Running": False, "ExitCode": None, "OOMKilled": False}


def _death_message(state: dict) -> str:
    message = f"the batch container stopped unexpectedly (exit code {state.get('ExitCode')}"
    if state.get("OOMKilled"):
        message += ", killed for exceeding its memory limit"
    return message + ")"


class SupervisorSession:
    """Runs each transform process through supervisor.py inside one container."""

    def __init__(self, api: docker.APIClient, cfg: ContainerConfig, ctl_dir: Path) -> None:
        self.api = api
        self.broken = False
        self._ctl = ctl_dir
        self._log_path = ctl_dir / "run.log"
        self._seq = 0
        self._buf = b""
        ctl_dir.mkdir(parents=True, exist_ok=True)
        for name in ("cmd", "status"):
            os.mkfifo(ctl_dir / name, 0o666)
            os.chmod(ctl_dir / name, 0o666)  # mkfifo's mode is filtered by the umask
        self._log_path.touch()
        os.chmod(self._log_path, 0o666)
        # O_RDWR: opening never blocks on the other end, and we never see EOF while we hold it.
        self._cmd_fd = os.open(ctl_dir / "cmd", os.O_RDWR)
        self._status_fd = os.open(ctl_dir / "status", os.O_RDWR | os.O_NONBLOCK)
        binds = dict(cfg.binds)
        binds[str(ctl_dir)] = {"bind": f"{CONTROL_DIR}/ctl", "mode": "rw"}
        binds[str(SUPERVISOR_SOURCE)] = {"bind": f"{CONTROL_DIR}/supervisor.py", "mode": "ro"}
        entrypoint = ["python3", "-I", "-u", f"{CONTROL_DIR}/supervisor.py", f"{CONTROL_DIR}/ctl"]
        self.container_id = _create(api, cfg, entrypoint, binds)
        try:
            api.start(self.container_id)
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            reply = self._read_reply(0.5)
            if reply is not None:
                if reply.get("ready"):
                    return
                raise RunnerError(f"supervisor sent {reply!r} instead of ready")
            state = _state(self.api, self.container_id)
            if not state.get("Running"):
                raise _NoPython(_death_message(state))
        raise RunnerError(f"the supervisor did not start within {READY_TIMEOUT_S:.0f} s")

    def _read_reply(self, wait_s: float) -> dict | None:
        if b"\n" not in self._buf:
            ready, _, _ = select.select([self._status_fd], [], [], wait_s)
            if ready:
                with contextlib.suppress(BlockingIOError):
                    self._buf += os.read(self._status_fd, 65536)
        if b"\n" not in self._buf:
            return None
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def run(
        self,
        cmd: list[str],
        env: dict[str, str],
        cwd: str | None,
        stdin: str | None,
        timeout: float | None,
        lines: LineLogger,
    ) -> RunOutcome:
        self._seq += 1
        os.truncate(self._log_path, 0)
        message = {
            "seq": self._seq,
            "cmd": list(cmd),
            "env": env,
            "cwd": cwd,
            "stdin": stdin,
            "timeout": timeout,
            "log": f"{CONTROL_DIR}/ctl/run.log",
        }
        data = (json.dumps(message) + "\n").encode()
        while data:
            data = data[os.write(self._cmd_fd, data) :]
        deadline = None if timeout is None else time.monotonic() + timeout + HOST_GRACE_S
        next_check = time.monotonic() + 1.0
        with open(self._log_path, "rb") as log:
            while True:
                reply = self._read_reply(0.2)
                lines.feed(log.read())
                if reply is not None:
                    if reply.get("seq") != self._seq:
                        self.broken = True
                        return RunOutcome(None, error=f"supervisor answered out of turn: {reply}")
                    lines.feed(log.read())
                    return RunOutcome(
                        reply["exit_code"], bool(reply.get("timed_out")), reply.get("error")
                    )
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + 1.0
                    state = _state(self.api, self.container_id)
                    if not state.get("Running"):
                        self.broken = True
                        return RunOutcome(None, error=_death_message(state))
                if deadline is not None and now > deadline:
                    self.broken = True
                    return RunOutcome(
                        None, timed_out=True, error=f"no answer {HOST_GRACE_S:.0f} s after timeout"
                    )

    def close(self) -> None:
        if hasattr(self, "container_id"):
            remove_container(self.api, self.container_id)
        for fd in (self._cmd_fd, self._status_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class _NoPython(RunnerError):
    """The image cannot run the supervisor (no python3): fall back to ``docker exec``."""


class ExecSession:
    """Runs each transform process with ``docker exec`` in a container that just sleeps."""

    def __init__(self, api: docker.APIClient, cfg: ContainerConfig) -> None:
        import docker.errors

        self.api = api
        self.broken = False
        self._user = cfg.user
        self.container_id = _create(api, cfg, ["sleep", "infinity"], dict(cfg.binds))
        try:
            api.start(self.container_id)
        except docker.errors.APIError as err:
            self.close()
            raise RunnerError(
                f"image {cfg.image!r} has neither python3 nor sleep, so the runner cannot keep "
                f"a container alive in it: {err.explanation or err}"
            ) from err

    def run(
        self,
        cmd: list[str],
        env: dict[str, str],
        cwd: str | None,
        stdin: str | None,
        timeout: float | None,
        lines: LineLogger,
    ) -> RunOutcome:
        from docker.utils.socket import frames_iter

        full_cmd = list(cmd)
        if timeout is not None:
            # coreutils timeout: exit 124 on timeout, KILL after a grace period.
            full_cmd = ["timeout", "-k", str(KILL_GRACE_S), f"{timeout:g}", *full_cmd]
        exec_id = self.api.exec_create(
            self.container_id,
            full_cmd,
            stdout=True,
            stderr=True,
            stdin=stdin is not None,
            environment=env,
            workdir=cwd,
            user=self._user,
        )["Id"]
        sock = self.api.exec_start(exec_id, socket=True)
        raw = getattr(sock, "_sock", sock)
        try:
            if stdin is not None:
                raw.sendall(stdin.encode())
                raw.shutdown(socket.SHUT_WR)
            for _stream, chunk in frames_iter(sock, tty=False):
                lines.feed(chunk)
        finally:
            sock.close()
        info = self.api.exec_inspect(exec_id)
        code = info.get("ExitCode")
        if code is None or info.get("Running"):
            self.broken = True
            return RunOutcome(None, error=_death_message(_state(self.api, self.container_id)))
        if code in (126, 127) and timeout is not None:
            # Could be timeout itself missing from the image.
            return RunOutcome(code, error="command not runnable (is coreutils timeout present?)")
        return RunOutcome(code, timed_out=timeout is not None and code == 124)

    def close(self) -> None:
        if hasattr(self, "container_id"):
            remove_container(self.api, self.container_id)


def open_session(
    api: docker.APIClient, cfg: ContainerConfig, ctl_dir: Path, prefer_supervisor: bool
) -> Session:
    """Start the batch container, with the supervisor when the image can run it."""
    import docker.errors

    try:
        return _open(api, cfg, ctl_dir, prefer_supervisor)
    except docker.errors.APIError as err:
        text = str(err.explanation or err)
        if cfg.gpus and ("device driver" in text or "gpu" in text.lower()):
            raise RunnerError(
                f"resourceLimits.gpu asks for {cfg.gpus} GPU(s), but the Docker daemon cannot "
                f"give GPUs to containers ({text}): install the NVIDIA Container Toolkit on "
                "this worker, run the pipeline on a worker that has it (airflow.pool), or "
                "remove resourceLimits.gpu"
            ) from err
        raise


def _open(
    api: docker.APIClient, cfg: ContainerConfig, ctl_dir: Path, prefer_supervisor: bool
) -> Session:
    import docker.errors

    if prefer_supervisor:
        try:
            return SupervisorSession(api, cfg, ctl_dir)
        except _NoPython:
            # The image has no python3: run each datum with docker exec instead.
            return ExecSession(api, cfg)
        except docker.errors.APIError as err:
            text = str(err.explanation or err)
            if "executable file not found" not in text and "no such file" not in text.lower():
                raise
    return ExecSession(api, cfg)
