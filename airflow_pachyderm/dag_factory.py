"""Pipeline specs -> Airflow DAGs: one asset-scheduled DAG per pipeline.

A DAG file needs two lines (plus a comment: Airflow's safe mode only parses files that
mention both "airflow" and "dag")::

    # Airflow DAGs, one per pipeline spec
    from airflow_pachyderm import load_pipelines
    load_pipelines("specs/", globals())

Each pipeline's DAG runs plan -> process (mapped over batches) -> commit -> publish, and is
scheduled on one Asset per input repo branch (``lakefs://<repo>/<branch>``). Every such
asset has an ``AssetWatcher`` whose trigger polls the branch in the triggerer, so a new
commit starts the pipelines that read it; the output commit of a pipeline is announced by
its publish task (an outlet of the same kind), which starts the pipelines downstream.
A spec with errors makes the DAG file fail to import with the ``FILE:LINE:COL`` messages.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, Param

from airflow_pachyderm.compat import (
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)
from airflow_pachyderm.jobs.plan import INPUT_PARAM_PREFIX, REPROCESS_MODES
from airflow_pachyderm.lakefs.names import branch_uri
from airflow_pachyderm.spec.checking import load_graph
from airflow_pachyderm.spec.cron import every_seconds
from airflow_pachyderm.spec.errors import format_warning
from airflow_pachyderm.spec.models import Input, PipelineSpec

log = logging.getLogger(__name__)
ASSET_GROUP = "lakefs"
# Cron-scheduled pipelines start from here; with catchup=False no past run is created.
START_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)
# A lakeFS ref: a branch, tag or commit id (or prefix), optionally with ~N / ^N ancestry.
REF_PATTERN = r"^(\w[-\w.]*([~^][0-9]*)*)?$"
BATCH_LABEL_TEMPLATE = "{{ (task.batch or {}).get('label') or '' }}"
BRANCH_PATTERN = r"^\w[-\w]*$"
DATUM_IDS_PATTERN = r"^\s*([0-9a-fA-F]{4,64}\s*(,\s*[0-9a-fA-F]{4,64}\s*)*)?$"


def input_asset(
    repo: str,
    branch: str,
    *,
    lakefs_conn_id: str = "lakefs_default",
    poll_interval: float | None = None,
) -> Asset:
    """The Asset standing for new commits on ``branch`` of lakeFS repository ``repo``.

    It carries a watcher: the triggerer reports each new head commit of the branch as an
    asset event. Every declaration of the asset (schedules, outlets, hand-written DAGs)
    must carry the same watcher, or Airflow attaches the last one parsed: build it here.
    """
    from airflow_pachyderm.triggers import LakeFSCommitEventTrigger

    uri = branch_uri(repo, branch)
    trigger = LakeFSCommitEventTrigger(
        repo=repo,
        branch=branch,
        lakefs_conn_id=lakefs_conn_id,
        poll_interval=default_poll_interval() if poll_interval is None else poll_interval,
    )
    return Asset(
        name=uri,
        uri=uri,
        group=ASSET_GROUP,
        watchers=[AssetWatcher(name=f"lakefs-commits-{repo}-{branch}", trigger=trigger)],
    )


def default_poll_interval() -> float:
    """``[pachyderm] commit_poll_interval`` (seconds) from Airflow's configuration, or 1."""
    from airflow.configuration import conf

    return conf.getfloat("pachyderm", "commit_poll_interval", fallback=1.0)


def load_pipelines(
    path: str | Path,
    namespace: dict[str, Any] | None = None,
    *,
    lakefs_conn_id: str = "lakefs_default",
    poll_interval: float | None = None,
    _caller_depth: int = 1,
) -> dict[str, DAG]:
    """Build one DAG per pipeline found under ``path`` and put them in ``namespace``.

    :param path: a spec file or directory; a relative path is resolved against the
        directory of the calling DAG file.
    :param namespace: the DAG file's ``globals()``.
    :param lakefs_conn_id: Airflow connection to the lakeFS server.
    :param poll_interval: seconds between two polls of each input branch by its watcher
        (default: ``[pachyderm] commit_poll_interval``, else 1).
    :raises SpecErrors: when any spec is invalid (Airflow shows it as an import error).
    """
    graph = load_graph(_resolve(Path(path), namespace, _caller_depth + 1))
    dags: dict[str, DAG] = {}
    for name in graph.topological_order():
        for warning in graph.specs[name].warnings:
            # Never silent: a Pachyderm key without effect here shows in the parse log.
            log.warning("%s", format_warning(warning))
        dag = build_dag(
            graph.specs[name], lakefs_conn_id=lakefs_conn_id, poll_interval=poll_interval
        )
        dags[dag.dag_id] = dag
    if namespace is not None:
        namespace.update(dags)
    return dags


