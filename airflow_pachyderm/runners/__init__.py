"""Where a batch of datums runs. ``DockerRunner`` is the default; see README.md here."""

from airflow_pachyderm.runners.base import (
    BatchResult,
    BatchRunner,
    DatumResult,
    DatumWork,
    InputFile,
    JobContext,
    OutputError,
    RunnerError,
    TransformSpec,
)
from airflow_pachyderm.runners.cache import ContentCache

__all__ = [
    "BatchResult",
    "BatchRunner",
    "ContentCache",
    "DatumResult",
    "DatumWork",
    "InputFile",
    "JobContext",
    "OutputError",
    "RunnerError",
    "TransformSpec",
]
