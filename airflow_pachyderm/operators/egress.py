"""EgressOperator: mirror each output commit to external storage (the spec's ``egress``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import urlparse

from airflow_pachyderm.compat import AirflowSkipException
from airflow_pachyderm.jobs.egress import FileSink, Sink, mirror_commit, scheme_of
from airflow_pachyderm.operators._common import PipelineOperator, fail_permanent_errors
from airflow_pachyderm.spec.models import SQLDatabaseEgress


class EgressOperator(PipelineOperator):
    """
    Mirror the files of the job's output commit (not the provider's ``_pachyderm/``
    bookkeeping) to the spec's ``egress.URL``: ``s3://bucket/prefix`` through the Amazon
    provider's S3Hook, or ``file:///directory``. Files the commit no longer has are deleted
    there; copies overwrite, so retries are safe.

    A separate task after the commit: a failing egress never holds back the commit or the
    asset event. Runs into a side branch (``output_branch`` param) are not exported.

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param commit: the output commit id (the commit task's return value).
    :param aws_conn_id: Airflow AWS connection used for ``s3://`` URLs.
    :return: the number of files copied.
    :raises AirflowFailException: an egress target that cannot be used (no retry).
    """

    template_fields = ("commit",)

    def __init__(
        self, *, commit: str = "", aws_conn_id: str | None = "aws_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.commit = commit
        self.aws_conn_id = aws_conn_id

    @fail_permanent_errors
    def execute(self, context: Any) -> int:
        egress = self.spec.egress
        if egress is None:
            raise AirflowSkipException("the pipeline has no egress")
        if self.output_branch(context) != self.spec.output_branch:
            raise AirflowSkipException("side-branch runs are not exported")
        if egress.sql_database is not None:
            return self._to_sql(egress.sql_database)
        url = egress.url
        assert url is not None  # the spec has exactly one of URL and sqlDatabase
        sink: Sink = FileSink(url) if scheme_of(url) == "file" else S3Sink(url, self.aws_conn_id)
        written, deleted = mirror_commit(self.client(), self.spec.output_repo, self.commit, sink)
        self.log.info("egress: %d files of %s@%s copied to %s, %d removed there", written,
                      self.spec.output_repo, self.commit, url, deleted)
        return written


    def _to_sql(self, target: SQLDatabaseEgress) -> int:
        from airflow.sdk.log import mask_secret

        from airflow_pachyderm.jobs.egress_sql import export_to_sql

        password = sql_password(target.secret.name, target.secret.key)
        mask_secret(password)
        rows = export_to_sql(
            self.client(), self.spec.output_repo, self.commit, target.url, password,
            target.file_format.type, list(target.file_format.columns),
        )
        for table, count in rows.items():
            self.log.info("egress: table %s now holds %d rows of %s@%s", table, count,
                          self.spec.output_repo, self.commit)
        return sum(rows.values())


def sql_password(variable: str, key: str) -> str:
    """Entry ``key`` of the Airflow variable ``variable``, a JSON object (a Kubernetes secret's
    shape). :raises ValueError: the variable is not such an object or lacks the key."""
    from airflow.sdk import Variable

    try:
        entries = json.loads(Variable.get(variable))
    except ValueError:
        entries = None
    if not isinstance(entries, dict) or key not in entries:
        raise ValueError(
            f"egress.sqlDatabase.secret: the Airflow variable {variable!r} must be a JSON "
            f"object with the entry {key!r} (the database password)"
        )
    return str(entries[key])


class S3Sink:
    """The bucket and prefix of an ``s3://`` URL, through the Amazon provider's S3Hook."""

    def __init__(self, url: str, aws_conn_id: str | None) -> None:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        parsed = urlparse(url)
        self.bucket, self.prefix = parsed.netloc, parsed.path.strip("/")
        self.hook = S3Hook(aws_conn_id=aws_conn_id)

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def write(self, path: str, fh: IO[bytes]) -> None:
        self.hook.load_file_obj(fh, key=self._key(path), bucket_name=self.bucket, replace=True)

    def existing(self) -> Iterable[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        keys = self.hook.list_keys(bucket_name=self.bucket, prefix=start) or []
        return [key[len(start):] for key in keys]

    def delete(self, paths: list[str]) -> None:
        self.hook.delete_objects(bucket=self.bucket, keys=[self._key(p) for p in paths])
