"""PlanOperator: step 1 of a job."""

from __future__ import annotations

from typing import Any

from airflow_pachyderm.jobs.plan import JobRequest, parse_reprocess, plan_job_run
from airflow_pachyderm.operators._common import PipelineOperator, airflow_run_url
from airflow_pachyderm.runners.docker import image_identity


class PlanOperator(PipelineOperator):
    """
    Plan a job of a pipeline: pin every input to a lakeFS commit, build the datums, compare
    them with the previous output commit's manifest, and stage the work on a branch of the
    output repository named after the job.

    Reads the DAG run's params ``input_commits`` (input name -> ref), ``output_branch`` and
    ``reprocess`` (``changed``, ``all``, ``failed`` or datum ids).

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :return: one small dict per batch of datums to process (the process task maps over them).
    """

    def execute(self, context: Any) -> list[dict[str, Any]]:
        params = context.get("params") or {}
        dag_run = context["dag_run"]
        request = JobRequest(
            dag_id=dag_run.dag_id,
            run_id=dag_run.run_id,
            input_commits=dict(params.get("input_commits") or {}),
            output_branch=self.output_branch(context),
            reprocess=parse_reprocess(params.get("reprocess")),
            tick=context.get("logical_date") or getattr(dag_run, "run_after", None),
            scheduled=str(getattr(dag_run, "run_type", "")).endswith("scheduled"),
            airflow_url=airflow_run_url(dag_run.dag_id, dag_run.run_id),
        )
        image_id, digest = image_identity(self.spec.transform.image)
        self.log.info("image %s is %s%s", self.spec.transform.image, image_id,
                      f" ({digest})" if digest else "")
        _, batches = plan_job_run(
            self.hook(), self.spec, request, image_id=image_id, log_line=self.log_line
        )
        return [batch.to_xcom() for batch in batches]
