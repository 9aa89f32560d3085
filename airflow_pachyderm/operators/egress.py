"""EgressOperator: copy each output commit to external storage (the spec's ``egress``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from airflow.sdk.exceptions import AirflowSkipException

from airflow_pachyderm.jobs.egress import Writer, export_commit, file_writer, scheme_of
from airflow_pachyderm.operators._common import PipelineOperator


class EgressOperator(PipelineOperator):
    """
    Copy the files of the job's output commit (not the provider's ``_pachyderm/``
    bookkeeping) to the spec's ``egress.URL``: ``s3://bucket/prefix`` through the Amazon
    provider's S3Hook, or ``file:///directory``. Copies overwrite, so retries are safe.

    A separate task after the commit: a failing egress never holds back the commit or the
    asset event. Runs into a side branch (``output_branch`` param) are not exported.

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param commit: the output commit id (the commit task's return value).
    :param aws_conn_id: Airflow AWS connection used for ``s3://`` URLs.
    :return: the number of files copied.
    """

    template_fields = ("commit",)

    def __init__(
        self, *, commit: str = "", aws_conn_id: str | None = "aws_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.commit = commit
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Any) -> int:
        egress = self.spec.egress
        if egress is None:
            raise AirflowSkipException("the pipeline has no egress")
        if self.output_branch(context) != self.spec.output_branch:
            raise AirflowSkipException("side-branch runs are not exported")
        url = egress.url
        writer = file_writer(url) if scheme_of(url) == "file" else s3_writer(url, self.aws_conn_id)
        count = export_commit(self.hook(), self.spec.output_repo, self.commit, writer)
        self.log.info("egress: %d files of %s@%s copied to %s", count, self.spec.output_repo,
                      self.commit, url)
        return count


def s3_writer(url: str, aws_conn_id: str | None) -> Writer:
    """Writes under the bucket and prefix of an ``s3://`` URL with the Amazon provider."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    parsed = urlparse(url)
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    hook = S3Hook(aws_conn_id=aws_conn_id)

    def write(path: str, fh: Any) -> None:
        key = f"{prefix}/{path}" if prefix else path
        hook.load_file_obj(fh, key=key, bucket_name=bucket, replace=True)

    return write
