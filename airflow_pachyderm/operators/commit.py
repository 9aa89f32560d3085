"""CommitOperator: step 3 of a job."""

from __future__ import annotations

from typing import Any

from airflow_pachyderm.jobs.commit import commit_job
from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.operators._common import PipelineOperator


class CommitOperator(PipelineOperator):
    """
    Commit a job's staged outputs with provenance metadata and merge them into the output
    branch in one step, then emit the output Asset event that triggers downstream pipelines.

    Safe to retry at any point: a retry finishes what an interrupted attempt started and
    never makes a second output commit.

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :return: the output commit id.
    """

    def execute(self, context: Any) -> str:
        dag_run = context["dag_run"]
        job_id = job_id_for(dag_run.dag_id, dag_run.run_id)
        result = commit_job(
            self.hook(),
            self.spec.output_repo,
            job_id,
            output_branch=self.output_branch(context),
            log_line=self.log_line,
        )
        outlet_events = context.get("outlet_events")
        if outlet_events is not None:
            for outlet in self.outlets:
                outlet_events[outlet].extra = {
                    "repo": result.repo,
                    "branch": result.branch,
                    "commit": result.commit,
                    "job": job_id,
                }
        return result.commit
