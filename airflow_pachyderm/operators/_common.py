"""What the pipeline operators share: the spec, the lakeFS hook, and run parameters."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from airflow.sdk import BaseOperator

from airflow_pachyderm.compat import AirflowFailException
from airflow_pachyderm.errors import PachydermError
from airflow_pachyderm.lakefs.client import LakeFSClient
from airflow_pachyderm.lakefs.hook import LakeFSHook
from airflow_pachyderm.spec.models import PipelineSpec

R = TypeVar("R")


def fail_permanent_errors(
    execute: Callable[[Any, Any], R],
) -> Callable[[Any, Any], R]:
    """Decorate an operator's ``execute``: the provider's errors that a retry cannot fix
    (``retryable`` false: bad specs or params, a job without state, a moved output branch)
    fail the task at once as ``AirflowFailException``; every other error keeps the task's
    retries.

    :raises AirflowFailException: ``execute`` raised a non-retryable
        :class:`~airflow_pachyderm.errors.PachydermError`.
    """

    @functools.wraps(execute)
    def run(self: Any, context: Any) -> R:
        try:
            return execute(self, context)
        except PachydermError as exc:
            if exc.retryable:
                raise
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return run


class PipelineOperator(BaseOperator):
    """Base of the plan/process/commit operators of a pipeline's DAG.

    :param pipeline_spec: the pipeline spec as a dict (``PipelineSpec.to_dict()``): the DAG
        carries it, so a run uses the spec the DAG was built from.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    """

    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        pipeline_spec: Mapping[str, Any],
        lakefs_conn_id: str = LakeFSHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline_spec = dict(pipeline_spec)
        self.lakefs_conn_id = lakefs_conn_id
        self._spec: PipelineSpec | None = None

    @property
    def spec(self) -> PipelineSpec:
        if self._spec is None:
            self._spec = PipelineSpec.from_dict(self.pipeline_spec)
        return self._spec

    def hook(self) -> LakeFSHook:
        return LakeFSHook(lakefs_conn_id=self.lakefs_conn_id)

    def client(self) -> LakeFSClient:
        """The lakeFS client of the operator's connection (``self.hook().get_conn()``)."""
        return self.hook().get_conn()

    def output_branch(self, context: Mapping[str, Any]) -> str:
        params = context.get("params") or {}
        return str(params.get("output_branch") or self.spec.output_branch)

    def log_line(self, line: str) -> None:
        self.log.info("%s", line)


def airflow_run_url(dag_id: str, run_id: str) -> str:
    """Link to the run in the Airflow UI, for the lakeFS UI's commit button."""
    from urllib.parse import quote

    try:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="") or ""
    except Exception:  # configuration unavailable: leave the link out
        logging.getLogger(__name__).debug("no [api] base_url; no Airflow link in metadata")
        return ""
    if not base:
        return ""
    return f"{base.rstrip('/')}/dags/{quote(dag_id)}/runs/{quote(run_id)}"
