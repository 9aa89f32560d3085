"""PlanOperator: step 1 of a job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_pachyderm.compat import AirflowFailException, AirflowSkipException
from airflow_pachyderm.jobs.plan import (
    INPUT_PARAM_PREFIX,
    InputMissingError,
    JobRequest,
    JobUnchangedError,
    parse_reprocess,
    plan_job_run,
)
from airflow_pachyderm.links import commits_url, input_links
from airflow_pachyderm.operators._common import (
    PipelineOperator,
    airflow_run_url,
    fail_permanent_errors,
)
from airflow_pachyderm.runners.docker import image_identity


def event_commits(context: Mapping[str, Any]) -> dict[str, str]:
    """``lakefs://<repo>/<branch>`` -> the newest commit id among the run's triggering events.

    Events come from the asset watchers (commit in ``extra["payload"]``) and from upstream
    pipelines' publish tasks (commit in ``extra``); several events of one branch (a burst of
    commits coalesced into one run) resolve to the newest.
    """
    found: dict[str, tuple[Any, str]] = {}
    events = context.get("triggering_asset_events") or {}
    for key in events:
        uri = getattr(key, "uri", None)
        if not uri or not str(uri).startswith("lakefs://"):
            continue  # an alias, or another system's asset
        for event in events[key]:
            extra = dict(getattr(event, "extra", None) or {})
            payload = extra.get("payload")
            commit = (payload if isinstance(payload, dict) else extra).get("commit")
            if not isinstance(commit, str) or not commit:
                continue
            stamp = getattr(event, "timestamp", None)
            if uri not in found or (stamp is not None and stamp >= found[uri][0]):
                found[uri] = (stamp, commit)
    return {uri: commit for uri, (_, commit) in found.items()}


def input_refs(params: Mapping[str, Any]) -> dict[str, str]:
    """Input name -> ref from the run's ``input_<name>`` params (empty ones left out)."""
    return {
        name[len(INPUT_PARAM_PREFIX):]: str(value).strip()
        for name, value in params.items()
        if name.startswith(INPUT_PARAM_PREFIX) and value not in (None, "")
        and str(value).strip()
    }


class PlanOperator(PipelineOperator):
    """
    Plan a job of a pipeline: pin every input to a lakeFS commit, build the datums, compare
    them with the previous output commit's manifest, and stage the work on a branch of the
    output repository named after the job.

    Inputs are pinned once per DAG run: the ref of the run's ``input_<name>`` param, else
    the commit of the asset event that triggered the run, else the newest commit of the
    input branch made at or before the run's time (``run_after``). Retrying or clearing the
    run therefore reads the same commits. Reads the params ``input_<name>`` (one per input),
    ``output_branch``, ``reprocess`` (``changed``, ``all``, ``failed`` or ``datums``) and
    ``datums`` (ids or unique prefixes, for ``reprocess=datums``).

    Each input gets an extra link to its commits page at the commit read, and the XCom
    ``summary`` names those commits.

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param input_names: the pipeline's input names, one extra link each (default: from
        the spec).
    :return: one small dict per batch of datums to process (the process task maps over them).
    :raises AirflowSkipException: an asset-triggered run whose inputs are exactly those of the
        output branch's last job (e.g. a watcher reporting a head already computed), or one
        of whose inputs has no branch yet (its first commit triggers a run in turn).
    :raises AirflowFailException: a param names a missing input, ref or datum, or another
        error a retry cannot fix (no retry).
    :raises LakeFSError: lakeFS failed (the task's retries apply).
    """

    def __init__(self, *, input_names: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if input_names is None:
            input_names = [self.spec.input_key(p) for p in self.spec.pfs_inputs()]
            input_names += [cron.name for cron in self.spec.cron_inputs()]
        self.operator_extra_links = input_links(input_names)
        self.pachyderm_links: dict[str, str] = {}

    @fail_permanent_errors
    def execute(self, context: Any) -> list[dict[str, Any]]:
        params = context.get("params") or {}
        dag_run = context["dag_run"]
        # An enum whose str() differs between Airflow's models and the task SDK's: use value.
        run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type) or "")
        try:
            request = JobRequest(
                dag_id=dag_run.dag_id,
                run_id=dag_run.run_id,
                input_refs=input_refs(params),
                output_branch=self.output_branch(context),
                reprocess=parse_reprocess(params.get("reprocess"), params.get("datums")),
                tick=context.get("logical_date") or getattr(dag_run, "run_after", None),
                scheduled=run_type.endswith("scheduled"),
                airflow_url=airflow_run_url(dag_run.dag_id, dag_run.run_id),
                event_commits=event_commits(context),
                pinned_at=getattr(dag_run, "run_after", None),
                skip_unchanged=run_type.endswith("asset_triggered"),
            )
            image_id, digest = image_identity(self.spec.transform.image)
            self.log.info("image %s is %s%s", self.spec.transform.image, image_id,
                          f" ({digest})" if digest else "")
            record, batches = plan_job_run(
                self.client(), self.spec, request, image_id=image_id, log_line=self.log_line
            )
            self._planned = record
        except JobUnchangedError as exc:
            raise AirflowSkipException(str(exc)) from exc
        except InputMissingError as exc:
            if run_type.endswith("asset_triggered"):
                # One input changed, another has no data yet (an upstream pipeline that has
                # not committed): its first commit will start a run in turn.
                raise AirflowSkipException(f"{exc}; waiting for it") from exc
            raise AirflowFailException(str(exc)) from exc
        for item in record.inputs:
            self.pachyderm_links[f"input_{item.name}"] = commits_url(item.repo, item.commit)
        summary = (
            f"job {record.job_id} reads {inputs_text(record.inputs)} -> "
            f"{record.output_repo}@{record.output_branch}: {record.counts['processed']} datums "
            f"to process in {len(batches)} batches, {record.counts['skipped']} skipped"
        )
        context["ti"].xcom_push(key="summary", value=summary)
        return [batch.to_xcom() for batch in batches]

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the pinned input commits in, the output branch out (planned datum
        counts, no output commit yet). Called by the OpenLineage listener after execute."""
        from airflow_pachyderm.operators.openlineage import job_datasets, operator_lineage

        record = getattr(self, "_planned", None)
        if record is None:
            return operator_lineage([], [])
        inputs, outputs = job_datasets(
            self.client().config.base_url, self.spec, record.inputs, job=record.job_id,
            spec_hash=record.spec_hash, output_branch=record.output_branch,
            base_commit=record.base_commit, datums=record.counts,
        )
        return operator_lineage(inputs, outputs)


def inputs_text(inputs: Any) -> str:
    """``attributes=attributes@0f3a9c2e41b7, model=model@9b1d...``: the commits a job read."""
    return ", ".join(f"{item.name}={item.repo}@{item.commit[:12]}" for item in inputs)
