"""Step 1 of a job: pin the inputs, build and diff the datums, prepare the staging branch."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO

from airflow_pachyderm.datums import (
    Batch,
    iter_datums,
    make_batches,
    plan_job,
    serialize_datums,
    write_manifest,
)
from airflow_pachyderm.datums.manifest import ManifestEntry
from airflow_pachyderm.datums.model import Datum
from airflow_pachyderm.datums.plan import JobPlan, PlannedDatum, ReprocessMode, stream_plan
from airflow_pachyderm.datums.selection import (
    DatumSelection,
    DatumSelectionError,
    parse_datum_ids,
)
from airflow_pachyderm.errors import InputMissingError, JobInputError, JobUnchangedError
from airflow_pachyderm.jobs.convert import JobSpec, build_job_spec, cron_repo
from airflow_pachyderm.jobs.job import (
    JOB_BRANCH_PREFIX,
    job_id_for,
    staging_branch_for,
    state_branch_for,
)
from airflow_pachyderm.jobs.provenance import InputCommit, Provenance
from airflow_pachyderm.jobs.state import (
    DATUMS_PATH,
    PLAN_PATH,
    BatchRef,
    JobPlanRecord,
    batch_datums_path,
)
from airflow_pachyderm.jobs.storage import lakefs_lister, read_previous_manifest, upload_written
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.errors import LakeFSError, NotFoundError
from airflow_pachyderm.lakefs.names import branch_uri
from airflow_pachyderm.spec.models import PipelineSpec

log = logging.getLogger(__name__)
_SKELETON_SPOOL_BYTES = 8 * 1024 * 1024
# Branches of a job planned this long ago belong to a dead job and are removed.
DEAD_JOB_AGE_S = 7 * 24 * 3600


@dataclass(frozen=True)
class JobRequest:
    """What a run asks for: its identity and the run's parameters.

    :param input_refs: input name -> ref (branch, tag, commit id or unique prefix,
        ``main~1``): the run's ``input_<name>`` params; inputs not named read their branch.
    :param output_branch: branch receiving the output commit (default: the spec's).
    :param reprocess: ``changed``, ``all``, ``failed``, or datum ids or unique prefixes.
    :param tick: time of a cron tick (the run's logical date).
    :param scheduled: the run was started by its time schedule: cron inputs get a new
        tick; other runs (new data, manual) read the latest tick.
    :param event_commits: ``lakefs://<repo>/<branch>`` -> commit id, from the asset events
        that triggered the run: those inputs read exactly that commit.
    :param pinned_at: the run's own time (Airflow's ``run_after``): inputs that are neither
        named in ``input_refs`` nor in ``event_commits`` read the newest commit of their
        branch made at or before it, so every retry or clear of the run reads the same ones.
    :param skip_unchanged: do nothing when the output branch already holds the result of
        another job for exactly these input commits (asset-triggered runs).
    """

    dag_id: str
    run_id: str
    input_refs: Mapping[str, str]
    output_branch: str | None = None
    reprocess: ReprocessMode = "changed"
    tick: datetime | None = None
    scheduled: bool = False
    airflow_url: str = ""
    event_commits: Mapping[str, str] = field(default_factory=dict)
    pinned_at: datetime | None = None
    skip_unchanged: bool = False

    @property
    def job_id(self) -> str:
        return job_id_for(self.dag_id, self.run_id)


REPROCESS_MODES = ("changed", "all", "failed", "datums")
# A run's param naming the ref of one input: ``input_<input name>``.
INPUT_PARAM_PREFIX = "input_"


def parse_reprocess(mode: object, datums: object = "") -> ReprocessMode:
    """The ``reprocess`` and ``datums`` params as a reprocess mode.

    :param mode: ``changed`` (default), ``all``, ``failed``, or ``datums`` (process the
        datums of ``datums`` on top of the changed ones). For the command line, a
        comma-separated string (or list) of datum ids stands for ``datums`` with those.
    :param datums: comma-separated datum ids or unique prefixes (4+ hex characters).
    :return: a mode name, or the set of ids and prefixes (resolved by the plan).
    :raises JobInputError: an unknown mode, a malformed id, ids without mode ``datums``
        or mode ``datums`` without ids.
    """
    try:
        ids = parse_datum_ids(datums if isinstance(datums, (str, list, tuple, set)) else "")
        if mode is None or mode == "":
            mode = "changed"
        if isinstance(mode, str) and mode in REPROCESS_MODES:
            if mode != "datums" and ids:
                raise JobInputError(
                    f"datums is set but reprocess is {mode!r}: choose reprocess 'datums' to "
                    "process those datums, or clear datums"
                )
            if mode == "datums" and not ids:
                raise JobInputError(
                    "reprocess is 'datums' but datums is empty: give datum ids or prefixes "
                    "(comma-separated)"
                )
            return ids if mode == "datums" else mode
        if isinstance(mode, (str, list, tuple, set)) and not ids:
            return parse_datum_ids(mode)
    except DatumSelectionError as exc:
        if isinstance(mode, str) and mode not in REPROCESS_MODES and "," not in mode:
            raise JobInputError(
                f"reprocess: {mode!r} is none of {', '.join(REPROCESS_MODES)} nor a datum id"
            ) from exc
        raise JobInputError(str(exc)) from exc
    raise JobInputError(f"reprocess: expected one of {', '.join(REPROCESS_MODES)}, got {mode!r}")


def resolve_inputs(
    client: LakeFSClient, spec: PipelineSpec, request: JobRequest, *, write_ticks: bool = True
) -> tuple[InputCommit, ...]:
    """Pin every input (changed or not) to a commit id.

    A cron input gets a new tick commit when the run is a scheduled one; other runs, and
    dry runs (``write_ticks`` false), read its latest tick.
    """
    names = [spec.input_key(p) for p in spec.pfs_inputs()] + [c.name for c in spec.cron_inputs()]
    unknown = sorted(set(request.input_refs) - set(names))
    if unknown:
        raise JobInputError(
            f"input_{unknown[0]}: {unknown[0]!r} is not an input of pipeline "
            f"{spec.name!r} (inputs: {', '.join(names)})"
        )
    pinned: list[InputCommit] = []
    for pfs in spec.pfs_inputs():
        key, repo = spec.input_key(pfs), pfs.lakefs_repo
        pin = request.input_refs.get(key, "")
        event = request.event_commits.get(branch_uri(repo, pfs.branch), "")
        if pin:
            commit = _resolve(client, key, repo, pin)
        elif event:
            commit = _resolve(client, key, repo, event)
        else:
            commit = _head_at(client, key, repo, pfs.branch, request.pinned_at)
        pinned.append(InputCommit(key, repo, commit, "" if pin else pfs.branch, pin))
    for cron in spec.cron_inputs():
        repo = cron_repo(spec.output_repo, cron.name)
        pin = request.input_refs.get(cron.name, "")
        new_tick = write_ticks and not pin and (
            request.scheduled or not client.repository_exists(repo)
        )
        if new_tick:
            commit = _write_tick(client, repo, request.tick, overwrite=cron.overwrite)
        else:
            commit = _resolve(client, cron.name, repo, pin or "main")
        pinned.append(InputCommit(cron.name, repo, commit, "" if pin else "main", pin))
    return tuple(pinned)


def _head_at(
    client: LakeFSClient, name: str, repo: str, branch: str, when: datetime | None
) -> str:
    """The newest commit of ``branch`` made at or before ``when`` (None: the head)."""
    try:
        head = client.get_commit(repo, branch)
    except NotFoundError as exc:
        raise InputMissingError(
            f"input {name!r}: repo {repo!r} has no branch {branch!r} yet ({exc.server_message})"
        ) from exc
    if when is None:
        return head.id
    # lakeFS commit times are whole seconds: a commit of the run's own second counts.
    limit = int(when.timestamp())
    if head.creation_date <= limit:
        return head.id
    for commit in client.log_commits(repo, head.id, first_parent=True):
        if commit.creation_date <= limit:
            return commit.id
    raise InputMissingError(
        f"input {name!r}: {repo}@{branch} has no commit made before this run "
        f"({when.isoformat()}); trigger a new run to read its head"
    )


def _resolve(client: LakeFSClient, name: str, repo: str, ref: str) -> str:
    try:
        return client.resolve_ref(repo, ref)
    except NotFoundError as exc:
        raise JobInputError(
            f"input {name!r}: repo {repo!r} has no ref {ref!r} ({exc.server_message})"
        ) from exc


def _write_tick(
    client: LakeFSClient, repo: str, tick: datetime | None, *, overwrite: bool
) -> str:
    """Add a file named after the tick time to the cron repo and commit it.

    Idempotent: a retried plan of the same scheduled run finds its tick committed.
    """
    when = (tick or datetime.now(timezone.utc)).astimezone(timezone.utc)
    name = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    client.create_repository(repo, exist_ok=True)
    if client.exists(repo, "main@", name):
        return client.resolve_ref(repo, "main")
    if overwrite:
        old = [o.path for o in client.list_objects(repo, "main") if o.path != name]
        client.delete_objects(repo, "main", old)
    client.upload(repo, "main", name, when.isoformat().encode())
    return client.commit(repo, "main", f"tick {name}", allow_empty=True).id


def prepare_output_branch(client: LakeFSClient, spec: PipelineSpec, branch: str) -> str:
    """Create the output repo and the spec's output branch on first use; return the head
    commit the job builds on.

    A side branch that does not exist yet is not created here but by the commit step, at
    the job's output commit: a failed job leaves no branch that looks like a result. Until
    then the job builds on the pipeline's own output, so the comparison with its manifest
    still skips what needs no recomputing.
    """
    client.create_repository(spec.output_repo, default_branch=spec.output_branch, exist_ok=True)
    with contextlib.suppress(NotFoundError):
        return client.get_branch(spec.output_repo, branch)
    return client.get_branch(spec.output_repo, spec.output_branch)


def plan_datums(
    client: LakeFSClient,
    spec: PipelineSpec,
    inputs: tuple[InputCommit, ...],
    base_commit: str | None,
    reprocess: ReprocessMode,
    image_id: str = "",
) -> JobPlan:
    """Build the job's datums and compare them with the manifest of ``base_commit``.

    :raises JobInputError: a datum id prefix in ``reprocess`` names no datum, or several.
    """
    previous = (
        read_previous_manifest(client, spec.output_repo, base_commit) if base_commit else None
    )
    job = _job_spec(spec, inputs, image_id)
    with _selected(spec, reprocess, previous, _job_datums(client, job)) as chosen:
        datums, mode = chosen
        return plan_job(datums, previous, salt=job.salt, reprocess=mode)


def plan_datums_streaming(
    client: LakeFSClient,
    spec: PipelineSpec,
    inputs: tuple[InputCommit, ...],
    base_commit: str | None,
    reprocess: ReprocessMode,
    image_id: str,
    skeleton: IO[bytes],
) -> JobPlan:
    """:func:`plan_datums` for jobs of any size: the skipped datums go straight into
    ``skeleton`` (the next manifest without this job's outputs) instead of the plan, and the
    previous manifest is held compactly. Memory grows with the datums to process, not with
    the datums skipped.

    :raises JobInputError: a datum id prefix in ``reprocess`` names no datum, or several.
    """
    previous = (
        read_previous_manifest(client, spec.output_repo, base_commit, compact=True)
        if base_commit
        else None
    )
    plan = JobPlan()
    job = _job_spec(spec, inputs, image_id)
    with _selected(spec, reprocess, previous, _job_datums(client, job)) as chosen:
        datums, mode = chosen
        skipped = stream_plan(datums, previous, plan, salt=job.salt, reprocess=mode)

        def entries() -> Iterator[ManifestEntry]:
            for planned in skipped:
                yield planned.entry()
            for planned in plan.to_process:
                yield planned.entry(outputs=())

        write_manifest(skeleton, entries())
    return plan


def _job_spec(spec: PipelineSpec, inputs: tuple[InputCommit, ...], image_id: str) -> JobSpec:
    return build_job_spec(spec, {item.name: item.commit for item in inputs}, image_id)


def _job_datums(client: LakeFSClient, job: JobSpec) -> Iterator[Datum]:
    return iter_datums(job.tree, lakefs_lister(client))


@contextlib.contextmanager
def _selected(
    spec: PipelineSpec,
    reprocess: ReprocessMode,
    previous: Mapping[str, object] | None,
    datums: Iterator[Datum],
) -> Iterator[tuple[Iterator[Datum], ReprocessMode]]:
    """The job's datums and the reprocess mode to plan them with.

    Datum ids or unique prefixes resolve against the previous manifest (the only datums
    forcing changes anything for) and the job's own datums (to refuse a prefix naming none
    or several) as these stream past: the check runs when the block has read them all.
    """
    if spec.reprocess_spec == "every_job":
        reprocess = "all"
    if isinstance(reprocess, str):
        yield datums, reprocess
        return
    selection = DatumSelection(reprocess)
    try:
        forced = selection.known(previous)
        yield selection.watch(datums), forced
        selection.check()
    except DatumSelectionError as exc:
        raise JobInputError(str(exc)) from exc


def plan_job_run(
    client: LakeFSClient,
    spec: PipelineSpec,
    request: JobRequest,
    *,
    image_id: str = "",
    log_line: Callable[[str], None] = log.info,
) -> tuple[JobPlanRecord, list[BatchRef]]:
    """Plan a job and write its state to fresh job branches; return its batches.

    :param image_id: the id of the transform image as the runner's host has it; the job
        runs exactly that image, and a rebuilt image reprocesses every datum.
    """
    output_branch = request.output_branch or spec.output_branch
    inputs = resolve_inputs(client, spec, request)
    for item in inputs:
        log_line(f"input {item.name}: {item.repo}@{item.commit} ({_source(item, request)})")
    if request.pinned_at is not None:
        log_line(
            f"this run reads these commits: a retry or clear of it recomputes exactly them "
            f"(run time {request.pinned_at.isoformat()})"
        )
    base_commit = prepare_output_branch(client, spec, output_branch)
    _check_changed(client, spec, request, output_branch, base_commit, inputs, log_line)
    # Every datum of the job with its hash: the skeleton of the next manifest, written while
    # planning (spilled to disk past a few MiB).
    with tempfile.SpooledTemporaryFile(max_size=_SKELETON_SPOOL_BYTES) as skeleton:
        plan = plan_datums_streaming(
            client, spec, inputs, base_commit, request.reprocess, image_id, skeleton
        )
        skeleton.seek(0)
        record, refs = _write_job_state(
            client, spec, request, plan, inputs, base_commit, output_branch, skeleton,
            image_id, log_line,
        )  # fmt: skip
    return record, refs


def _write_job_state(
    client: LakeFSClient,
    spec: PipelineSpec,
    request: JobRequest,
    plan: JobPlan,
    inputs: tuple[InputCommit, ...],
    base_commit: str,
    output_branch: str,
    skeleton: IO[bytes],
    image_id: str,
    log_line: Callable[[str], None],
) -> tuple[JobPlanRecord, list[BatchRef]]:
    """Write the plan's state (batches, datum skeleton, plan record) to fresh job branches."""
    job_id = request.job_id
    batches: list[Batch] = make_batches(
        plan.to_process,
        parallelism=spec.parallelism_spec.constant,
        batch_size=spec.datum_set_spec.number if spec.datum_set_spec else None,
    )

    repo = spec.output_repo
    staging, state = staging_branch_for(job_id), state_branch_for(job_id)
    _remove_dead_job_branches(client, repo, keep={staging, state})
    for branch in (staging, state):  # fresh ones, also when the plan is retried
        client.delete_branch(repo, branch, missing_ok=True)
        client.create_branch(repo, branch, base_commit)
    by_id = {planned.id: planned for planned in plan.to_process}
    for batch in batches:
        upload_written(
            client, repo, state, batch_datums_path(batch.index),
            lambda fh, b=batch: serialize_datums(fh, (by_id[i] for i in b.datum_ids)),
        )
    client.upload(repo, state, DATUMS_PATH, skeleton)
    counts = {
        "processed": len(plan.to_process),
        "skipped": plan.skipped,
        "deleted": len(plan.to_delete),
        "failed": 0,
    }
    record = JobPlanRecord(
        job_id=job_id,
        plan_id=uuid.uuid4().hex,
        pipeline=spec.name,
        spec_hash=spec.spec_hash(),
        output_repo=spec.output_repo,
        output_branch=output_branch,
        staging_branch=staging,
        state_branch=state,
        base_commit=base_commit,
        inputs=inputs,
        batches=len(batches),
        counts=counts,
        stale_outputs=tuple(plan.stale_outputs),
        dag_id=request.dag_id,
        run_id=request.run_id,
        airflow_url=request.airflow_url,
        created_at=time.time(),
        image_name=spec.transform.image,
        image=image_id,
    )
    client.upload(repo, state, PLAN_PATH, record.to_json())
    log_line(
        f"job {job_id}: {counts['processed']} datums to process in {len(batches)} batches, "
        f"{counts['skipped']} skipped, {counts['deleted']} deleted"
    )
    refs = [
        BatchRef(job_id, repo, staging, state, batch.index, len(batch.datum_ids),
                 batch_label(batch.index, [by_id[i] for i in batch.datum_ids[:1]],
                             len(batch.datum_ids)))
        for batch in batches
    ]
    return record, refs


def batch_label(index: int, first: list[PlannedDatum], datums: int, width: int = 48) -> str:
    """``3: images/cat.png +24 (25 datums)``: the label of a batch's mapped task."""
    path = first[0].datum.files[0].path if first and first[0].datum.files else ""
    if len(path) > width:
        path = "..." + path[-(width - 3):]
    more = f" +{datums - 1}" if datums > 1 else ""
    noun = "datum" if datums == 1 else "datums"
    return f"{index}: {path or '(no files)'}{more} ({datums} {noun})"


def _source(item: InputCommit, request: JobRequest) -> str:
    if item.pinned_ref:
        return f"pinned by the run to {item.pinned_ref!r}"
    if branch_uri(item.repo, item.branch) in request.event_commits:
        return f"the commit on branch {item.branch} that triggered this run"
    if request.pinned_at is not None:
        return f"head of branch {item.branch} at the run's time"
    return f"head of branch {item.branch}"


def _check_changed(
    client: LakeFSClient,
    spec: PipelineSpec,
    request: JobRequest,
    output_branch: str,
    base_commit: str,
    inputs: tuple[InputCommit, ...],
    log_line: Callable[[str], None],
) -> None:
    """Raise :class:`JobUnchangedError` for a triggered job with nothing new to compute;
    warn when a job recomputes older inputs than the output branch holds."""
    head = Provenance.from_metadata(client.get_commit(spec.output_repo, base_commit).metadata)
    if head is None or head.job == request.job_id:
        return  # no earlier job, or this run's own result (a clear asks to recompute it)
    wanted = {item.name: item.commit for item in inputs}
    previous = {item.name: item.commit for item in head.inputs}
    if wanted == previous:
        if request.skip_unchanged and request.reprocess == "changed":
            raise JobUnchangedError(
                f"{spec.output_repo}@{output_branch} already holds job {head.job}'s result "
                f"for exactly these input commits ({base_commit}): nothing to do"
            )
        return
    older = [
        item.name for item in inputs
        if item.name in previous and item.commit != previous[item.name] and not item.pinned_ref
        and _is_ancestor(client, item.repo, item.commit, previous[item.name])
    ]
    if older:
        log.warning(
            "this job reads older commits of %s than %s@%s was computed from (job %s): "
            "its output commit will hold results of those older inputs",
            ", ".join(older), spec.output_repo, output_branch, head.job,
        )
        log_line(f"recomputing older inputs ({', '.join(older)}) into {output_branch}")


def _is_ancestor(client: LakeFSClient, repo: str, older: str, newer: str) -> bool:
    """Whether commit ``older`` is a first-parent ancestor of ``newer``.

    The usual case (a job reading newer commits than the last one) costs two small reads;
    only an input that really went back walks the log, and no further than ``older``'s time.
    """
    since = client.get_commit(repo, older).creation_date
    if client.get_commit(repo, newer).creation_date < since:
        return False
    for commit in client.log_commits(repo, newer, first_parent=True):
        if commit.id == older:
            return True
        if commit.creation_date < since:
            return False
    return False


def _remove_dead_job_branches(client: LakeFSClient, repo: str, keep: set[str]) -> None:
    """Remove the branches of jobs planned more than ``DEAD_JOB_AGE_S`` ago.

    A failed job's branches stay for a while so that its files can be inspected; a job
    that old is not running any more (its DAG run would have timed out or been retried
    under the same job id, which plans anew on fresh branches).
    """
    now = time.time()
    for branch in list(client.list_branches(repo, prefix=JOB_BRANCH_PREFIX)):
        if branch.id in keep or not branch.id.endswith("-state"):
            continue
        try:
            plan = JobPlanRecord.from_json(client.read_bytes(repo, branch.id, PLAN_PATH))
        except LakeFSError:
            continue  # a state branch without a plan: being created right now, or foreign
        if now - plan.created_at < DEAD_JOB_AGE_S:
            continue
        for name in (plan.staging_branch, plan.state_branch):
            try:
                client.delete_branch(repo, name, missing_ok=True)
            except LakeFSError as exc:  # never fatal: this job does not depend on it
                log.warning("could not delete old job branch %s@%s: %s", repo, name, exc)
