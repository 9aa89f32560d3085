"""CommitOperator: step 3 of a job."""

from __future__ import annotations

from typing import Any

from airflow_pachyderm.jobs.commit import commit_job
from airflow_pachyderm.jobs.egress import export_commit, file_writer, scheme_of
from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.operators._common import PipelineOperator


class CommitOperator(PipelineOperator):
    """
    Commit a job's staged outputs with provenance metadata and merge them into the output
    branch in one step, then emit the output Asset event that triggers downstream pipelines.

    Safe to retry at any point: a retry finishes what an interrupted attempt started and
    never makes a second output commit.

    When the spec has ``egress``, the output files are then copied to its URL (``s3://``
    through the Amazon provider's S3Hook, or ``file://``).

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param aws_conn_id: Airflow AWS connection used for ``s3://`` egress.
    :return: the output commit id.
    """

    def __init__(self, *, aws_conn_id: str | None = "aws_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.aws_conn_id = aws_conn_id

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
        if self.spec.egress is not None:
            self._egress(result.repo, result.commit, self.spec.egress.url)
        return result.commit

    def _egress(self, repo: str, commit: str, url: str) -> None:
        scheme = scheme_of(url)
        writer = file_writer(url) if scheme == "file" else s3_writer(url, self.aws_conn_id)
        count = export_commit(self.hook(), repo, commit, writer)
        self.log.info("egress: %d files of %s@%s copied to %s", count, repo, commit, url)


def s3_writer(url: str, aws_conn_id: str | None):
    """Writes under the bucket and prefix of an ``s3://`` URL with the Amazon provider."""
    from urllib.parse import urlparse

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    parsed = urlparse(url)
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    hook = S3Hook(aws_conn_id=aws_conn_id)

    def write(path: str, fh) -> None:
        key = f"{prefix}/{path}" if prefix else path
        hook.load_file_obj(fh, key=key, bucket_name=bucket, replace=True)

    return write
