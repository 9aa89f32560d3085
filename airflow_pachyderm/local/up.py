"""``airflow-pachyderm up``: the embedded lakeFS server and a lean Airflow on this machine.

Starts the lakeFS-compatible server and Airflow's api-server, scheduler, dag-processor and
triggerer (LocalExecutor, SQLite) on 127.0.0.1, with one DAG file loading the given specs
(the ML example by default). Users log in with generated passwords kept in files only the
owner can read. Prints the UI's address, the credentials and the ``export`` lines other
commands read (``AIRFLOW_PACHYDERM_AIRFLOW_*``, ``LAKECTL_*``), then runs until Ctrl-C or
SIGTERM, and stops every process it started, by pid.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

STARTUP_TIMEOUT = 180.0
DEFAULT_PORT = 8080
# Where the repository keeps the ML example (an editable install or a source checkout).
EXAMPLE_SPEC = Path(__file__).resolve().parents[2] / "dags_examples" / "ml" / "pipelines.yaml"
ENV_FILE = "env.sh"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "specs", nargs="?", default=None,
        help=f"pipeline spec file or directory (default: the ML example, {EXAMPLE_SPEC})",
    )
    parser.add_argument(
        "--home",
        default=os.environ.get("AIRFLOW_PACHYDERM_UP_HOME")
        or str(Path.home() / ".cache" / "airflow-pachyderm" / "up"),
        help="directory for lakeFS data, the Airflow home, logs and credentials (kept)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT,
        help=f"port of the Airflow UI on 127.0.0.1 (default {DEFAULT_PORT}; 0: a free one)",
    )
    parser.add_argument(
        "--lakefs-data", metavar="DIR",
        help="the lakeFS server's data directory (default HOME/lakefs); e.g. the demo's "
        "demo-data/lakefs to browse what the demo made",
    )
    parser.add_argument(
        "--lakefs-port", type=int, default=0,
        help="port of the lakeFS server on 127.0.0.1 (default: a free one)",
    )


def run(args: argparse.Namespace) -> int:
    from airflow_pachyderm.spec import SpecErrors, load_specs

    specs = Path(args.specs) if args.specs else EXAMPLE_SPEC
    if not specs.exists():
        print(f"{specs}: no such spec file or directory"
              + ("" if args.specs else " (give a spec path: the example ships with the sources)"),
              file=sys.stderr)
        return 2
    try:
        load_specs(specs)
    except SpecErrors as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for name, port in (("--port", args.port), ("--lakefs-port", args.lakefs_port)):
        if port and not _port_free(port):
            print(f"{name} {port}: the port is in use on 127.0.0.1; choose another "
                  "(0: a free one)", file=sys.stderr)
            return 2
    home = Path(args.home).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    with _stop_signals() as stopping:
        return _serve(home, specs.resolve(), args, stopping)


def _serve(home: Path, specs: Path, args: argparse.Namespace, stopping: list[int]) -> int:
    from airflow_pachyderm.jobs.cli_run import DAG_FILE_TEMPLATE
    from airflow_pachyderm.local.airflow import (
        AirflowStack,
        ComponentError,
        lakefs_connection_env,
    )
    from airflow_pachyderm.server.process import LakeFSServerProcess

    access_key, secret_key = _lakefs_credentials(home / "lakefs-credentials.json")
    data_dir = Path(args.lakefs_data).expanduser().resolve() if args.lakefs_data else None
    server = LakeFSServerProcess(
        data_dir=data_dir or home / "lakefs", port=args.lakefs_port or None,
        access_key_id=access_key, secret_access_key=secret_key,
    )
    stack: AirflowStack | None = None
    try:
        _say(f"starting the lakeFS server (data: {server.data_dir}) ...")
        server.start()
        stack = AirflowStack(
            home / "airflow",
            extra_env={
                **lakefs_connection_env(
                    server.endpoint, server.access_key_id, server.secret_access_key
                ),
                # Pachyderm's pipelines run as soon as they exist: so do these DAGs.
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            },
            port=args.port or None,
        )
        dag_file = stack.dags_folder / "pachyderm_pipelines.py"
        dag_file.write_text(
            DAG_FILE_TEMPLATE.format(spec_path=str(specs), conn_id="lakefs_default")
        )
        _say("preparing Airflow's database ...")
        stack.migrate()
        if stopping:
            return 130
        _say("starting Airflow (api-server, scheduler, dag-processor, triggerer) ...")
        stack.start()
        stack.wait_healthy(time.monotonic() + STARTUP_TIMEOUT, stop=lambda: bool(stopping))
        if stopping:
            return 130
        env_file = _write_env_file(home / ENV_FILE, stack, server)
        _announce(stack, server, specs, env_file)
        while not stopping:
            stack.check_alive()
            if not server.running:
                raise ComponentError(f"the lakeFS server exited; log: {server.log_path}")
            time.sleep(0.5)
        return 0
    except ComponentError as exc:
        if stopping:  # Ctrl-C reached a starting component (e.g. the migration) first
            return 130
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        _say("stopping ...")
        if stack is not None:
            stack.stop()
        server.stop()
        _say("stopped")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _announce(stack, server, specs: Path, env_file: Path) -> None:
    admin = stack.admin
    lines = [
        "",
        f"Airflow UI:  {stack.base_url}",
        f"  log in as {admin!r} with password {stack.passwords[admin]}",
        *(f"  or as {name!r} ({role}) with password {stack.passwords[name]}"
          for name, role in stack.users.items() if name != admin),
        f"  (passwords: {stack.passwords_file}, readable by you only)",
        f"Pipelines:   {specs}",
        f"lakeFS:      {server.endpoint}",
        f"Logs:        {stack.home}",
        "",
        "For `airflow-pachyderm` commands in another shell:",
        f"export AIRFLOW_PACHYDERM_AIRFLOW_URL={stack.base_url}",
        f"export AIRFLOW_PACHYDERM_AIRFLOW_USER={admin}",
        f"export AIRFLOW_PACHYDERM_AIRFLOW_PASSWORD={stack.passwords[admin]}",
        f"(all of them, lakeFS's LAKECTL_* too: source {env_file})",
        "",
        "Press Ctrl-C to stop everything.",
    ]
    print("\n".join(lines), flush=True)


def _write_env_file(path: Path, stack, server) -> Path:
    values = {
        "AIRFLOW_PACHYDERM_AIRFLOW_URL": stack.base_url,
        "AIRFLOW_PACHYDERM_AIRFLOW_USER": stack.admin,
        "AIRFLOW_PACHYDERM_AIRFLOW_PASSWORD": stack.passwords[stack.admin],
        **server.env(),
    }
    _write_private(path, "".join(f"export {name}={value}\n" for name, value in values.items()))
    return path


def _lakefs_credentials(path: Path) -> tuple[str, str]:
    """The lakeFS key pair of this home: generated once, kept in a file only we can read."""
    from airflow_pachyderm.server.process import generate_credentials

    if path.exists():
        data = json.loads(path.read_text())
        return data["access_key_id"], data["secret_access_key"]
    access_key, secret_key = generate_credentials()
    _write_private(
        path, json.dumps({"access_key_id": access_key, "secret_access_key": secret_key})
    )
    return access_key, secret_key


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file created with mode 0600 (never readable by others)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def _stop_signals() -> Iterator[list[int]]:
    """SIGINT and SIGTERM ask to stop (the list receives the signal); a second one too,
    and cleanup still runs. The previous handlers come back afterwards."""
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
