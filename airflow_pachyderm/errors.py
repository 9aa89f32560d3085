"""The provider's exceptions: one tree rooted at :class:`PachydermError`.

::

    PachydermError
    ├── PipelineSpecError (ValueError)      a spec field or file is wrong
    ├── DatumError (ValueError)             datums cannot be built, planned or stored
    │   └── GlobError (also PipelineSpecError)
    ├── JobError                            a job cannot go on as asked
    │   ├── JobInputError (ValueError)      a run parameter names what does not exist
    │   ├── JobStateMissingError (LookupError)  a step ran without its job's state
    │   ├── SpecChangedError                the pipeline changed between two steps
    │   ├── DatumFailedError (RuntimeError) datums failed every try
    │   ├── OutputBranchMovedError          the output branch moved while the job ran
    │   └── EgressError (ValueError)        an egress target cannot be written
    ├── RunnerError (RuntimeError)          the container runtime refused or failed
    └── LakeFSError                         a lakeFS call failed (HTTP status subclasses in
                                            :mod:`airflow_pachyderm.lakefs.errors`)

Each class also derives from the built-in its callers catch (``ValueError`` for bad input).
``retryable`` is false on the errors a retry of the same task cannot fix: operators turn
those into ``AirflowFailException`` (see :func:`is_permanent`). The embedded server's HTTP errors
(:mod:`airflow_pachyderm.server.errors`) are not part of this tree: they become HTTP answers,
which the client turns into :class:`LakeFSError`.

This module imports nothing of the package, so that every layer may import it.
"""

from __future__ import annotations


class PachydermError(Exception):
    """Root of every error this provider raises on purpose.

    ``retryable`` says whether running the same task again may succeed (a server that was
    down, a flaky datum); false for bad input and for states only a new run can fix.
    """

    retryable: bool = True


def is_permanent(exc: BaseException) -> bool:
    """Whether ``exc`` is one of the provider's errors that a retry cannot fix."""
    return isinstance(exc, PachydermError) and not exc.retryable


# -- pipeline specs ------------------------------------------------------------------------


class PipelineSpecError(PachydermError, ValueError):
    """A pipeline spec (or one of its fields) is invalid; the message says how to fix it."""

    retryable = False


class CronError(PipelineSpecError):
    """A cron input's ``spec`` that cannot be scheduled."""


class QuantityError(PipelineSpecError):
    """A duration, memory size or CPU amount that cannot be parsed."""


class NameMappingError(PipelineSpecError):
    """A Pachyderm name that has no valid lakeFS or Airflow counterpart."""


# -- datums ----------------------------------------------------------------------------------


class DatumError(PachydermError, ValueError):
    """Datums cannot be built, planned or stored as asked."""

    retryable = False


class GlobError(DatumError, PipelineSpecError):
    """A glob pattern, or a ``joinOn``/``groupBy`` template using it, is invalid."""


class ManifestError(DatumError):
    """A datum manifest (or a serialized datum list) is malformed."""


class OutputCollisionError(DatumError):
    """Two datums wrote the same output path."""

    def __init__(self, path: str, first_datum: str, second_datum: str) -> None:
        self.path = path
        self.first_datum = first_datum
        self.second_datum = second_datum
        super().__init__(
            f"output path {path!r} is written by two datums, {first_datum} and "
            f"{second_datum}: each output file must come from exactly one datum"
        )


# -- jobs ------------------------------------------------------------------------------------


class JobError(PachydermError):
    """A job cannot go on as asked."""


class JobInputError(JobError, ValueError):
    """The job was asked to read something that does not exist or is not an input."""

    retryable = False


class InputMissingError(JobInputError):
    """An input's repository or branch does not exist (yet): e.g. an upstream pipeline
    that has not produced its first output."""


class JobUnchangedError(JobError):
    """The output branch already holds another job's result for exactly these inputs."""


class JobStateMissingError(JobError, LookupError):
    """A step of a job ran without the job's state (e.g. one task of a finished run cleared,
    or a batch whose process task never finished)."""

    retryable = False


class SpecChangedError(JobError):
    """The pipeline spec changed between the plan and a later step of the same job."""

    retryable = False


class DatumFailedError(JobError, RuntimeError):
    """One or more datums of a job failed every try."""


class OutputBranchMovedError(JobError):
    """The output branch got another commit while this job ran.

    :param where: ``repo@branch``.
    """

    retryable = False

    def __init__(self, message: str, *, where: str = "") -> None:
        self.where = where
        super().__init__(message)


class LineageError(JobError, LookupError):
    """A lineage question names something without lineage (a path no datum wrote)."""

    retryable = False


class EgressError(JobError, ValueError):
    """The egress URL (or a file to send there) cannot be used."""

    retryable = False


# -- runners ---------------------------------------------------------------------------------


class RunnerError(PachydermError, RuntimeError):
    """The container runtime refused or failed to run the user's code."""


class OutputError(RunnerError):
    """A datum wrote something to /pfs/out that cannot be published.

    :param datum_id: the datum.
    :param path: the output path, relative to /pfs/out.
    :param problem: what is wrong with it.
    """

    def __init__(self, datum_id: str, path: str, problem: str) -> None:
        super().__init__(f"datum {datum_id}: /pfs/out/{path}: {problem}")
        self.datum_id = datum_id
        self.path = path
        self.problem = problem


class CacheError(RunnerError):
    """A cache key or entry of the local input cache is unusable."""


# -- lakeFS ----------------------------------------------------------------------------------


class LakeFSError(PachydermError):
    """A lakeFS call failed. ``status`` is the HTTP status (0 when none was received).

    :param message: what lakeFS (or the connection) said.
    :param status: the HTTP status; default: the class's own.
    :param where: ``repo@ref/path`` or the call, prefixed to the message.
    """

    status: int = 0

    def __init__(self, message: str, *, status: int | None = None, where: str = "") -> None:
        self.where = where
        self.server_message = message
        if status is not None:
            self.status = status
        text = f"{where}: {message}" if where else message
        if self.status:
            text += f" (HTTP {self.status})"
        super().__init__(text)