def _resolve(path: Path, namespace: dict[str, Any] | None, depth: int) -> Path:
    if path.is_absolute():
        return path
    caller_file = (namespace or {}).get("__file__")
    if caller_file is None:
        caller_file = sys._getframe(depth).f_globals.get("__file__")
    base = Path(caller_file).resolve().parent if caller_file else Path.cwd()
    return base / path


def build_dag(
    spec: PipelineSpec,
    *,
    lakefs_conn_id: str = "lakefs_default",
    poll_interval: float | None = None,
) -> DAG:
    """The DAG of one (already checked) pipeline."""
    interval = default_poll_interval() if poll_interval is None else poll_interval
    from airflow_pachyderm.operators import (
        CommitOperator,
        EgressOperator,
        PlanOperator,
        ProcessBatchOperator,
        PublishOperator,
    )

    settings = spec.airflow
    pipeline_spec = spec.to_dict()
    dag = DAG(
        dag_id=spec.dag_id,
        description=spec.description or f"Pachyderm pipeline {spec.name}",
        schedule=schedule_for(spec, lakefs_conn_id=lakefs_conn_id, poll_interval=interval),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=settings.max_active_runs,
        dagrun_timeout=timedelta(seconds=spec.job_timeout) if spec.job_timeout else None,
        tags=list(dict.fromkeys([*settings.tags, "pachyderm"])),
        default_args={"owner": settings.owner, "retries": settings.retries},
        params=params_for(spec),
        doc_md=doc_md(spec),
    )
    process_options: dict[str, Any] = {
        "max_active_tis_per_dagrun": spec.parallelism_spec.constant,
    }
    if settings.pool:
        process_options["pool"] = settings.pool
    with dag:
        plan = PlanOperator(
            task_id="plan",
            pipeline_spec=pipeline_spec,
            lakefs_conn_id=lakefs_conn_id,
            input_names=[spec.input_key(p) for p in spec.pfs_inputs()]
            + [cron.name for cron in spec.cron_inputs()],
        )
        process = ProcessBatchOperator.partial(
            task_id="process",
            pipeline_spec=pipeline_spec,
            lakefs_conn_id=lakefs_conn_id,
            # Each mapped task shows its batch: "3: images/cat.png +24 (25 datums)".
            map_index_template=BATCH_LABEL_TEMPLATE,
            **process_options,
        ).expand(batch=plan.output)
        commit = CommitOperator(
            task_id="commit",
            pipeline_spec=pipeline_spec,
            lakefs_conn_id=lakefs_conn_id,
            # Runs when no datum batch failed, also when there was nothing to process (the
            # mapped task is then skipped: the job still records its input commits), but not
            # when the plan skipped the job (nothing new since the last output commit).
            trigger_rule="none_failed_min_one_success",
        )
        plan >> process >> commit
        plan >> commit
        PublishOperator(
            task_id="publish",
            pipeline_spec=pipeline_spec,
            lakefs_conn_id=lakefs_conn_id,
            commit=commit.output,
            # The output asset; skipped (so no event) for runs into a side branch.
            outlets=[
                input_asset(
                    spec.output_repo, spec.output_branch,
                    lakefs_conn_id=lakefs_conn_id, poll_interval=interval,
                )
            ],
        )
        if spec.egress is not None:
            EgressOperator(
                task_id="egress",
                pipeline_spec=pipeline_spec,
                lakefs_conn_id=lakefs_conn_id,
                commit=commit.output,
            )
    return dag


def schedule_for(
    spec: PipelineSpec,
    *,
    lakefs_conn_id: str = "lakefs_default",
    poll_interval: float = 1.0,
) -> Any:
    """Watched assets of the input branches (any of them), or'ed with the cron inputs'
    schedule."""
    assets = [
        input_asset(repo, branch, lakefs_conn_id=lakefs_conn_id, poll_interval=poll_interval)
        for repo, branch in spec.input_repos()
    ]
    condition: Any = None
    for asset in assets:
        condition = asset if condition is None else condition | asset
    timetable = _timetable(spec)
    if timetable is None:
        return condition
    if condition is None:
        return timetable
    return AssetOrTimeSchedule(timetable=timetable, assets=condition)


