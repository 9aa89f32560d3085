"""A job's working state: what the plan decided, what each batch did, and where both live.

The plan step writes the :class:`JobPlanRecord` and the datums of each batch to the job's
*state branch* (never committed, deleted when the job is merged); each process task writes
its :class:`BatchRecord` there; the commit step reads them all back. :class:`JobPhase` names
how far a job got, so that a retried commit step knows what is left to do.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from airflow_pachyderm.errors import JobStateMissingError
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.errors import NotFoundError
from airflow_pachyderm.lakefs.provenance import InputCommit
from airflow_pachyderm.reserved import JOB_STATE_PREFIX

STATE_PREFIX = JOB_STATE_PREFIX
PLAN_PATH = STATE_PREFIX + "plan.json"
DATUMS_PATH = STATE_PREFIX + "datums.jsonl.gz"


def batch_datums_path(index: int) -> str:
    """Where the plan puts the datums of batch ``index`` (state branch)."""
    return f"{STATE_PREFIX}batches/{index:05d}.datums.jsonl.gz"


def batch_result_path(index: int) -> str:
    """Where the process task of batch ``index`` puts its :class:`BatchRecord`."""
    return f"{STATE_PREFIX}batches/{index:05d}.result.json"


class JobPhase(enum.Enum):
    """How far a job got; each phase is recognisable from lakeFS alone, after any crash."""

    # Neither a state branch nor an output commit: never planned, or cleaned up long ago.
    MISSING = "missing"
    # The plan is on the state branch; the staging branch holds uploaded outputs, if any.
    PLANNED = "planned"
    # The staging branch's head is this job's commit, not merged yet.
    STAGED = "staged"
    # The output branch holds this job's commit (its branches may still need removing).
    MERGED = "merged"


@dataclass(frozen=True)
class JobPlanRecord:
    """What the plan step decided, stored as ``plan.json`` on the job's state branch."""

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

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> BatchRef:
        return cls(**value)


DatumStatus = Literal["success", "failed", "recovered"]


@dataclass(frozen=True)
class DatumRecord:
    """What one datum of a batch did: ``recovered`` means errCmd accepted its failure."""

    status: DatumStatus
    outputs: tuple[str, ...] = ()
    exit_code: int | None = None
    tries: int = 0
    duration_s: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class BatchRecord:
    """The result of one batch, written by its process task, read by the commit step."""

    index: int
    datums: Mapping[str, DatumRecord] = field(default_factory=dict)

    def to_json(self) -> bytes:
        record = {
            "index": self.index,
            "datums": {
                datum_id: asdict(datum)
                for datum_id, datum in self.datums.items()
            },
        }
        return json.dumps(record, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> BatchRecord:
        raw = json.loads(data)
        datums = {
            datum_id: DatumRecord(**{**item, "outputs": tuple(item.get("outputs", ()))})
            for datum_id, item in raw["datums"].items()
        }
        return cls(index=int(raw["index"]), datums=datums)


def load_plan(client: LakeFSClient, repo: str, state_branch: str) -> JobPlanRecord:
    """The job's plan, from its state branch.

    :raises JobStateMissingError: the state branch (or its plan) does not exist: the job was
        never planned, or it finished and its branches were removed.
    :raises LakeFSError: lakeFS failed otherwise.
    """
    try:
        data = client.read_bytes(repo, state_branch, PLAN_PATH)
    except NotFoundError as exc:
        raise JobStateMissingError(
            f"no job plan at {repo}@{state_branch}/{PLAN_PATH}: the job was not planned, or "
            "it finished and its branches were removed"
        ) from exc
    return JobPlanRecord.from_json(data)


def load_batch_record(client: LakeFSClient, plan: JobPlanRecord, index: int) -> BatchRecord:
    """The result of batch ``index`` of the job planned as ``plan``.

    :raises JobStateMissingError: the batch's process task did not finish.
    :raises LakeFSError: lakeFS failed otherwise.
    """
    repo, state = plan.output_repo, plan.state_branch
    try:
        return BatchRecord.from_json(client.read_bytes(repo, state, batch_result_path(index)))
    except NotFoundError as exc:
        raise JobStateMissingError(
            f"job {plan.job_id}: batch {index} has no result on {repo}@{state}: its "
            "process task did not finish; rerun it before committing"
        ) from exc


def save_batch_record(client: LakeFSClient, batch: BatchRef, record: BatchRecord) -> None:
    """Write a batch's result to the job's state branch (a retry overwrites it).

    :raises LakeFSError: lakeFS failed.
    """
    client.upload(
        batch.output_repo, batch.state_branch, batch_result_path(batch.index), record.to_json()
    )
