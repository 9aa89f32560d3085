"""CommitOperator (step 3 of a job) and PublishOperator (announces the output commit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import Asset

from airflow_pachyderm.compat import AirflowFailException, AirflowSkipException
from airflow_pachyderm.errors import DatumFailedError
from airflow_pachyderm.jobs.commit import commit_job
from airflow_pachyderm.jobs.job import job_id_for
from airflow_pachyderm.links import OUTPUT_LINKS, commits_url, files_url, lineage_url
from airflow_pachyderm.operators._common import PipelineOperator, fail_permanent_errors
from airflow_pachyderm.operators.plan import inputs_text


class CommitOperator(PipelineOperator):
    """
    Commit a job's staged outputs with provenance metadata and merge them into the output
    branch in one step (a side branch named by the ``output_branch`` param is created here,
    at the output commit).

    Safe to retry at any point: a retry finishes what an interrupted attempt started and
    never makes a second output commit. Its extra links open the output commit, its files
    and its lineage; the XCom ``summary`` names the output commit and the input commits.

    :param pipeline_spec: the pipeline spec as a dict.
    :param lakefs_conn_id: Airflow connection of type ``lakefs``.
    :return: the output commit id.
    :raises AirflowFailException: the job has no plan and no output commit (clear the whole
        run), a batch has no result or failed datums (rerun its process task), or the output
        branch moved while the job ran.
    :raises LakeFSError: lakeFS failed (the task's retries apply).
    """

    operator_extra_links = OUTPUT_LINKS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pachyderm_links: dict[str, str] = {}

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
        self._committed = result
        self.pachyderm_links.update(
            output_commit=commits_url(result.repo, result.commit),
            job_files=files_url(result.repo, result.commit),
            lineage=lineage_url(result.repo, result.commit),
        )
        summary = (
            f"{result.repo}@{result.commit} on branch {result.branch} from "
            f"{inputs_text(result.provenance.inputs)}"
        )
        self.log.info("%s", summary)
        context["ti"].xcom_push(key="summary", value=summary)
        return result.commit

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the input commits in, the output commit out, with datum counts and
        the spec hash. Called by the OpenLineage listener after execute."""
        from airflow_pachyderm.operators.openlineage import job_datasets, operator_lineage

        result = getattr(self, "_committed", None)
        if result is None:
            return operator_lineage([], [])
        prov = result.provenance
        inputs, outputs = job_datasets(
            self.client().config.base_url, self.spec, prov.inputs, job=prov.job,
            spec_hash=prov.spec_hash, output_branch=result.branch,
            output_commit=result.commit, base_commit=prov.base_commit, datums=prov.datums,
        )
        return operator_lineage(inputs, outputs)


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
