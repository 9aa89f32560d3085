"""Step 2 of a job: run one batch of datums and stage its outputs.

A batch reads its datums from the job's state branch, materialises their input files from the
local content-addressed cache, runs the user's container, checks the outputs and uploads
them to the staging branch. Retrying a batch overwrites the same paths: never duplicates.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from airflow_pachyderm.datums import (
    Datum,
    check_output_collisions,
    deserialize_datums,
    leaf_inputs,
)
from airflow_pachyderm.errors import DatumFailedError, SpecChangedError
from airflow_pachyderm.jobs.convert import build_job_spec
from airflow_pachyderm.jobs.state import (
    BatchRecord,
    BatchRef,
    DatumRecord,
    batch_datums_path,
    load_plan,
    save_batch_record,
)
from airflow_pachyderm.jobs.storage import read_with
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.runners.base import (
    BatchRunner,
    DatumResult,
    DatumWork,
    InputFile,
    JobContext,
)
from airflow_pachyderm.runners.cache import ContentCache
from airflow_pachyderm.spec.models import PipelineSpec

log = logging.getLogger(__name__)
# Concurrent lakeFS transfers per batch task (downloads into the cache, output uploads).
IO_WORKERS = 8


@dataclass(frozen=True)
class BatchOutcome:
    index: int
    processed: int
    failed: int
    recovered: int
    outputs: int


def default_cache_dir() -> Path:
    base = os.environ.get("AIRFLOW_PACHYDERM_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "airflow-pachyderm"


def cache_key(checksum: str) -> str:
    # lakeFS checksums are content-derived but their shape depends on the blockstore.
    return hashlib.sha256(checksum.encode()).hexdigest()


def _fetch(client: LakeFSClient, cache: ContentCache, f) -> Path:
    return cache.ensure(
        cache_key(f.checksum), lambda fh: client.download(f.repo, f.commit, f.path, fh)
    )


def materialise(
    client: LakeFSClient, cache: ContentCache, datum: Datum, all_inputs: list[str], scratch: Path
) -> DatumWork:
    """The datum's files on local disk, hard-linked from the cache (fetched once)."""
    files = []
    roots: dict[str, str] = {}
    for f in datum.files:
        roots.setdefault(f.input_name, f.datum_root)
        if f.empty_files:
            local = scratch / "empty"
            local.mkdir(parents=True, exist_ok=True)
            local = local / "empty-file"
            local.touch(exist_ok=True)
        else:
            local = _fetch(client, cache, f)
        files.append(InputFile(f.input_name, f.path, local, f.commit))
    present = set(roots)
    return DatumWork(
        datum_id=datum.id,
        files=files,
        empty_input_names=[name for name in all_inputs if name not in present],
        roots=roots,
    )


def process_batch(
    client: LakeFSClient,
    spec: PipelineSpec,
    batch: BatchRef,
    runner: BatchRunner,
    *,
    secrets_env: Mapping[str, str] | None = None,
    secret_files: Mapping[str, Mapping[str, str]] | None = None,
    workdir: Path,
    cache: ContentCache | None = None,
    log_line: Callable[[str], None] = log.info,
) -> BatchOutcome:
    """Run batch ``batch`` of a planned job and stage its outputs; safe to run again.

    :raises JobStateMissingError: the job has no plan (it finished, or was never planned).
    :raises SpecChangedError: the pipeline spec changed since the job was planned.
    :raises OutputCollisionError: two datums wrote the same output path.
    :raises DatumFailedError: datums failed every try (their results are recorded first).
    :raises RunnerError: the container runtime failed.
    :raises LakeFSError: lakeFS failed.
    """
    repo, staging, state = batch.output_repo, batch.staging_branch, batch.state_branch
    plan = load_plan(client, repo, state)
    if plan.spec_hash != spec.spec_hash():
        raise SpecChangedError(
            f"job {plan.job_id} was planned with spec {plan.spec_hash[:12]} but this task has "
            f"spec {spec.spec_hash()[:12]} (the pipeline changed in between): run the job again"
        )
    datums = read_with(
        client, repo, state, batch_datums_path(batch.index),
        lambda fh: list(deserialize_datums(fh, source=f"batch {batch.index}")),
    )
    cache = cache or ContentCache(default_cache_dir() / "objects")
    job_spec = build_job_spec(spec, {item.name: item.commit for item in plan.inputs}, plan.image)
    leaves = leaf_inputs(job_spec.tree)
    names = sorted({leaf.name for leaf in leaves})
    workdir.mkdir(parents=True, exist_ok=True)
    # Fetch each distinct file once (a model shared by every datum too), in parallel;
    # linking datums to the cached files is then local work.
    distinct = {cache_key(f.checksum): f for d in datums for f in d.files if not f.empty_files}
    with ThreadPoolExecutor(max_workers=IO_WORKERS) as pool:
        list(pool.map(lambda f: _fetch(client, cache, f), distinct.values()))
    works = [materialise(client, cache, datum, names, workdir) for datum in datums]
    log_line(f"batch {batch.index}: {len(works)} datums, inputs materialised")

    job = JobContext(
        job_id=plan.job_id,
        pipeline=spec.name,
        secrets_env=dict(secrets_env or {}),
        secret_files={path: dict(files) for path, files in (secret_files or {}).items()},
        # By input name, as the container sees them (a datum's own commits come per file).
        input_commits={leaf.name: leaf.commit for leaf in leaves},
        workdir=workdir,
        log=log_line,
        batch=str(batch.index),
    )
    result = runner.run_batch(job_spec.transform, job, works)

    published = {d.datum_id: d.output_paths for d in result.datums if _publishes(d)}
    check_output_collisions(published)
    uploads = [
        (rel, datum.output_dir / rel)
        for datum in result.datums
        if _publishes(datum)
        for rel in datum.output_paths
    ]
    # Object uploads are independent requests: overlap their round trips.
    with ThreadPoolExecutor(max_workers=IO_WORKERS) as pool:
        list(pool.map(lambda item: client.upload(repo, staging, item[0], item[1]), uploads))
    uploaded = len(uploads)
    record = BatchRecord(
        index=batch.index,
        datums={
            d.datum_id: DatumRecord(
                status="recovered" if d.recovered else d.status,
                outputs=tuple(sorted(d.output_paths)) if _publishes(d) else (),
                exit_code=d.exit_code,
                tries=d.tries,
                duration_s=round(d.duration_s, 3),
                error=d.error,
            )
            for d in result.datums
        },
    )
    save_batch_record(client, batch, record)
    failed = [d for d in result.datums if d.status == "failed"]
    outcome = BatchOutcome(
        index=batch.index,
        processed=len(result.datums),
        failed=len(failed),
        recovered=sum(1 for d in result.datums if d.recovered),
        outputs=uploaded,
    )
    if failed:
        details = "\n".join(d.error or f"datum {d.datum_id} failed" for d in failed[:5])
        more = f"\n... and {len(failed) - 5} more" if len(failed) > 5 else ""
        raise DatumFailedError(
            f"{len(failed)} of {len(result.datums)} datums of batch {batch.index} failed; "
            f"the output branch is left untouched.\n{details}{more}"
        )
    return outcome


def _publishes(datum: DatumResult) -> bool:
    # A datum recovered by errCmd counts as done but publishes nothing, as in Pachyderm.
    return datum.status == "success" and not datum.recovered and datum.output_dir is not None
