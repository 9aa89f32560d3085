"""CommitOperator (step 3 of a job) and PublishOperator (announces the output commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import Asset

from airflow_pachyderm.compat import AirflowFailException, AirflowSkipException
from airflow_pachyderm.errors import DatumFailedError
from airflow_pachyderm.jobs.commit import commit_job
from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.operators._common import PipelineOperator, fail_permanent_errors


class CommitOperator(PipelineOperator):
    """
    Commit a job's staged outputs with provenance metadata and merge them into the output
    branch in one step (a side branch named by the ``output_branch`` param is created here,
    at the output commit).

    Safe to retry at any point: a retry finishes what an interrupted attempt started and
    never makes a second output commit.

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :return: the output commit id.
    :raises AirflowFailException: the job has no plan and no output commit (clear the whole
        run), a batch has no result or failed datums (rerun its process task), or the output
        branch moved while the job ran.
    :raises LakeFSError: lakeFS failed (the task's retries apply).
    """

    @fail_permanent_errors
    def execute(self, context: Any) -> str:
        dag_run = context["dag_run"]
        job_id = job_id_for(dag_run.dag_id, dag_run.run_id)
        try:
            result = commit_job(
                self.client(),
                self.spec.output_repo,
                job_id,
                output_branch=self.output_branch(context),
                log_line=self.log_line,
            )
        except DatumFailedError as exc:
            # Failed datums are the process tasks' to retry, not the commit's.
            raise AirflowFailException(str(exc)) from exc
        return result.commit


class PublishOperator(PipelineOperator):
    """
    Announce a job's output commit as an event of the output asset
    ``lakefs://<output repo>/<output branch>``, which starts the pipelines reading it.

    Only commits to the spec's own output branch are announced: a run into a side branch
    (``output_branch`` param) skips this task and triggers nothing downstream.

    :param pipeline_spec: the pipeline spec as a dict.
    :param commit: the output commit id (the commit task's return value, templated).
    :return: the announced commit id.
    :raises AirflowSkipException: the run wrote to a side branch.
    """

    template_fields: Sequence[str] = ("commit",)
    ui_color = "#d7f0dc"

    def __init__(self, *, commit: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commit = commit

    def execute(self, context: Any) -> str:
        branch = self.output_branch(context)
        if branch != self.spec.output_branch:
            raise AirflowSkipException(f"output went to side branch {branch}: no asset event")
        dag_run = context["dag_run"]
        extra = {
            "repo": self.spec.output_repo,
            "branch": branch,
            "commit": self.commit,
            "job": job_id_for(dag_run.dag_id, dag_run.run_id),
        }
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                context["outlet_events"][outlet].extra = extra
        self.log.info("announced %s@%s on %s", self.spec.output_repo, self.commit, branch)
        return self.commit
