"""ProcessBatchOperator: step 2 of a job, mapped over batches."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_pachyderm.jobs.commit import find_job_commit
from airflow_pachyderm.jobs.job import BatchRef, JobStateMissingError
from airflow_pachyderm.jobs.process import DatumFailedError, process_batch
from airflow_pachyderm.operators._common import PipelineOperator
from airflow_pachyderm.runners.docker import DockerRunner, cleanup_job_containers
from airflow_pachyderm.spec.models import Secret


class ProcessBatchOperator(PipelineOperator):
    """
    Run one batch of datums in the pipeline's container and stage its outputs.

    Each datum sees only its own files under ``/pfs/<input>`` (read-only) and writes to
    ``/pfs/out``; the container has no network unless the spec asks for it. Secrets named in
    the spec are read from Airflow variables or connections and masked in the logs.

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :param batch: the batch to run, as returned by the plan task (usually mapped).
    :param docker_conn_id: Airflow Docker connection; default: the local daemon.
    :param workdir: host directory for materialised inputs and outputs (default: temp dir).
    """

    template_fields = ("batch",)

    def __init__(
        self,
        *,
        batch: Mapping[str, Any] | None = None,
        docker_conn_id: str | None = None,
        workdir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.batch = batch
        self.docker_conn_id = docker_conn_id
        self.workdir = workdir

    def execute(self, context: Any) -> dict[str, Any]:
        if not self.batch:
            raise ValueError("ProcessBatchOperator needs a batch (from the plan task)")
        batch = BatchRef.from_xcom(self.batch)
        secrets = resolve_secrets(self.spec.transform.secrets)
        # A crashed earlier try may have left its container behind.
        cleanup_job_containers(batch.job_id, batch=str(batch.index))
        hook = self.hook()
        try:
            with tempfile.TemporaryDirectory(prefix="pachyderm-batch-", dir=self.workdir) as tmp:
                outcome = process_batch(
                    hook,
                    self.spec,
                    batch,
                    DockerRunner(docker_conn_id=self.docker_conn_id),
                    secrets_env=secrets,
                    workdir=Path(tmp),
                    log_line=self.log_line,
                )
        except JobStateMissingError as exc:
            # This task alone was cleared after its job finished: nothing to redo.
            branch = self.output_branch(context)
            done = find_job_commit(hook, batch.output_repo, branch, batch.job_id)
            if done is None:
                raise AirflowFailException(
                    f"{exc}. Clear the whole run (plan first) to run job {batch.job_id} again"
                ) from exc
            self.log.info(
                "job %s was already committed as %s@%s on %s; nothing to redo here. To "
                "recompute it, clear the whole run", batch.job_id, batch.output_repo, done,
                branch,
            )
            return {"batch": batch.index, "already_committed": done}
        except DatumFailedError as exc:
            self.log.error("%s", exc)
            raise
        return {
            "batch": outcome.index,
            "processed": outcome.processed,
            "recovered": outcome.recovered,
            "outputs": outcome.outputs,
        }


def resolve_secrets(secrets: list[Secret]) -> dict[str, str]:
    """Secret env vars from Airflow variables (no ``key``) or connection fields (``key``).

    Every value is registered with Airflow's secrets masker before it can reach a log.
    """
    from airflow.sdk import BaseHook, Variable
    from airflow.sdk.log import mask_secret

    env: dict[str, str] = {}
    for secret in secrets:
        if secret.key is None:
            value = Variable.get(secret.name)
        else:
            conn = BaseHook.get_connection(secret.name)
            value = _connection_field(conn, secret.key, secret.name)
        value = "" if value is None else str(value)
        mask_secret(value, secret.env_var)
        env[secret.env_var] = value
    return env


def _connection_field(conn: Any, key: str, conn_id: str) -> Any:
    if key.startswith("extra."):
        extra = conn.extra_dejson or {}
        name = key[len("extra."):]
        if name not in extra:
            raise KeyError(f"connection {conn_id!r} has no extra field {name!r}")
        return extra[name]
    if key == "uri":
        return conn.get_uri()
    if key not in ("password", "login", "host", "port", "schema"):
        raise KeyError(
            f"secret key {key!r} of connection {conn_id!r}: use password, login, host, port, "
            "schema, uri or extra.<name>"
        )
    return getattr(conn, key)
