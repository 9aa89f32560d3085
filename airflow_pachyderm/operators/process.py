"""ProcessBatchOperator: step 2 of a job, mapped over batches."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_pachyderm.compat import AirflowFailException
from airflow_pachyderm.jobs.commit import find_job_commit
from airflow_pachyderm.jobs.job import BatchRef, JobStateMissingError
from airflow_pachyderm.jobs.process import DatumFailedError, process_batch
from airflow_pachyderm.operators._common import PipelineOperator, fail_permanent_errors
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
    :raises DatumFailedError: datums failed every try (the task's retries apply).
    :raises AirflowFailException: the job has no state and no output commit, the spec changed
        since the plan, or another error a retry cannot fix.
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

    @fail_permanent_errors
    def execute(self, context: Any) -> dict[str, Any]:
        if not self.batch:
            raise ValueError("ProcessBatchOperator needs a batch (from the plan task)")
        batch = BatchRef.from_xcom(self.batch)
        secrets = resolve_secrets(self.spec.transform.secrets)
        secret_files = resolve_secret_files(self.spec.transform.secrets)
        # A crashed earlier try may have left its container behind.
        cleanup_job_containers(batch.job_id, batch=str(batch.index))
        client = self.client()
        try:
            with tempfile.TemporaryDirectory(prefix="pachyderm-batch-", dir=self.workdir) as tmp:
                outcome = process_batch(
                    client,
                    self.spec,
                    batch,
                    DockerRunner(docker_conn_id=self.docker_conn_id),
                    secrets_env=secrets,
                    secret_files=secret_files,
                    workdir=Path(tmp),
                    log_line=self.log_line,
                )
        except JobStateMissingError as exc:
            # This task alone was cleared after its job finished: nothing to redo.
            branch = self.output_branch(context)
            done = find_job_commit(client, batch.output_repo, branch, batch.job_id)
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
    from airflow.sdk.log import mask_secret

    env: dict[str, str] = {}
    for secret in secrets:
        if secret.env_var is None:
            continue
        value = _secret_value(secret)
        mask_secret(value, secret.env_var)
        env[secret.env_var] = value
    return env


def resolve_secret_files(secrets: list[Secret]) -> dict[str, dict[str, str]]:
    """Secrets with ``mount_path``: container directory -> {file name: value}.

    With ``key`` the file is named after the key (``extra.<x>``: ``x``) and holds that field
    of the Airflow connection ``name``; without it the Airflow variable ``name`` must be a
    JSON object, one file per entry (the shape of a Kubernetes secret). Every value is
    registered with Airflow's secrets masker.

    :raises ValueError: a variable that is not a JSON object of strings, or a file name with
        '/' in it.
    """
    from airflow.sdk.log import mask_secret

    files: dict[str, dict[str, str]] = {}
    for secret in secrets:
        if secret.mount_path is None:
            continue
        if secret.key is not None:
            entries = {secret.key.removeprefix("extra."): _secret_value(secret)}
        else:
            entries = _variable_entries(secret.name)
        for file_name, value in entries.items():
            mask_secret(value, file_name)
        files.setdefault(secret.mount_path, {}).update(entries)
    return files


def _secret_value(secret: Secret) -> str:
    from airflow.sdk import BaseHook, Variable

    if secret.key is None:
        value = Variable.get(secret.name)
    else:
        conn = BaseHook.get_connection(secret.name)
        value = _connection_field(conn, secret.key, secret.name)
    return "" if value is None else str(value)


def _variable_entries(name: str) -> dict[str, str]:
    from airflow.sdk import Variable

    problem = (
        f"secret {name!r} is mounted without `key`, so the Airflow variable {name!r} must be "
        'a JSON object of file name -> value, e.g. {"user": "...", "password": "..."}'
    )
    try:
        entries = json.loads(Variable.get(name))
    except ValueError:
        raise ValueError(problem) from None
    if not isinstance(entries, dict) or not entries:
        raise ValueError(problem)
    for file_name in entries:
        if not file_name or "/" in file_name or file_name in (".", ".."):
            raise ValueError(f"{problem}; {file_name!r} cannot be a file name")
    return {file_name: "" if v is None else str(v) for file_name, v in entries.items()}


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
