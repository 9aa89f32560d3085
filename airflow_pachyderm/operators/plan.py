"""PlanOperator: step 1 of a job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_pachyderm.compat import AirflowFailException, AirflowSkipException
from airflow_pachyderm.jobs.plan import (
    InputMissingError,
    JobRequest,
    JobUnchangedError,
    parse_reprocess,
    plan_job_run,
)
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


class PlanOperator(PipelineOperator):
    """
    Plan a job of a pipeline: pin every input to a lakeFS commit, build the datums, compare
    them with the previous output commit's manifest, and stage the work on a branch of the
    output repository named after the job.

    Inputs are pinned once per DAG run: a ref named in the run's ``input_commits`` param,
    else the commit of the asset event that triggered the run, else the newest commit of the
    input branch made at or before the run's time (``run_after``). Retrying or clearing the
    run therefore reads the same commits. Reads the params ``input_commits`` (input name ->
    ref), ``output_branch`` and ``reprocess`` (``changed``, ``all``, ``failed`` or datum ids).

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :return: one small dict per batch of datums to process (the process task maps over them).
    :raises AirflowSkipException: an asset-triggered run whose inputs are exactly those of the
        output branch's last job (e.g. a watcher reporting a head already computed), or one
        of whose inputs has no branch yet (its first commit triggers a run in turn).
    :raises AirflowFailException: a param names a missing input, ref or datum, or another
        error a retry cannot fix (no retry).
    :raises LakeFSError: lakeFS failed (the task's retries apply).
    """

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
                input_commits=dict(params.get("input_commits") or {}),
                output_branch=self.output_branch(context),
                reprocess=parse_reprocess(params.get("reprocess")),
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
            _, batches = plan_job_run(
                self.client(), self.spec, request, image_id=image_id, log_line=self.log_line
            )
        except JobUnchangedError as exc:
            raise AirflowSkipException(str(exc)) from exc
        except InputMissingError as exc:
            if run_type.endswith("asset_triggered"):
                # One input changed, another has no data yet (an upstream pipeline that has
                # not committed): its first commit will start a run in turn.
                raise AirflowSkipException(f"{exc}; waiting for it") from exc
            raise AirflowFailException(str(exc)) from exc
        return [batch.to_xcom() for batch in batches]
