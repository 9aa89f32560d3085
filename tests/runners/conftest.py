"""Shared fixtures for the runner tests: a real Docker daemon and the project's images.

These tests fail, rather than skip, when Docker or the images are missing: the runner is
the part of the product that talks to Docker, and a green run without Docker proves nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from airflow_pachyderm.runners.base import (
    BatchResult,
    DatumWork,
    InputFile,
    JobContext,
    TransformSpec,
)
from airflow_pachyderm.runners.cache import ContentCache
from airflow_pachyderm.runners.docker import DockerRunner, cleanup_job_containers

PYTHON_IMAGE = "airflow-pachyderm/python:latest"
SKLEARN_IMAGE = "airflow-pachyderm/python-sklearn:latest"


@dataclass
class Harness:
    """Builds datums from literal file contents and runs batches, capturing the log."""

    tmp: Path
    api: object
    job_id: str
    cache: ContentCache = field(init=False)
    log_lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cache = ContentCache(self.tmp / "cache")

    def file(self, input_name: str, path: str, content: str, commit: str = "") -> InputFile:
        data = content.encode()
        key = hashlib.sha256(data).hexdigest()
        local = self.cache.ensure(key, lambda stream: stream.write(data))
        return InputFile(input_name, path, local, commit)

    def datum(self, datum_id: str, files: dict[tuple[str, str], str]) -> DatumWork:
        return DatumWork(datum_id, [self.file(n, p, c) for (n, p), c in files.items()])

    def job(self, **kwargs) -> JobContext:
        kwargs.setdefault("input_commits", {})
        return JobContext(
            job_id=self.job_id,
            pipeline="test-pipeline",
            workdir=self.tmp / "work",
            log=self.log_lines.append,
            **kwargs,
        )

    def run(
        self,
        datums: list[DatumWork],
        cmd: list[str],
        supervisor: bool = True,
        job: JobContext | None = None,
        **spec_kwargs,
    ) -> BatchResult:
        spec_kwargs.setdefault("image", PYTHON_IMAGE)
        spec = TransformSpec(cmd=cmd, **spec_kwargs)
        runner = DockerRunner(api=self.api, use_supervisor=supervisor)
        return runner.run_batch(spec, job or self.job(), datums)

    @property
    def log_text(self) -> str:
        return "\n".join(self.log_lines)


@pytest.fixture
def harness(tmp_path: Path, docker_api, request) -> Iterator[Harness]:
    job_id = f"test-{hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]}"
    yield Harness(tmp_path, docker_api, job_id)
    # Safety net only: the tests themselves assert that run_batch leaves nothing behind.
    cleanup_job_containers(job_id, docker_api)


@pytest.fixture
def remote_harness(tmp_path: Path, remote_docker, request) -> Iterator[Harness]:
    """A Harness whose runner talks to the second daemon (which cannot see tmp_path)."""
    import docker

    api = docker.APIClient(base_url=remote_docker.url, timeout=120)
    job_id = f"test-{hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]}"
    yield Harness(tmp_path, api, job_id)
    cleanup_job_containers(job_id, api)
    api.close()
