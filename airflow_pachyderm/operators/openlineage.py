"""OpenLineage datasets of a job, for ``apache-airflow-providers-openlineage``.

The plan and commit operators report what a job read and wrote: one dataset per input and
one for the output, namespace the lakeFS endpoint, name ``<repo>/<branch>``. Each dataset
carries the standard ``version`` facet (the lakeFS commit id, when known) and the
``pachyderm`` facet below (commit, pipeline, job, spec hash, datum counts), so an
OpenLineage backend (Marquez, ...) sees the pipeline graph with the exact versions.

Imported only when the OpenLineage listener asks for facets: DAG parsing never pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attr
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import DatasetFacet, dataset_version_dataset

from airflow_pachyderm.lakefs.provenance import InputCommit
from airflow_pachyderm.spec.models import PipelineSpec

FACET_NAME = "pachyderm"
FACET_SCHEMA = "urn:airflow-pachyderm:openlineage:PachydermCommitDatasetFacet:1-0-0"


@attr.define
class PachydermCommitDatasetFacet(DatasetFacet):
    """The lakeFS commit of a dataset as one job saw it.

    :param commit: the commit id read (inputs) or written (output; empty at plan time).
    :param input_name: the pipeline's name for this input (empty for the output).
    :param pipeline: the pipeline that read or wrote it.
    :param job: the job id (stable per DAG run).
    :param spec_hash: hash of the pipeline spec the job ran.
    :param datums: datum counts (processed, skipped, failed, ...): planned at plan time,
        final at commit time; on the output dataset only.
    :param base_commit: the output branch's head the job started from (output only).
    """

    commit: str
    input_name: str = attr.field(default="")
    pipeline: str = attr.field(default="")
    job: str = attr.field(default="")
    spec_hash: str = attr.field(default="")
    datums: dict[str, int] = attr.field(factory=dict)
    base_commit: str = attr.field(default="")

    @staticmethod
    def _get_schema() -> str:
        return FACET_SCHEMA


def _facets(facet: PachydermCommitDatasetFacet) -> dict[str, Any]:
    facets: dict[str, Any] = {FACET_NAME: facet}
    if facet.commit:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=facet.commit
        )
    return facets


def job_datasets(
    namespace: str,
    spec: PipelineSpec,
    inputs: Sequence[InputCommit],
    *,
    job: str,
    spec_hash: str,
    output_branch: str,
    output_commit: str = "",
    base_commit: str = "",
    datums: Mapping[str, int] | None = None,
) -> tuple[list[InputDataset], list[OutputDataset]]:
    """Input and output datasets of one job.

    :param namespace: the lakeFS endpoint URL.
    :param inputs: the commits the job pinned, by input name.
    :param output_commit: the output commit, once made (empty at plan time).
    """
    branches = {spec.input_key(pfs): pfs.branch for pfs in spec.pfs_inputs()}
    common = {"pipeline": spec.name, "job": job, "spec_hash": spec_hash}
    in_sets = [
        InputDataset(
            namespace=namespace,
            name=f"{item.repo}/{branches.get(item.name) or item.branch or 'main'}",
            facets=_facets(PachydermCommitDatasetFacet(
                commit=item.commit, input_name=item.name, **common)),
        )
        for item in inputs
    ]
    out = OutputDataset(
        namespace=namespace,
        name=f"{spec.output_repo}/{output_branch}",
        facets=_facets(PachydermCommitDatasetFacet(
            commit=output_commit, datums={k: int(v) for k, v in (datums or {}).items()},
            base_commit=base_commit, **common)),
    )
    return in_sets, [out]


def operator_lineage(inputs: list[InputDataset], outputs: list[OutputDataset]) -> Any:
    """The provider's ``OperatorLineage`` for these datasets."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=inputs, outputs=outputs)
