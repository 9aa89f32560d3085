"""The runner interface: what a batch of datums needs to run, and what comes back.

A runner takes one batch of datums whose input files are already on the host, runs the
pipeline's transform for each datum in an isolated environment (``/pfs/<input>`` read-only,
``/pfs/out`` writable) and returns, per datum, where its outputs are on the host. Uploading
those outputs, and deciding which datums to run, belongs to the caller.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

# Re-exported: the runner errors were defined here before the one error tree.
from airflow_pachyderm.errors import OutputError as OutputError
from airflow_pachyderm.errors import RunnerError as RunnerError

_logger = logging.getLogger("airflow_pachyderm.runners")

DatumStatus = Literal["success", "failed"]
# Processes and threads one container may run unless the spec sets resourceLimits.pids: far
# above what a transform needs (a thread pool per core), far below what hurts the host.
DEFAULT_PIDS_LIMIT = 1024


@dataclass(frozen=True)
class TransformSpec:
    """How to run the user's code: Pachyderm's ``transform`` plus the job-level knobs."""

    image: str
    cmd: Sequence[str]
    stdin: Sequence[str] = ()
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    # "uid:gid" or a user name known in the image; None means a non-root default.
    user: str | None = None
    err_cmd: Sequence[str] = ()
    err_stdin: Sequence[str] = ()
    # Exit codes besides 0 that count as success (Pachyderm's acceptReturnCode).
    accept_return_codes: Sequence[int] = ()
    network: bool = False
    cpu_limit: float | None = None
    memory_limit_bytes: int | None = None
    # Requests: a CPU weight under contention and a soft memory limit (Docker has no more).
    cpu_request: float | None = None
    memory_request_bytes: int | None = None
    # NVIDIA GPUs through a Docker device request.
    gpus: int = 0
    datum_timeout_s: float | None = None
    datum_tries: int = 1
    datum_batching: bool = False
    pids_limit: int = DEFAULT_PIDS_LIMIT

    def __post_init__(self) -> None:
        if not self.image:
            raise ValueError("transform.image must not be empty")
        if not self.cmd:
            raise ValueError("transform.cmd must name a command to run")
        if self.datum_tries < 1:
            raise ValueError(f"datumTries must be at least 1, got {self.datum_tries}")
        if self.datum_timeout_s is not None and self.datum_timeout_s <= 0:
            raise ValueError(f"datumTimeout must be positive, got {self.datum_timeout_s}")
        if self.cpu_limit is not None and self.cpu_limit <= 0:
            raise ValueError(f"resourceLimits.cpu must be positive, got {self.cpu_limit}")
        if self.memory_limit_bytes is not None and self.memory_limit_bytes < 6 * 1024 * 1024:
            # Docker refuses less than 6 MiB.
            raise ValueError(
                f"resourceLimits.memory must be at least 6MiB, got {self.memory_limit_bytes} bytes"
            )


def _default_log(line: str) -> None:
    _logger.info("%s", line)


@dataclass
class JobContext:
    """The job a batch belongs to."""

    job_id: str
    pipeline: str
    # Resolved secret values, injected as environment variables and masked in every log line.
    secrets_env: dict[str, str] = field(default_factory=dict)
    # Secrets as files: container directory -> {file name: value}. Written into the batch's
    # scratch directory, bind-mounted read-only into that batch's container only, masked too.
    secret_files: dict[str, dict[str, str]] = field(default_factory=dict)
    # input name -> lakeFS commit id the job reads
    input_commits: dict[str, str] = field(default_factory=dict)
    # Scratch space on the host; the runner creates one private directory per batch in it.
    workdir: Path = field(default_factory=lambda: Path("/tmp"))
    log: Callable[[str], None] = _default_log
    # Which batch of the job this is; it labels the batch's container so that a retry
    # removes its own leftovers without touching the job's other batches.
    batch: str = ""


@dataclass(frozen=True)
class InputFile:
    """One input file of a datum, already materialised on the host."""

    input_name: str
    path: str  # lakeFS path, no leading slash
    local_path: Path
    commit: str = ""

    def __post_init__(self) -> None:
        parts = self.path.split("/")
        if not self.path or self.path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(
                f"input {self.input_name!r}: file path {self.path!r} must be a relative "
                "path without empty, '.' or '..' components"
            )


@dataclass(frozen=True)
class DatumWork:
    """One datum to process: its id and the input files it sees."""

    datum_id: str
    files: Sequence[InputFile]
    # Inputs that take part in the datum without files (e.g. the empty side of an outer join).
    empty_input_names: Sequence[str] = ()
    # input name -> the path the input's glob matched (no leading slash, "" for the root);
    # when missing it is derived from the files.
    roots: dict[str, str] = field(default_factory=dict)

    def input_names(self) -> list[str]:
        names = {f.input_name for f in self.files} | set(self.empty_input_names)
        return sorted(names)

    def root_of(self, input_name: str) -> str:
        """The datum's root path for an input, as Pachyderm's ``<name>`` env var uses it."""
        if input_name in self.roots:
            return self.roots[input_name].strip("/")
        paths = [f.path for f in self.files if f.input_name == input_name]
        if not paths:
            return ""
        if len(paths) == 1:
            return paths[0]
        common = posixpath.commonpath(paths)
        return common


@dataclass
class DatumResult:
    """What happened to one datum."""

    datum_id: str
    status: DatumStatus
    exit_code: int | None
    tries: int
    output_dir: Path | None  # host directory holding the datum's /pfs/out files
    output_paths: list[str]  # relative posix paths under output_dir, sorted
    log_tail: list[str]
    duration_s: float
    error: str | None = None
    timed_out: bool = False
    # errCmd succeeded after the transform failed: Pachyderm's "recovered" datum, which counts
    # as done but publishes no outputs.
    recovered: bool = False


@dataclass
class BatchResult:
    datums: list[DatumResult]

    @property
    def failed(self) -> list[DatumResult]:
        return [d for d in self.datums if d.status == "failed"]

    @property
    def succeeded(self) -> list[DatumResult]:
        return [d for d in self.datums if d.status == "success"]


class BatchRunner(Protocol):
    def run_batch(
        self, spec: TransformSpec, job: JobContext, datums: Sequence[DatumWork]
    ) -> BatchResult: ...