def _timetable(spec: PipelineSpec) -> Any:
    schedules = [cron.spec for cron in spec.cron_inputs()]
    if not schedules:
        return None
    if len(schedules) == 1:
        interval = every_seconds(schedules[0])
        if interval is not None:
            return DeltaTriggerTimetable(timedelta(seconds=interval))
        return CronTriggerTimetable(schedules[0], timezone="UTC")
    # Several cron inputs: spec checks guarantee they are all cron expressions.
    return MultipleCronTriggerTimetable(*dict.fromkeys(schedules), timezone="UTC")


def params_for(spec: PipelineSpec) -> dict[str, Param]:
    """Run parameters shown in the trigger form: one ref per input, the output branch, and
    what to reprocess. Plain strings and an enum, so the form edits them as text fields and
    a select; their patterns refuse a malformed value when the run is triggered."""
    params: dict[str, Param] = {}
    for pfs in spec.pfs_inputs():
        key = spec.input_key(pfs)
        params[f"{INPUT_PARAM_PREFIX}{key}"] = Param(
            "",
            type=["string", "null"],
            pattern=REF_PATTERN,
            title=f"input {key}: ref of {pfs.lakefs_repo}",
            description=f"Which commit of input '{key}' (repo '{pfs.lakefs_repo}', branch "
            f"'{pfs.branch}') to read: a commit id or unique prefix, a tag, or a ref like "
            f"'{pfs.branch}~1'. Empty: the commit that triggered the run, else the head of "
            f"'{pfs.branch}'.",
        )
    params["output_branch"] = Param(
        spec.output_branch,
        type="string",
        pattern=BRANCH_PATTERN,
        title="output branch",
        description=f"Branch of output repo '{spec.output_repo}' that receives the commit "
        "(letters, digits, '_' and '-'). Use a side branch (e.g. 'rerun-old-model') to "
        "recompute history without touching the main results.",
    )
    params["reprocess"] = Param(
        "changed",
        type="string",
        enum=list(REPROCESS_MODES),
        values_display={
            "changed": "changed: new or changed datums",
            "all": "all: every datum",
            "failed": "failed: changed ones and those that failed last time",
            "datums": "datums: changed ones and the datums listed below",
        },
        title="reprocess",
        description="Which datums to process: 'changed' (new or changed since the last output "
        "commit), 'all', 'failed' (also those errCmd recovered last time), or 'datums' (also "
        "the ids in the datums field).",
    )
    params["datums"] = Param(
        "",
        type=["string", "null"],
        pattern=DATUM_IDS_PATTERN,
        title="datums",
        description="With reprocess 'datums': comma-separated datum ids or unique prefixes "
        "(at least 4 hex characters, as the logs and `airflow-pachyderm datums` print).",
    )
    return params


def doc_md(spec: PipelineSpec) -> str:
    """The DAG's documentation: inputs, their graph, output, and the spec as written."""
    lines = [f"## Pipeline `{spec.name}`", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += ["A new commit on any of these input branches starts a run:", ""]
    lines += [
        f"- `{pfs.name}`: `lakefs://{pfs.lakefs_repo}/{pfs.branch}`, glob `{pfs.glob}`"
        for pfs in spec.pfs_inputs()
    ]
    lines += [f"- `{cron.name}`: schedule `{cron.spec}`" for cron in spec.cron_inputs()]
    lines += [
        "",
        f"Output: `lakefs://{spec.output_repo}/{spec.output_branch}`",
        "",
        "### Input graph",
        "",
        "```text",
        *_tree(spec.input),
        "```",
        "",
        f"### Spec (`{spec.source_file}:{spec.source_line}`, hash `{spec.spec_hash()[:12]}`)",
        "",
        "```yaml",
        (spec.source_text or _yaml(spec)).rstrip("\n"),
        "```",
    ]
    return "\n".join(lines) + "\n"


def _tree(node: Input, prefix: str = "", last: bool = True, root: bool = True) -> list[str]:
    if node.pfs is not None:
        label = f"pfs {node.pfs.name}: {node.pfs.lakefs_repo}@{node.pfs.branch} {node.pfs.glob}"
        if node.pfs.join_on:
            label += f" joinOn {node.pfs.join_on}"
        if node.pfs.group_by:
            label += f" groupBy {node.pfs.group_by}"
    elif node.cron is not None:
        label = f"cron {node.cron.name}: {node.cron.spec}"
    else:
        label = node.kind
    head = "" if root else prefix + ("└── " if last else "├── ")
    lines = [head + label]
    child_prefix = "" if root else prefix + ("    " if last else "│   ")
    for index, child in enumerate(node.children):
        lines += _tree(child, child_prefix, index == len(node.children) - 1, root=False)
    return lines


def _yaml(spec: PipelineSpec) -> str:
    import yaml

    return yaml.safe_dump(spec.to_dict(), sort_keys=False)
