"""Identity of a job (one run of a pipeline) and where its working state lives in lakeFS.

A job works on two branches of the output repository, both named after the job so that any
task of the job, on any worker, retried or not, finds them again:

- the staging branch receives the outputs and the manifest, and becomes the output commit;
- the state branch holds the plan, the datums of each batch and each batch's result, as
  uncommitted objects; it is never committed, and is deleted when the job is merged.

Keeping the state apart means a crash at any point leaves it readable to the retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.lakefs.provenance import InputCommit
from airflow_pachyderm.runners.outputs import RESERVED_DIR

# Paths under this prefix are the provider's own bookkeeping: never datum inputs.
RESERVED_PREFIX = RESERVED_DIR + "/"
STATE_PREFIX = RESERVED_PREFIX + "job/"
PLAN_PATH = STATE_PREFIX + "plan.json"
DATUMS_PATH = STATE_PREFIX + "datums.jsonl.gz"
# Both of a job's branches start with this; the plan removes those of dead jobs.
JOB_BRANCH_PREFIX = "pachyderm-job-"


class JobStateMissingError(RuntimeError):
    """A step of a job ran without the job's plan (e.g. one task of a finished run cleared)."""


def job_id_for(dag_id: str, run_id: str) -> str:
    """Pachyderm-style 32-hex job id, stable for a DAG run (retries keep it)."""
    return hashlib.sha256(f"{dag_id}\n{run_id}".encode()).hexdigest()[:32]


def staging_branch_for(job_id: str) -> str:
    return f"{JOB_BRANCH_PREFIX}{job_id}"


def state_branch_for(job_id: str) -> str:
    return f"{JOB_BRANCH_PREFIX}{job_id}-state"


def batch_datums_path(index: int) -> str:
    return f"{STATE_PREFIX}batches/{index:05d}.datums.jsonl.gz"


def batch_result_path(index: int) -> str:
    return f"{STATE_PREFIX}batches/{index:05d}.result.json"


@dataclass(frozen=True)
class JobPlanRecord:
    """What the plan step decided, stored as ``plan.json`` on the staging branch."""

    job_id: str
    plan_id: str
    pipeline: str
    spec_hash: str
    output_repo: str
    output_branch: str
    staging_branch: str
    state_branch: str
    base_commit: str
    inputs: tuple[InputCommit, ...]
    batches: int
    counts: Mapping[str, int]
    stale_outputs: tuple[str, ...] = ()
    dag_id: str = ""
    run_id: str = ""
    airflow_url: str = ""
    created_at: float = 0.0
    image_name: str = ""  # as the spec names it, e.g. repo/name:tag
    image: str = ""  # the id the job runs, e.g. sha256:...

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> JobPlanRecord:
        raw = json.loads(data)
        raw["inputs"] = tuple(InputCommit(**item) for item in raw["inputs"])
        raw["stale_outputs"] = tuple(raw.get("stale_outputs", ()))
        return cls(**raw)


@dataclass(frozen=True)
class BatchRef:
    """What the plan step hands to each mapped process task (kept small: it is an XCom)."""

    job_id: str
    output_repo: str
    staging_branch: str
    state_branch: str
    index: int
    datums: int
    # What the UI labels the mapped task with: the batch's first file and its size.
    label: str = ""

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> BatchRef:
        return cls(**value)


def load_plan(client: LakeFSClient, repo: str, state_branch: str) -> JobPlanRecord:
    """The job's plan, from its state branch.

    :raises JobStateMissingError: the state branch (or its plan) does not exist: the job was
        never planned, or it finished and its branches were removed.
    """
    try:
        data = client.read_bytes(repo, state_branch, PLAN_PATH)
    except NotFoundError as exc:
        raise JobStateMissingError(
            f"no job plan at {repo}@{state_branch}/{PLAN_PATH}: the job was not planned, or "
            "it finished and its branches were removed"
        ) from exc
    return JobPlanRecord.from_json(data)
