"""Run a batch of datums in one Docker container.

Per batch, one container starts with bind mounts of host directories: ``/pfs/<input>``
read-only for every input and ``/pfs/out`` writable. Without datum batching, the host fills
those directories with one datum's files (hard links from the input cache), runs the
transform as a fresh process in the container, moves ``/pfs/out`` to the datum's result
directory, and goes on with the next datum: every datum sees only its own inputs and outputs,
and pays a process start rather than a container start. Only the *contents* of the mounted
directories change, never the directories themselves, so the mounts stay valid.

With datum batching the transform runs once for the whole batch and walks the datums itself;
see ``airflow_pachyderm/runners/README.md`` for the layout it sees.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_pachyderm.runners.base import (
    BatchResult,
    DatumResult,
    DatumWork,
    JobContext,
    OutputError,
    RunnerError,
    TransformSpec,
)
from airflow_pachyderm.runners.cache import link_or_copy
from airflow_pachyderm.runners.logs import LineLogger, SecretMasker
from airflow_pachyderm.runners.outputs import clear_dir, collect_outputs, move_contents
from airflow_pachyderm.runners.sessions import (
    BATCH_LABEL,
    JOB_LABEL,
    PIPELINE_LABEL,
    ContainerConfig,
    RunOutcome,
    Session,
    open_session,
    remove_container,
)
from airflow_pachyderm.spec.names import env_alias, is_input_name

if TYPE_CHECKING:
    import docker

BATCH_DIR = "/pfs/.batch"
NOBODY = "65534:65534"
_logger = logging.getLogger(__name__)


def default_user() -> str:
    """The container user when the spec names none: never root.

    A non-root host process runs containers as itself, so it can always clean up what they
    write; a root host uses nobody.
    """
    uid = os.getuid()
    return f"{uid}:{os.getgid()}" if uid != 0 else NOBODY


def is_root(user: str) -> bool:
    """Whether a container ``user`` ("name", "uid" or "uid:gid") is root."""
    return user.split(":", 1)[0] in ("root", "0")


def cleanup_job_containers(
    job_id: str, api: docker.APIClient | None = None, *, batch: str | None = None
) -> int:
    """Remove containers left behind by ``job_id`` (e.g. after a worker crash).

    With ``batch``, only that batch's: other batches of the job may be running.
    """
    if api is None:
        from airflow_pachyderm.runners.client import docker_api_client

        api = docker_api_client()
    label = f"{BATCH_LABEL}={job_id}/{batch}" if batch is not None else f"{JOB_LABEL}={job_id}"
    leftovers = api.containers(all=True, filters={"label": label})
    for container in leftovers:
        remove_container(api, container["Id"])
    return len(leftovers)


class DockerRunner:
    """BatchRunner on a Docker daemon: this host's (bind mounts) or a remote one (archives).

    :param docker_conn_id: Airflow Docker connection; default: the environment (DOCKER_HOST).
    :param api: a Docker API client to use instead (tests).
    :param use_supervisor: run datums through supervisor.py when the image has python3
        (bind transfer only; the archive transfer uses ``docker exec``).
    :param transfer: ``"bind"`` (bind-mount host directories, the fast local path) or
        ``"archive"`` (upload inputs and download outputs through the Docker API, for a daemon
        that cannot see this host's files). Default: ``bind`` for a daemon on a local Unix
        socket, ``archive`` otherwise; ``$AIRFLOW_PACHYDERM_DOCKER_TRANSFER`` overrides it.
    """

    def __init__(
        self,
        docker_conn_id: str | None = None,
        api: docker.APIClient | None = None,
        use_supervisor: bool = True,
        transfer: str | None = None,
    ) -> None:
        self._conn_id = docker_conn_id
        self._api = api
        self.use_supervisor = use_supervisor
        self._transfer = transfer
        self._cancelled = threading.Event()

    @property
    def transfer(self) -> str:
        """How files reach the container: ``"bind"`` or ``"archive"``."""
        from airflow_pachyderm.runners.archive import transfer_for

        try:
            return transfer_for(self.api, self._transfer)
        except ValueError as err:
            raise RunnerError(str(err)) from None

    def cancel(self) -> None:
        """Start no further container (a retry of a datum included): the task is being
        killed. The caller removes the running one (:func:`cleanup_job_containers`)."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def api(self) -> docker.APIClient:
        if self._api is None:
            from airflow_pachyderm.runners.client import docker_api_client

            self._api = docker_api_client(self._conn_id)
        return self._api

    def run_batch(
        self, spec: TransformSpec, job: JobContext, datums: Sequence[DatumWork]
    ) -> BatchResult:
        if not datums:
            return BatchResult([])
        names = _input_names(job, datums)
        job.workdir.mkdir(parents=True, exist_ok=True)
        batch_dir = Path(tempfile.mkdtemp(prefix="batch-", dir=job.workdir))
        run_class: type[_BatchRun] = _BatchRun
        if self.transfer == "archive":
            from airflow_pachyderm.runners.remote import ArchiveBatchRun

            run_class = ArchiveBatchRun
        run = run_class(self, spec, job, datums, names, batch_dir)
        try:
            return run.execute()
        finally:
            run.close()


def _shared_inputs(datums: Sequence[DatumWork]) -> list[str]:
    """Inputs with the same files in every datum (code, a model: a "/" glob in a cross)."""

    def files_of(datum: DatumWork, name: str) -> set[tuple[str, str]]:
        return {(f.path, os.fspath(f.local_path)) for f in datum.files if f.input_name == name}

    first = datums[0]
    shared = []
    for name in first.input_names():
        wanted = files_of(first, name)
        if wanted and all(files_of(d, name) == wanted for d in datums[1:]):
            shared.append(name)
    return shared


def _only_input(datum: DatumWork, name: str) -> DatumWork:
    return DatumWork(datum.datum_id, [f for f in datum.files if f.input_name == name])


def _input_names(job: JobContext, datums: Sequence[DatumWork]) -> list[str]:
    names = set(job.input_commits)
    for datum in datums:
        names.update(datum.input_names())
    for name in names:
        if not is_input_name(name):
            raise RunnerError(
                f"input name {name!r} cannot be a directory under /pfs: use letters, digits, "
                "'_' and '-', not starting with '-', and not 'out'"
            )
    return sorted(names)


class _BatchRun:
    """State of one run_batch call: directories, the container session, results."""

    def __init__(
        self,
        runner: DockerRunner,
        spec: TransformSpec,
        job: JobContext,
        datums: Sequence[DatumWork],
        names: list[str],
        batch_dir: Path,
    ) -> None:
        self.runner = runner
        self.spec = spec
        self.job = job
        self.datums = datums
        self.names = names
        self.dir = batch_dir
        self.results_dir = batch_dir / "results"
        file_values = [v for files in job.secret_files.values() for v in files.values()]
        self.mask = SecretMasker([*job.secrets_env.values(), *file_values])
        self.user = spec.user or default_user()
        if is_root(self.user):
            _logger.warning(
                "pipeline %s: transform.user %r runs the transform as root (without "
                "capabilities, with no-new-privileges); prefer a non-root user",
                job.pipeline, self.user,
            )  # fmt: skip
        self.session: Session | None = None
        self.use_supervisor = runner.use_supervisor
        self._sessions_started = 0
        self._secret_binds = self._write_secret_files()

    # -- container -----------------------------------------------------------------------
    def _write_secret_files(self) -> dict[str, dict[str, str]]:
        """Secret files in this batch's scratch directory (mode 0700, removed in close())."""
        binds: dict[str, dict[str, str]] = {}
        for index, (mount_path, files) in enumerate(sorted(self.job.secret_files.items())):
            directory = self.dir / "secrets" / str(index)
            directory.mkdir(parents=True)
            for name, value in files.items():
                path = directory / name
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(value)
                # Readable by the container's user, whoever it is; the batch directory above
                # is private to this host user, and the mount is read-only.
                os.chmod(path, 0o444)
            os.chmod(directory, 0o555)
            binds[str(directory)] = {"bind": mount_path, "mode": "ro"}
        return binds

    def _config(self, binds: dict[str, dict[str, str]]) -> ContainerConfig:
        env = dict(self.spec.env)
        env.update(self.job.secrets_env)
        env["PACH_JOB_ID"] = self.job.job_id
        env["PPS_PIPELINE_NAME"] = self.job.pipeline
        for name, commit in self.job.input_commits.items():
            env.update(_input_vars(f"{name}_COMMIT", commit))
        cpus = self.spec.cpu_limit
        shares = self.spec.cpu_request
        return ContainerConfig(
            image=self.spec.image,
            user=self.user,
            env=env,
            labels={
                JOB_LABEL: self.job.job_id,
                PIPELINE_LABEL: self.job.pipeline,
                BATCH_LABEL: f"{self.job.job_id}/{self.job.batch}",
            },
            binds={**binds, **self._secret_binds},
            network=self.spec.network,
            nano_cpus=int(cpus * 1e9) if cpus else None,
            mem_limit=self.spec.memory_limit_bytes,
            # Docker's default weight is 1024 for one CPU's worth of share.
            cpu_shares=max(2, int(shares * 1024)) if shares else None,
            mem_reservation=self.spec.memory_request_bytes,
            gpus=self.spec.gpus,
            pids_limit=self.spec.pids_limit,
        )

    def _session(self, binds: dict[str, dict[str, str]]) -> Session:
        if self.session is not None and self.session.broken:
            self.session.close()
            self.session = None
        if self.session is None:
            if self.runner.cancelled:
                raise RunnerError(f"batch {self.job.batch} of job {self.job.job_id} was "
                                  "cancelled: its task was killed")
            self._sessions_started += 1
            ctl = self.dir / "ctl" / str(self._sessions_started)
            ctl.parent.mkdir(exist_ok=True)
            self.session = open_session(
                self.runner.api, self._config(binds), ctl, self.use_supervisor
            )
        return self.session

    def close(self) -> None:
        try:
            if self.session is not None:
                self.session.close()
        finally:
            # Keep only the results; inputs are links into the cache, the rest is scratch.
            for name in ("secrets",):
                _remove_tree(self.dir / name)
            for name in ("pfs", "out", "ctl", "batch"):
                shutil.rmtree(self.dir / name, ignore_errors=True)

    # -- common --------------------------------------------------------------------------
    def execute(self) -> BatchResult:
        if self.spec.datum_batching:
            return BatchResult(self._run_batched())
        return BatchResult(self._run_each())

    def _lines(self, datum_id: str) -> LineLogger:
        return LineLogger(f"[datum {datum_id[:12]}]", self.job.log, self.mask)

    def _stdin(self) -> str | None:
        return "\n".join(self.spec.stdin) + "\n" if self.spec.stdin else None

    def _datum_env(self, datum: DatumWork, pfs_root: str) -> dict[str, str]:
        env = {"PACH_DATUM_ID": datum.datum_id}
        for name in datum.input_names():
            root = datum.root_of(name)
            path = f"{pfs_root}/{name}/{root}" if root else f"{pfs_root}/{name}"
            env.update(_input_vars(name, path))
        for file in datum.files:
            if file.commit:
                env.update(_input_vars(f"{file.input_name}_COMMIT", file.commit))
        return env

    def _succeeded(self, outcome: RunOutcome) -> bool:
        if outcome.exit_code == 0:
            return True
        return not outcome.timed_out and outcome.exit_code in self.spec.accept_return_codes

    def _timeout(self, datum_count: int) -> float | None:
        per_datum = self.spec.datum_timeout_s
        return None if per_datum is None else per_datum * datum_count

    @staticmethod
    def _populate(datum: DatumWork, input_root: Path, names: Sequence[str]) -> None:
        for name in names:
            (input_root / name).mkdir(parents=True, exist_ok=True)
        for file in datum.files:
            dest = input_root / file.input_name / file.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(file.local_path, dest)

    # -- how files reach the container: bind mounts here, archives in remote.py --------------
    def _ready_datum(self, index: int, datum: DatumWork, out: Path) -> None:
        """Before each try: ``/pfs/out`` empty (inputs are filled by ``_run_each``)."""
        clear_dir(out)

    def _clear_out(self, out: Path) -> None:
        clear_dir(out)

    def _take_outputs(self, datum_id: str, out: Path, dest: Path) -> list[str]:
        """Check the datum's outputs and move them to ``dest``; return their paths.

        :raises OutputError: an output that cannot be uploaded.
        """
        paths = collect_outputs(datum_id, out)
        move_contents(out, dest)
        return paths

    def _batch_binds(self, root: Path, out: Path) -> dict[str, dict[str, str]]:
        """Mounts of a datum batch: ``root`` at BATCH_DIR, shared inputs at /pfs/<name>."""
        out.mkdir()
        os.chmod(out, 0o777)
        binds = {
            str(root): {"bind": BATCH_DIR, "mode": "ro"},
            str(out): {"bind": f"{BATCH_DIR}/out", "mode": "rw"},
        }
        shared = self.dir / "pfs"
        for name in _shared_inputs(self.datums):
            self._populate(_only_input(self.datums[0], name), shared, [name])
            binds[str(shared / name)] = {"bind": f"/pfs/{name}", "mode": "ro"}
        return binds

    def _ready_batch(self, out: Path) -> None:
        """Before each try of a datum batch: an empty out directory per datum."""
        clear_dir(out)
        for index in range(len(self.datums)):
            (out / f"{index:06d}").mkdir()
            os.chmod(out / f"{index:06d}", 0o777)

    def _take_batched_outputs(self, datum_id: str, out: Path, key: str, dest: Path) -> list[str]:
        src = out / key
        if src.is_symlink() or not src.is_dir():
            raise OutputError(datum_id, "", "the datum's out directory was replaced")
        return self._take_outputs(datum_id, src, dest)

    def _stray_outputs(self, out: Path) -> list[str]:
        """Files the transform left outside the per-datum directories: they belong to no datum."""
        return sorted(p.name for p in out.iterdir() if not re.fullmatch(r"\d{6}", p.name))

    def _failure_text(
        self, datum: DatumWork, outcome: RunOutcome, tries: int, tail: Sequence[str]
    ) -> str:
        if outcome.timed_out:
            limit = self._timeout(1)
            what = f"timed out after {limit:g} s per datum (exit code {outcome.exit_code})"
        elif outcome.exit_code is None:
            what = "no exit code"
        else:
            what = f"exit code {outcome.exit_code}"
            if outcome.exit_code == 137 and self.spec.memory_limit_bytes:
                what += f" (killed; the memory limit is {self.spec.memory_limit_bytes} bytes)"
        if outcome.error:
            what += f": {outcome.error}"
        inputs = ", ".join(f"{f.input_name}/{f.path}" for f in datum.files) or "(no files)"
        text = (
            f"datum {datum.datum_id} failed after {tries} "
            f"{'try' if tries == 1 else 'tries'}: {what}\n"
            f"inputs: {inputs}\n"
            f"last {len(tail)} log lines:\n" + "\n".join(tail)
        )
        return self.mask(text)

    # -- one process per datum -----------------------------------------------------------
    def _run_each(self) -> list[DatumResult]:
        pfs = self.dir / "pfs"
        out = self.dir / "out"
        out.mkdir(parents=True)
        os.chmod(out, 0o777)
        binds = {str(out): {"bind": "/pfs/out", "mode": "rw"}}
        for name in self.names:
            (pfs / name).mkdir(parents=True)
            binds[str(pfs / name)] = {"bind": f"/pfs/{name}", "mode": "ro"}
        results = []
        for index, datum in enumerate(self.datums):
            for name in self.names:
                clear_dir(pfs / name)
            self._populate(datum, pfs, datum.input_names())
            results.append(self._run_datum(index, datum, binds, out))
        return results

    def _run_datum(
        self, index: int, datum: DatumWork, binds: dict[str, dict[str, str]], out: Path
    ) -> DatumResult:
        env = self._datum_env(datum, "/pfs")
        started = time.monotonic()
        lines = self._lines(datum.datum_id)
        outcome = RunOutcome(None)
        tries = 0
        for tries in range(1, self.spec.datum_tries + 1):
            session = self._session(binds)
            self._ready_datum(index, datum, out)
            outcome = session.run(
                list(self.spec.cmd),
                env,
                self.spec.working_dir,
                self._stdin(),
                self._timeout(1),
                lines,
            )
            lines.close()
            if self._succeeded(outcome):
                if outcome.exit_code:
                    lines.note(f"exit code {outcome.exit_code} is accepted (acceptReturnCode)")
                dest = self.results_dir / f"{index:06d}"
                try:
                    paths = self._take_outputs(datum.datum_id, out, dest)
                except OutputError as err:
                    lines.note(str(err))
                    self._clear_out(out)
                    return self._failed(datum, tries, started, lines, str(err), 0)
                return DatumResult(
                    datum.datum_id,
                    "success",
                    outcome.exit_code,
                    tries,
                    dest,
                    paths,
                    list(lines.tail),
                    time.monotonic() - started,
                )
            if tries < self.spec.datum_tries:
                lines.note(
                    f"failed (exit code {outcome.exit_code}), "
                    f"retrying: try {tries + 1} of {self.spec.datum_tries}"
                )
        self._clear_out(out)
        error = self._failure_text(datum, outcome, tries, list(lines.tail))
        lines.note(error.splitlines()[0])
        result = self._failed(datum, tries, started, lines, error, outcome.exit_code)
        result.timed_out = outcome.timed_out
        if self.spec.err_cmd:
            self._err_cmd(result, env, binds, lines)
        return result

    def _failed(
        self,
        datum: DatumWork,
        tries: int,
        started: float,
        lines: LineLogger,
        error: str,
        exit_code: int | None,
    ) -> DatumResult:
        return DatumResult(
            datum.datum_id,
            "failed",
            exit_code,
            tries,
            None,
            [],
            list(lines.tail),
            time.monotonic() - started,
            error=error,
        )

    def _err_cmd(
        self,
        result: DatumResult,
        env: dict[str, str],
        binds: dict[str, dict[str, str]],
        lines: LineLogger,
    ) -> None:
        # Pachyderm's errCmd: if it succeeds, the datum counts as recovered (done, no outputs).
        session = self._session(binds)
        stdin = "\n".join(self.spec.err_stdin) + "\n" if self.spec.err_stdin else None
        outcome = session.run(
            list(self.spec.err_cmd), env, self.spec.working_dir, stdin, self._timeout(1), lines
        )
        lines.close()
        self._clear_out(self.dir / "out")
        if outcome.exit_code == 0:
            lines.note("errCmd succeeded: datum recovered")
            result.status = "success"
            result.recovered = True
            result.output_dir = None

    # -- datum batching ------------------------------------------------------------------
    def _run_batched(self) -> list[DatumResult]:
        root = self.dir / "batch"
        inputs = root / "in"
        out = root / "out"
        manifest = []
        for index, datum in enumerate(self.datums):
            key = f"{index:06d}"
            (inputs / key).mkdir(parents=True)
            self._populate(datum, inputs / key, datum.input_names())
            manifest.append(
                {
                    "datum_id": datum.datum_id,
                    "index": index,
                    "inputs": {n: f"{BATCH_DIR}/in/{key}/{n}" for n in datum.input_names()},
                    "env": self._datum_env(datum, f"{BATCH_DIR}/in/{key}"),
                    "out": f"{BATCH_DIR}/out/{key}",
                }
            )
        with open(root / "datums.jsonl", "w", encoding="utf-8") as fh:
            for entry in manifest:
                fh.write(json.dumps(entry, sort_keys=True) + "\n")
        binds = self._batch_binds(root, out)
        env = {
            "PACH_DATUMS_FILE": f"{BATCH_DIR}/datums.jsonl",
            "PACH_DATUM_COUNT": str(len(self.datums)),
        }
        batch_label = f"batch {self.datums[0].datum_id[:12]}+{len(self.datums) - 1}"
        lines = LineLogger(f"[{batch_label}]", self.job.log, self.mask)
        started = time.monotonic()
        outcome = RunOutcome(None)
        tries = 0
        for tries in range(1, self.spec.datum_tries + 1):
            session = self._session(binds)
            self._ready_batch(out)
            outcome = session.run(
                list(self.spec.cmd),
                env,
                self.spec.working_dir,
                self._stdin(),
                self._timeout(len(self.datums)),
                lines,
            )
            lines.close()
            if self._succeeded(outcome):
                return self._collect_batched(out, tries, started, lines)
            if tries < self.spec.datum_tries:
                lines.note(f"batch failed (exit code {outcome.exit_code}), retrying")
        duration = time.monotonic() - started
        results = []
        for datum in self.datums:
            error = self._failure_text(datum, outcome, tries, list(lines.tail))
            error = "in a failed datum batch: " + error
            results.append(
                DatumResult(
                    datum.datum_id,
                    "failed",
                    outcome.exit_code,
                    tries,
                    None,
                    [],
                    list(lines.tail),
                    duration,
                    error=error,
                    timed_out=outcome.timed_out,
                )
            )
        lines.note(f"batch of {len(self.datums)} datums failed (exit code {outcome.exit_code})")
        return results

    def _collect_batched(
        self, out: Path, tries: int, started: float, lines: LineLogger
    ) -> list[DatumResult]:
        duration = time.monotonic() - started
        results = []
        for index, datum in enumerate(self.datums):
            key = f"{index:06d}"
            dest = self.results_dir / key
            try:
                paths = self._take_batched_outputs(datum.datum_id, out, key, dest)
            except OutputError as err:
                lines.note(str(err))
                results.append(
                    DatumResult(
                        datum.datum_id,
                        "failed",
                        0,
                        tries,
                        None,
                        [],
                        list(lines.tail),
                        duration,
                        error=str(err),
                    )
                )
                continue
            results.append(
                DatumResult(
                    datum.datum_id, "success", 0, tries, dest, paths, list(lines.tail), duration
                )
            )
        stray = self._stray_outputs(out)
        if stray:
            lines.note(f"ignored files outside any datum's out directory: {', '.join(stray)}")
        return results


def _input_vars(name: str, value: str) -> dict[str, str]:
    """``name`` = value, and its shell-identifier alias when ``name`` is not one."""
    alias = env_alias(name)
    return {name: value} if alias is None else {name: value, alias: value}


def _remove_tree(path: Path) -> None:
    # Secret directories are read-only (0555): make them writable again to delete them.
    if not path.exists():
        return
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o700)
    os.chmod(path, 0o700)
    shutil.rmtree(path)


def image_identity(image: str, api: docker.APIClient | None = None) -> tuple[str, str]:
    """``(image id, registry digest or "")`` of a local image: what exactly will run.

    Tags move (``:latest`` is rebuilt); the id does not, so jobs pin it and provenance
    records it.
    """
    if api is None:
        from airflow_pachyderm.runners.client import docker_api_client

        api = docker_api_client()
    import docker.errors

    try:
        info = api.inspect_image(image)
    except docker.errors.ImageNotFound as exc:
        raise RunnerError(
            f"image {image!r} is not on this Docker host: pull or build it first "
            "(docker/build-images.sh builds the airflow-pachyderm/* images)"
        ) from exc
    digests = info.get("RepoDigests") or []
    return info["Id"], digests[0] if digests else ""
