"""Step 3 of a job: one atomic output commit with provenance, merged in one step.

Every step checks what an earlier, interrupted attempt already did, so a retry after a
crash at any point ends with exactly one output commit and no leftovers:

1. a commit of this job on the output branch -> it was merged: delete the job's branches;
2. staging branch head made by this job -> it was committed but not merged: merge it;
3. otherwise apply deletions, write the manifest, commit the staging branch, check that
   the output branch did not move since the plan, merge, delete the job's branches.

The job's state (plan, batch results) lives on its own, never committed, state branch,
so it stays readable to a retry whatever point the crash hit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from airflow_pachyderm.datums import check_output_collisions, iter_manifest, write_manifest
from airflow_pachyderm.datums.manifest import MANIFEST_PATH, complete_entries
from airflow_pachyderm.errors import (
    DatumFailedError,
    JobStateMissingError,
    OutputBranchMovedError,
)
from airflow_pachyderm.jobs.job import staging_branch_for, state_branch_for
from airflow_pachyderm.jobs.process import IO_WORKERS
from airflow_pachyderm.jobs.state import (
    DATUMS_PATH,
    DatumRecord,
    JobPhase,
    JobPlanRecord,
    load_batch_record,
    load_plan,
)
from airflow_pachyderm.jobs.storage import read_with, upload_written
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.errors import ConflictError, NotFoundError
from airflow_pachyderm.lakefs.provenance import KEY_JOB, KEY_PLAN, Provenance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobCommit:
    """The result of a job: its output commit on the output branch."""

    repo: str
    branch: str
    commit: str
    provenance: Provenance


def commit_job(
    client: LakeFSClient,
    repo: str,
    job_id: str,
    *,
    output_branch: str,
    log_line: Callable[[str], None] = log.info,
) -> JobCommit:
    """Commit job ``job_id`` and merge it into ``output_branch``; safe to call again.

    :raises JobStateMissingError: the job has neither state nor an output commit, or a batch
        has no result (its process task did not finish).
    :raises DatumFailedError: datums of the job failed; nothing is committed.
    :raises OutputCollisionError: two datums wrote the same output path.
    :raises OutputBranchMovedError: the output branch moved since the plan; nothing merged.
    :raises LakeFSError: lakeFS failed.
    """
    progress = job_progress(client, repo, job_id, output_branch)
    match progress.phase:
        case JobPhase.MERGED:
            assert progress.done is not None
            log_line(f"job {job_id}: already merged as {progress.done.commit}; cleaning up")
            _drop_job_branches(client, repo, job_id)
            return progress.done
        case JobPhase.MISSING:
            raise JobStateMissingError(
                f"job {job_id} has no state branch {repo}@{state_branch_for(job_id)} and no "
                f"output commit on {output_branch}: clear the whole run (its plan task first)"
            )
        case JobPhase.STAGED:
            assert progress.plan is not None and progress.staged is not None
            log_line(f"job {job_id}: staging already committed ({progress.staged.commit}); "
                     "merging")
            return _merge(client, progress.plan, progress.staged.provenance, log_line)
        case JobPhase.PLANNED:
            assert progress.plan is not None
            provenance = _commit_staging(client, progress.plan, log_line)
            return _merge(client, progress.plan, provenance, log_line)
    raise AssertionError(f"unknown job phase {progress.phase}")


@dataclass(frozen=True)
class JobProgress:
    """How far a job got (:class:`JobPhase`), with what each phase has to show."""

    phase: JobPhase
    plan: JobPlanRecord | None = None
    staged: JobCommit | None = None  # STAGED: the staging branch's commit
    done: JobCommit | None = None  # MERGED: the output commit


def job_progress(client: LakeFSClient, repo: str, job_id: str, output_branch: str) -> JobProgress:
    """Find out from lakeFS how far job ``job_id`` got.

    :raises LakeFSError: lakeFS failed.
    """
    try:
        plan: JobPlanRecord | None = load_plan(client, repo, state_branch_for(job_id))
    except JobStateMissingError:
        plan = None
    # The state branch goes last: without it, the job is either merged or never planned.
    done = _finished_commit(
        client, repo, output_branch, job_id, plan.plan_id if plan else None,
        depth=20 if plan else 1000,
    )
    if done is not None:
        return JobProgress(JobPhase.MERGED, plan, done=done)
    if plan is None:
        return JobProgress(JobPhase.MISSING)
    staging = staging_branch_for(job_id)
    head = client.get_commit(repo, staging)
    if _made_by(head.metadata, job_id, plan.plan_id):
        provenance = Provenance.from_metadata(head.metadata)
        assert provenance is not None
        return JobProgress(
            JobPhase.STAGED, plan, staged=JobCommit(repo, staging, head.id, provenance)
        )
    return JobProgress(JobPhase.PLANNED, plan)


def _made_by(metadata: dict[str, str], job_id: str, plan_id: str | None) -> bool:
    """Whether a commit is this job's (and, when given, this planning attempt's)."""
    if metadata.get(KEY_JOB) != job_id:
        return False
    return plan_id is None or metadata.get(KEY_PLAN) == plan_id


def _finished_commit(
    client: LakeFSClient, repo: str, branch: str, job_id: str, plan_id: str | None,
    depth: int = 20,
) -> JobCommit | None:
    """The output commit of this job among the branch's latest ``depth`` commits, if any.

    A planned attempt's commit is at most a few commits deep (the merge refuses a moved
    branch); only a job without state needs a deeper search.
    """
    try:
        for commit in client.log_commits(repo, branch, amount=depth, first_parent=True):
            if _made_by(commit.metadata, job_id, plan_id):
                provenance = Provenance.from_metadata(commit.metadata)
                assert provenance is not None
                return JobCommit(repo, branch, commit.id, provenance)
    except NotFoundError:
        return None
    return None


def find_job_commit(client: LakeFSClient, repo: str, branch: str, job_id: str) -> str | None:
    """The output commit job ``job_id`` made on ``branch`` (any planning attempt), if any."""
    done = _finished_commit(client, repo, branch, job_id, None, depth=1000)
    return done.commit if done else None


def _drop_job_branches(client: LakeFSClient, repo: str, job_id: str) -> None:
    client.delete_branch(repo, staging_branch_for(job_id), missing_ok=True)
    client.delete_branch(repo, state_branch_for(job_id), missing_ok=True)


def _commit_staging(
    client: LakeFSClient, plan: JobPlanRecord, log_line: Callable[[str], None]
) -> Provenance:
    repo, staging, state = plan.output_repo, plan.staging_branch, plan.state_branch
    results: dict[str, DatumRecord] = {}
    # Up to 1,024 small reads: overlap their round trips.
    with ThreadPoolExecutor(max_workers=IO_WORKERS) as pool:
        for record in pool.map(
            lambda index: load_batch_record(client, plan, index), range(plan.batches)
        ):
            results.update(record.datums)
    failed = [datum_id for datum_id, r in results.items() if r.status == "failed"]
    if failed:
        raise DatumFailedError(
            f"job {plan.job_id}: {len(failed)} datums failed (first {failed[0]}); "
            "not committing, the output branch is left untouched"
        )
    # A datum recovered by errCmd is done but marked failed, as Pachyderm does:
    # `reprocess: failed` retries exactly those.
    outcomes = {datum_id: (r.outputs, r.status == "recovered") for datum_id, r in results.items()}
    entries = read_with(
        client, repo, state, DATUMS_PATH,
        lambda fh: list(complete_entries(iter_manifest(fh), outcomes)),
    )
    # Carried-over outputs and new ones together: one path, one datum.
    check_output_collisions({e.datum_id: e.outputs for e in entries})
    written = {path for e in entries for path in e.outputs}
    stale = {path for path in plan.stale_outputs if path not in written}
    # Files an earlier, failed try of a batch uploaded and no datum owns now.
    stale.update(
        d.path for d in client.diff_uncommitted(repo, staging)
        if d.type in ("added", "changed") and d.path not in written
    )
    client.delete_objects(repo, staging, sorted(stale))
    upload_written(client, repo, staging, MANIFEST_PATH, lambda fh: write_manifest(fh, entries))

    counts = dict(plan.counts)
    counts["failed"] = 0
    counts["recovered"] = sum(1 for r in results.values() if r.status == "recovered")
    provenance = Provenance(
        pipeline=plan.pipeline,
        job=plan.job_id,
        plan=plan.plan_id,
        spec_hash=plan.spec_hash,
        image=plan.image_name,
        image_id=plan.image,
        inputs=plan.inputs,
        datums=counts,
        manifest_path=MANIFEST_PATH,
        output_branch=plan.output_branch,
        base_commit=plan.base_commit,
        dag_id=plan.dag_id,
        run_id=plan.run_id,
        airflow_url=plan.airflow_url,
    )
    commit = client.commit(
        repo, staging, _message(plan), metadata=provenance.to_metadata(), allow_empty=True
    )
    log_line(f"job {plan.job_id}: staged outputs committed as {commit.id}")
    return provenance


def _merge(
    client: LakeFSClient,
    plan: JobPlanRecord,
    provenance: Provenance,
    log_line: Callable[[str], None],
) -> JobCommit:
    repo, branch, staging = plan.output_repo, plan.output_branch, plan.staging_branch
    try:
        head = client.get_commit(repo, branch)
    except NotFoundError:
        # A new side branch: created here, at the output commit, so that a failed job
        # leaves no branch that looks like a result.
        merged = client.get_commit(repo, staging).id
        try:
            client.create_branch(repo, branch, merged)
        except ConflictError as exc:
            raise OutputBranchMovedError(
                f"branch {branch} was created by someone else while job {plan.job_id} ran; "
                "nothing was merged. Run the job again to build on it", where=f"{repo}@{branch}",
            ) from exc
    else:
        if plan.base_commit and head.id != plan.base_commit:
            raise OutputBranchMovedError(
                f"output branch moved from {plan.base_commit} to {head.id} while job "
                f"{plan.job_id} ran; nothing was merged. Run the job again to build on the "
                "new head", where=f"{repo}@{branch}",
            )
        merged = client.merge(
            repo, staging, branch,
            message=_message(plan),
            metadata=provenance.to_metadata(),
            allow_empty=True,
        )
    _drop_job_branches(client, repo, plan.job_id)
    log_line(f"job {plan.job_id}: output commit {repo}@{merged} on branch {branch}")
    return JobCommit(repo, branch, merged, provenance)


def _message(plan: JobPlanRecord) -> str:
    counts = plan.counts
    return (
        f"{plan.pipeline}: job {plan.job_id} ({counts.get('processed', 0)} processed, "
        f"{counts.get('skipped', 0)} skipped, {counts.get('deleted', 0)} deleted)"
    )
