"""Translate a pipeline spec into the plain values the datum planner and runners take.

:func:`build_job_spec` is the one place a task turns its validated ``PipelineSpec`` into a
frozen :class:`JobSpec`: the engine reads its input tree and salt, the runner its transform.
Nothing in it is checked again downstream (the spec was).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from airflow_pachyderm.datums.inputs import (
    CronLeaf,
    CrossInput,
    GroupInput,
    InputTree,
    JoinInput,
    PfsLeaf,
    UnionInput,
)
from airflow_pachyderm.runners.base import DEFAULT_PIDS_LIMIT, TransformSpec
from airflow_pachyderm.spec.models import Input, PipelineSpec


@dataclass(frozen=True)
class JobSpec:
    """What one job of a pipeline runs, with its inputs pinned; built by :func:`build_job_spec`.

    :param pipeline: the pipeline's name.
    :param tree: the input tree, every leaf pinned to a commit (for the datum engine).
    :param transform: how the runner starts the user's code, image pinned.
    :param salt: what besides input content makes a datum's result differ (:func:`datum_salt`).
    """

    pipeline: str
    tree: InputTree
    transform: TransformSpec
    salt: str


def build_job_spec(spec: PipelineSpec, commits: Mapping[str, str], image_id: str = "") -> JobSpec:
    """The job specification of ``spec`` with its inputs at ``commits`` (by input key).

    :param spec: the validated pipeline spec.
    :param commits: the commit id of every input, keyed as in the job plan.
    :param image_id: the transform image's id as the plan saw it ("" = the image's name).
    :raises KeyError: an input of ``spec`` has no commit in ``commits``.
    """
    return JobSpec(
        pipeline=spec.name,
        tree=input_tree(spec, commits),
        transform=transform_spec(spec, image_id),
        salt=datum_salt(spec, image_id),
    )


_COMBINATORS = {"cross": CrossInput, "union": UnionInput, "join": JoinInput, "group": GroupInput}


def cron_repo(output_repo: str, input_name: str) -> str:
    """The repository holding the ticks of a cron input (Pachyderm: ``<pipeline>_<name>``).

    :param output_repo: the pipeline's output lakeFS repository (its mapped name).
    """
    return f"{output_repo}-cron-{input_name.lower().replace('_', '-')}"[:63]


def input_tree(spec: PipelineSpec, commits: Mapping[str, str]) -> InputTree:
    """The spec's input tree with every leaf pinned to the commit in ``commits`` (by name)."""
    return _convert(spec, spec.input, commits)


def _convert(spec: PipelineSpec, node: Input, commits: Mapping[str, str]) -> InputTree:
    if node.pfs is not None:
        pfs = node.pfs
        return PfsLeaf(
            name=pfs.name,
            repo=pfs.lakefs_repo,
            branch=pfs.branch,
            commit=commits[spec.input_key(pfs)],
            glob=pfs.glob,
            join_on=pfs.join_on,
            outer_join=pfs.outer_join,
            group_by=pfs.group_by,
            empty_files=pfs.empty_files,
            lazy=pfs.lazy,
        )
    if node.cron is not None:
        cron = node.cron
        return CronLeaf(
            name=cron.name,
            repo=cron_repo(spec.output_repo, cron.name),
            commit=commits[cron.name],
            spec=cron.spec,
            overwrite=cron.overwrite,
            # One datum per tick file, as Pachyderm's cron inputs.
            glob="/*",
        )
    kind = node.kind
    children = tuple(_convert(spec, child, commits) for child in node.children)
    return _COMBINATORS[kind](inputs=children)


def transform_spec(spec: PipelineSpec, image_id: str = "") -> TransformSpec:
    """How the runner starts the user's code; ``image_id`` pins the image the plan saw."""
    transform = spec.transform
    limits = spec.resource_limits
    requests = spec.resource_requests
    return TransformSpec(
        image=image_id or transform.image,
        cmd=list(transform.cmd),
        stdin=list(transform.stdin or []),
        env=dict(transform.env),
        working_dir=transform.working_dir,
        user=transform.user,
        err_cmd=list(transform.err_cmd or []),
        err_stdin=list(transform.err_stdin or []),
        accept_return_codes=tuple(transform.accept_return_code),
        network=transform.network,
        cpu_limit=float(limits.cpu) if limits and limits.cpu else None,
        memory_limit_bytes=int(limits.memory) if limits and limits.memory else None,
        cpu_request=float(requests.cpu) if requests and requests.cpu else None,
        memory_request_bytes=int(requests.memory) if requests and requests.memory else None,
        gpus=spec.gpus,
        datum_timeout_s=float(spec.datum_timeout) if spec.datum_timeout else None,
        datum_tries=spec.datum_tries,
        datum_batching=spec.datum_batching,
        pids_limit=limits.pids if limits and limits.pids else DEFAULT_PIDS_LIMIT,
    )


def datum_salt(spec: PipelineSpec, image_id: str = "") -> str:
    """What, besides input content, makes a datum's result differ.

    The spec's ``salt``, the transform (image, command, environment, secret names) and the
    image's id: a new command or a rebuilt image reprocesses every datum, as the result may
    differ. Scheduling knobs (parallelism, batching, Airflow settings) are left out.
    """
    transform = spec.transform.model_dump(mode="json", by_alias=True, exclude_none=True)
    payload = {"salt": spec.salt or "", "transform": transform, "image_id": image_id}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
