"""Helpers for job tests: repos with literal files, specs from dicts, a job driver.

The driver runs the three steps of a job in-process, with the real Docker runner, exactly
as the operators do, without Airflow's scheduling around them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_pachyderm.jobs.commit import JobCommit, commit_job
from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.jobs.plan import JobRequest, plan_job_run
from airflow_pachyderm.jobs.process import process_batch
from airflow_pachyderm.lakefs import LakeFSClient
from airflow_pachyderm.runners.cache import ContentCache
from airflow_pachyderm.runners.docker import DockerRunner, image_identity
from airflow_pachyderm.spec.models import PipelineSpec


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def make_repo(client: LakeFSClient, files: dict[str, bytes], prefix: str = "in") -> str:
    repo = unique(prefix)
    client.create_repository(repo)
    for path, data in files.items():
        client.upload(repo, "main", path, data)
    client.commit(repo, "main", "initial data")
    return repo


def pipeline_spec(name: str, input_: dict[str, Any], cmd: list[str], **extra: Any) -> PipelineSpec:
    data = {
        "pipeline": {"name": name},
        "input": input_,
        "transform": {"image": "airflow-pachyderm/python:latest", "cmd": cmd,
                      **extra.pop("transform", {})},
        **extra,
    }
    return PipelineSpec.from_dict(data)


def per_file_spec(prefix: str, data_repo: str, cmd: list[str], **extra: Any) -> PipelineSpec:
    """A pipeline with one datum per top-level entry of ``data_repo``, at /pfs/data."""
    return pipeline_spec(
        unique(prefix), {"pfs": {"repo": data_repo, "name": "data", "glob": "/*"}}, cmd, **extra
    )


@dataclass
class JobDriver:
    client: LakeFSClient
    workdir: Path
    cache: ContentCache
    runner: DockerRunner | None = None  # default: the local daemon

    def plan(self, spec: PipelineSpec, run_id: str, **request: Any):
        req = JobRequest(dag_id=spec.dag_id, run_id=run_id,
                         input_refs=request.pop("input_refs", {}), **request)
        image_id, _ = image_identity(spec.transform.image)
        return plan_job_run(self.client, spec, req, image_id=image_id)

    def process(self, spec: PipelineSpec, batch) -> None:
        process_batch(self.client, spec, batch, self.runner or DockerRunner(),
                      workdir=self.workdir / f"b{batch.index}", cache=self.cache)

    def commit(self, spec: PipelineSpec, run_id: str, output_branch: str | None = None):
        job_id = job_id_for(spec.dag_id, run_id)
        return commit_job(self.client, spec.output_repo, job_id,
                          output_branch=output_branch or spec.output_branch)

    def run(self, spec: PipelineSpec, run_id: str | None = None, **request: Any) -> JobCommit:
        run_id = run_id or unique("run")
        _, batches = self.plan(spec, run_id, **request)
        for batch in batches:
            self.process(spec, batch)
        return self.commit(spec, run_id, request.get("output_branch"))
