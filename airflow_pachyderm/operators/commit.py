"""CommitOperator: step 3 of a job."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAlias

from airflow_pachyderm.jobs.commit import commit_job
from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.operators._common import PipelineOperator


def output_alias(pipeline: str) -> AssetAlias:
    """The alias through which a pipeline's commit task reports its output commits."""
    return AssetAlias(name=f"pachyderm-output:{pipeline}", group="lakefs")


class CommitOperator(PipelineOperator):
    """
    Commit a job's staged outputs with provenance metadata and merge them into the output
    branch in one step, then emit the output Asset event (``lakefs://<repo>/<branch>``)
    that triggers downstream pipelines.

    The event goes through the asset alias in ``outlets`` and only for the spec's own
    output branch: recomputing history into a side branch triggers nothing downstream.
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
        if result.branch == self.spec.output_branch:
            from airflow_pachyderm.dag_factory import input_asset

            extra = {"repo": result.repo, "branch": result.branch, "commit": result.commit,
                     "job": job_id}
            asset: Asset = input_asset(result.repo, result.branch)
            for outlet in self.outlets:
                if isinstance(outlet, AssetAlias):
                    context["outlet_events"][outlet].add(asset, extra=extra)
        else:
            self.log.info("output went to side branch %s: no asset event", result.branch)
        return result.commit
