"""The pipelines Airflow knows: their specs, read back from the serialized DAGs.

The api-server never runs DAG files, so the plugin learns each pipeline from what the DAG
processor stored: the DAG's ``pachyderm`` tag and its documentation, which carries the spec
as written (``dag_factory.doc_md``). A spec that cannot be read back still lists its DAG.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from airflow_pachyderm.spec.graph import PipelineGraph
from airflow_pachyderm.spec.loader import spec_from_data
from airflow_pachyderm.spec.models import PipelineSpec

log = logging.getLogger(__name__)
PIPELINE_TAG = "pachyderm"
_SPEC_BLOCK = re.compile(r"^### Spec\b.*?^```yaml\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class PipelineInput:
    """One pfs input: its key in runs and provenance, and where it reads."""

    key: str
    repo: str
    branch: str
    glob: str


@dataclass(frozen=True)
class Pipeline:
    """A pipeline DAG and, when its spec could be read back, the spec's shape."""

    dag_id: str
    name: str
    output_repo: str = ""
    output_branch: str = ""
    inputs: tuple[PipelineInput, ...] = ()
    image: str = ""
    description: str = ""
    param_names: frozenset[str] = field(default_factory=frozenset)
    spec: PipelineSpec | None = None

    def repos(self) -> set[str]:
        return {self.output_repo, *(item.repo for item in self.inputs)} - {""}


def spec_from_doc(doc_md: str | None, dag_id: str) -> PipelineSpec | None:
    """The spec embedded in a pipeline DAG's documentation, or None."""
    match = _SPEC_BLOCK.search(doc_md or "")
    if not match:
        return None
    try:
        return spec_from_data(yaml.safe_load(match.group(1)), file=f"DAG {dag_id}")
    except Exception as exc:  # any unreadable spec: the DAG is still listed, without it
        log.warning("cannot read the pipeline spec of DAG %s back: %s", dag_id, exc)
        return None


def _param_names(params: Any) -> frozenset[str]:
    if isinstance(params, dict):
        return frozenset(params)
    if isinstance(params, list):
        return frozenset(item[0] for item in params if isinstance(item, (list, tuple)) and item)
    return frozenset()


def pipeline_from_serialized(dag_id: str, data: dict[str, Any]) -> Pipeline:
    """A :class:`Pipeline` from a serialized DAG's JSON (``SerializedDagModel.data``)."""
    dag = data.get("dag", data)
    spec = spec_from_doc(dag.get("doc_md"), dag_id)
    params = _param_names(dag.get("params"))
    if spec is None:
        return Pipeline(dag_id=dag_id, name=dag_id, param_names=params)
    return Pipeline(
        dag_id=dag_id,
        name=spec.pipeline.name,
        output_repo=spec.output_repo,
        output_branch=spec.output_branch,
        inputs=tuple(
            PipelineInput(spec.input_key(pfs), pfs.lakefs_repo, pfs.branch, pfs.glob)
            for pfs in spec.pfs_inputs()
        ),
        image=spec.transform.image,
        description=spec.description or "",
        param_names=params,
        spec=spec,
    )


# dag_id -> (serialized DAG hash, pipeline): the spec is parsed again only when it changed.
_cache: dict[str, tuple[str, Pipeline]] = {}


def load_pipelines() -> list[Pipeline]:
    """Every non-stale DAG tagged ``pachyderm``, as a :class:`Pipeline` (by DAG id)."""
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    pipelines = []
    with create_session() as session:
        dag_ids = session.scalars(
            select(DagTag.dag_id)
            .join(DagModel, DagModel.dag_id == DagTag.dag_id)
            .where(DagTag.name == PIPELINE_TAG, DagModel.is_stale.is_(False))
            .order_by(DagTag.dag_id)
        ).all()
        for dag_id in dag_ids:
            row = SerializedDagModel.get(dag_id, session=session)
            if row is None:
                continue
            cached = _cache.get(dag_id)
            if cached is None or cached[0] != row.dag_hash:
                cached = (row.dag_hash, pipeline_from_serialized(dag_id, row.data or {}))
                _cache[dag_id] = cached
            pipelines.append(cached[1])
    return pipelines


def pipeline_graph(pipelines: list[Pipeline]) -> dict[str, list[str]]:
    """DAG id -> DAG ids of the pipelines reading its output (who feeds whom)."""
    specs = [p.spec for p in pipelines if p.spec is not None]
    try:
        graph = PipelineGraph(specs)
    except Exception:  # a collision between DAG folders: fall back to repo matching
        graph = None
    by_name = {p.spec.qualified_name: p.dag_id for p in pipelines if p.spec is not None}
    feeds: dict[str, list[str]] = {p.dag_id: [] for p in pipelines}
    for pipeline in pipelines:
        if graph is not None and pipeline.spec is not None:
            names = graph.downstream(pipeline.spec.qualified_name)
            feeds[pipeline.dag_id] = [by_name[n] for n in names if n in by_name]
        else:
            feeds[pipeline.dag_id] = [
                other.dag_id
                for other in pipelines
                if pipeline.output_repo
                and any(i.repo == pipeline.output_repo for i in other.inputs)
            ]
    return feeds


def dags_touching(pipelines: list[Pipeline], repo: str) -> list[str]:
    """DAG ids of the pipelines that write or read ``repo``."""
    return [p.dag_id for p in pipelines if repo in p.repos()]


def writer_of(pipelines: list[Pipeline], repo: str) -> Pipeline | None:
    """The pipeline whose output repository is ``repo``."""
    return next((p for p in pipelines if p.output_repo == repo), None)
