"""A lean local Airflow 3 deployment of real processes: api-server, scheduler, dag-processor,
triggerer (LocalExecutor, SQLite), plus the ``airflow`` CLI and the REST API against them.

``airflow-pachyderm up`` and the tests' fixture both start it. Everything is isolated in one
AIRFLOW_HOME, binds 127.0.0.1 only, and runs with ``sys.executable -m airflow`` so that the
caller's own virtualenv is used. Users log in through the simple auth manager with generated
passwords kept in a file only the owner can read (``passwords.json`` in the home); nobody is
an admin without logging in. Every wait has a deadline; a failure message carries the end of
each component's log.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from airflow_pachyderm.errors import PachydermError
from airflow_pachyderm.server.process import free_port

T = TypeVar("T")

COMPONENTS: dict[str, list[str]] = {
    "api-server": ["api-server", "--host", "127.0.0.1", "--workers", "1"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
# The health endpoint's names for the components that report a heartbeat.
HEALTH_KEYS = {
    "scheduler": "scheduler",
    "dag-processor": "dag_processor",
    "triggerer": "triggerer",
}
# The simple auth manager's login: username and password in, a JWT out.
TOKEN_PATH = "/auth/token"
SIMPLE_AUTH_MANAGER = (
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
)
# Username -> role of the simple auth manager: one who may do everything, one who may read.
DEFAULT_USERS: dict[str, str] = {"admin": "admin", "viewer": "viewer"}
PASSWORDS_FILE = "passwords.json"


class ComponentError(PachydermError, AssertionError):
    """An Airflow component died, timed out or answered unexpectedly (with its logs).

    Also an ``AssertionError``: in tests it reads as the failed expectation it is.
    """

    retryable = False


def ensure_passwords(path: Path, usernames: Iterable[str]) -> dict[str, str]:
    """The passwords file of the simple auth manager (JSON, username -> password), with a
    generated password for every user it lacks; readable by its owner only (mode 0600).

    :raises ValueError: the file exists but is not a JSON object.
    """
    passwords: dict[str, str] = {}
    if path.exists():
        loaded = json.loads(path.read_text() or "{}")
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a JSON object of username -> password")
        passwords = {str(k): str(v) for k, v in loaded.items()}
    missing = [name for name in usernames if name not in passwords]
    for name in missing:
        passwords[name] = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with 0600 (no window where others may read it), and narrowed if it existed.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        if missing or not path.stat().st_size:
            handle.truncate(0)
            json.dump(passwords, handle, indent=2)
    os.chmod(path, 0o600)
    return passwords


def lakefs_connection_env(
    endpoint: str, access_key_id: str, secret_access_key: str, conn_id: str = "lakefs_default"
) -> dict[str, str]:
    """The environment variable defining Airflow connection ``conn_id`` to a lakeFS server."""
    connection = {
        "conn_type": "lakefs",
        "host": endpoint,
        "login": access_key_id,
        "password": secret_access_key,
    }
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(connection)}


class AirflowStack:
    """One isolated Airflow deployment made of real processes.

    :param home: AIRFLOW_HOME (created); the DAGs folder is ``home/dags`` unless given.
    :param extra_env: more environment for every process (connections, config).
    :param port: the api-server's port on 127.0.0.1 (default: a free one).
    :param users: username -> simple auth manager role (``admin``, ``op``, ``user``,
        ``viewer``); their passwords are generated into ``home/passwords.json``.
    :param dags_folder: where the DAG files are (default ``home/dags``).
    """

    def __init__(
        self,
        home: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        users: Mapping[str, str] = DEFAULT_USERS,
        dags_folder: Path | None = None,
    ) -> None:
        self.home = home
        self.dags_folder = dags_folder or home / "dags"
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(extra_env or {})
        self.users = dict(users)
        self.passwords_file = home / PASSWORDS_FILE
        # Signs the API's tokens; every component (and any added worker) needs the same one.
        self.jwt_secret = secrets.token_urlsafe(32)
        self._access_tokens: dict[str, str] = {}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        self.passwords = ensure_passwords(self.passwords_file, self.users)

    @property
    def admin(self) -> str:
        """The first user with the admin role (the one REST calls use by default)."""
        return next(name for name, role in self.users.items() if role == "admin")

    def pids(self) -> dict[str, int]:
        """Component name -> pid of its process (the leader of its process group)."""
        return {name: process.pid for name, process in self._processes.items()}

    # -- environment and lifecycle --------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of every Airflow process: none of the test process's Airflow or
        lakeFS settings leak in (the root conftest sets some for in-process tests)."""
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AIRFLOW", "LAKECTL_"))
        }
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                # Real logins: users with roles, passwords in a file only we can read.
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                    f"{name}:{role}" for name, role in self.users.items()
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                # Task processes reach the Execution API here; the default is localhost:8080.
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def migrate(self, timeout: float = 120.0) -> None:
        self.cli("db", "migrate", timeout=timeout)

    def start(self, components: Iterable[str] = COMPONENTS) -> None:
        for name in components:
            if name in self._processes:
                continue
            with self.log_path(name).open("ab") as log:
                # A new session per component, so that stopping it reaches its children
                # (the LocalExecutor's workers, the api-server's uvicorn worker).
                self._processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "airflow", *self.command(name)],
                    env=self.component_env(name),
                    cwd=self.home,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )

    def command(self, name: str) -> list[str]:
        """The ``airflow`` arguments that start component ``name`` (subclasses add more,
        e.g. Celery workers)."""
        return COMPONENTS[name]

    def component_env(self, name: str) -> dict[str, str]:
        """The environment of component ``name`` (the same for all here)."""
        return self.env()

    def pid(self, name: str) -> int:
        """The process id of a running component (also its process group id)."""
        return self._processes[name].pid

    def stop(self, timeout: float = 30.0, components: Iterable[str] | None = None) -> None:
        """SIGTERM the components' process groups (default: all), then SIGKILL what is left."""
        names = list(self._processes) if components is None else list(components)
        processes = [self._processes[name] for name in names if name in self._processes]
        for process in processes:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in processes:
            while _exit_status(process) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            # The leader is not reaped yet, so its group id still names only our processes;
            # this also reaches children that would outlive it (task workers).
            _signal_group(process, signal.SIGKILL)
            process.wait()
        for name in names:
            self._processes.pop(name, None)

    def restart(self, name: str, deadline: float) -> None:
        """Stop one component and start it again (a new process, same log file)."""
        self.stop(components=[name])
        self.start([name])
        self.wait_healthy(deadline)

    def log_path(self, name: str) -> Path:
        return self.home / f"{name}.log"

    def check_alive(self) -> None:
        for name, process in self._processes.items():
            status = _exit_status(process)
            if status is not None:
                raise ComponentError(
                    f"airflow {name} exited with code {status}\n{self.diagnostics()}"
                )

    def diagnostics(self, lines: int = 25) -> str:
        """The end of every component's log, for failure messages."""
        parts = []
        for name, process in self._processes.items():
            status = _exit_status(process)
            state = "running" if status is None else f"exit {status}"
            parts.append(f"--- airflow {name} (pid {process.pid}, {state}) ---")
            parts.append(tail(self.log_path(name), lines))
        return "\n".join(parts)

    # -- waiting --------------------------------------------------------------------------

    def wait_for(
        self,
        what: str,
        probe: Callable[[], T | None],
        deadline: float,
        interval: float = 1.0,
        stop: Callable[[], bool] | None = None,
    ) -> T | None:
        """Poll ``probe`` until it returns a truthy value or ``deadline`` (monotonic) passes;
        ``None`` when ``stop()`` says to give up first."""
        last_error = ""
        while True:
            if stop is not None and stop():
                return None
            self.check_alive()
            try:
                result = probe()
            except (OSError, ComponentError) as exc:  # e.g. the api-server still starting
                result, last_error = None, f"{type(exc).__name__}: {exc}"
            if result:
                return result
            if time.monotonic() > deadline:
                detail = f" (last error: {last_error})" if last_error else ""
                raise ComponentError(f"timed out waiting for {what}{detail}\n{self.diagnostics()}")
            time.sleep(interval)

    def wait_healthy(self, deadline: float, stop: Callable[[], bool] | None = None) -> None:
        """Until the api-server answers and every started component has a heartbeat (or
        ``stop()`` says to give up)."""

        def healthy() -> bool:
            health = self.api("GET", "/api/v2/monitor/health")
            return all(
                health.get(key, {}).get("status") == "healthy"
                for name, key in HEALTH_KEYS.items()
                if name in self._processes
            )

        self.wait_for("the Airflow components to report healthy", healthy, deadline, stop=stop)

    # -- talking to Airflow ---------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 90.0, ok_codes: Iterable[int] = (0,)) -> str:
        """Run ``airflow <args>`` in this deployment; its stdout."""
        # Python warnings (e.g. "no graphviz") would be logged to stdout, around the JSON.
        env = {**self.env(), "PYTHONWARNINGS": "ignore"}
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            cwd=self.home,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        stdout = result.stdout.decode(errors="replace")
        if result.returncode not in set(ok_codes):
            raise ComponentError(
                f"`airflow {' '.join(args)}` exited with {result.returncode}:\n{stdout}\n"
                + result.stderr.decode(errors="replace")[-4000:]
            )
        return stdout

    def cli_json(self, *args: str, ok_codes: Iterable[int] = (0,)) -> Any:
        """Run an ``airflow`` command given ``-o json`` and decode its JSON output."""
        return json_from_output(self.cli(*args, "-o", "json", ok_codes=ok_codes))

    def access_token(self, user: str | None = None) -> str:
        """A JWT of ``user`` (default: the admin), from logging in with its password."""
        user = user or self.admin
        if user not in self._access_tokens:
            answer = self.api(
                "POST", TOKEN_PATH,
                {"username": user, "password": self.passwords[user]},
                expect=201, user=None,
            )
            self._access_tokens[user] = answer["access_token"]
        return self._access_tokens[user]

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        expect: int | Iterable[int] = 200,
        user: str | None = "",
    ) -> Any:
        """Call the REST API as ``user`` (default ``""``: the admin; ``None``: anonymous);
        the decoded JSON answer (``None`` for an empty body)."""
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if user is not None:
            request.add_header("Authorization", f"Bearer {self.access_token(user or None)}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        expected = {expect} if isinstance(expect, int) else set(expect)
        if status not in expected:
            raise ComponentError(
                f"{method} {path} answered {status}, expected {sorted(expected)}: "
                f"{raw[:2000].decode(errors='replace')}"
            )
        return json.loads(raw) if raw else None

    def task_logs(self, dag_id: str, run_id: str, lines: int = 15) -> str:
        """The end of every task log of one DAG run (for failure messages)."""
        run_dir = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        parts = []
        for path in sorted(run_dir.rglob("*.log")):
            events = [readable_log_line(line) for line in tail(path, lines).splitlines()]
            parts.append(f"--- {path.relative_to(run_dir)} ---\n" + "\n".join(events))
        return "\n".join(parts) or f"(no task logs under {run_dir})"


def json_from_output(text: str) -> Any:
    """The first JSON document in ``text`` that starts a line (CLI output may have log
    lines around it)."""
    decoder = json.JSONDecoder()
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(("[", "{")):
            with contextlib.suppress(json.JSONDecodeError):
                return decoder.raw_decode(text, offset + len(line) - len(line.lstrip()))[0]
        offset += len(line)
    raise ComponentError(f"no JSON document in the command output:\n{text[-4000:]}")


def readable_log_line(line: str) -> str:
    """A task log line (JSON in Airflow 3) as ``level event``, with any exception."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return line
    if not isinstance(record, dict):
        return line
    text = f"{record.get('level', '?')}: {record.get('event', '')}"
    for error in record.get("error_detail") or []:
        frames = error.get("frames") or [{}]
        where = f"{frames[-1].get('filename')}:{frames[-1].get('lineno')}"
        text += f"\n    {error.get('exc_type')}: {error.get('exc_value')} (at {where})"
    return text


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(cannot read {path}: {exc})"


def _exit_status(process: subprocess.Popen[bytes]) -> int | None:
    """The exit code (negative: killed by that signal), or None while running.

    It does not reap the process (WNOWAIT): until :meth:`AirflowStack.stop` reaps it, its
    pid, and so its process group id, cannot be reused by an unrelated process.
    """
    if process.returncode is not None:
        return process.returncode
    info = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.returncode is not None:  # reaped: its group id may belong to others now
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
