"""The plugin reads each pipeline back from its serialized DAG's documentation."""

from __future__ import annotations

from pathlib import Path

from airflow_pachyderm.dag_factory import doc_md
from airflow_pachyderm.plugins.pipelines import (
    PipelineInput,
    dags_touching,
    pipeline_from_serialized,
    pipeline_graph,
    writer_of,
)
from airflow_pachyderm.spec.checking import load_graph

ML_SPECS = Path(__file__).resolve().parents[2] / "dags_examples" / "ml" / "pipelines.yaml"


def serialized(spec) -> dict:
    return {"dag": {"doc_md": doc_md(spec), "params": [["input_commits", {}]]}}


def test_specs_come_back_from_the_dag_documentation() -> None:
    graph = load_graph([ML_SPECS])
    pipelines = [pipeline_from_serialized(s.dag_id, serialized(s))
                 for s in graph.specs.values()]
    inference = next(p for p in pipelines if p.dag_id == "inference")
    assert inference.output_repo == "inference"
    assert inference.inputs == (
        PipelineInput("attributes", "attributes", "main", "/*"),
        PipelineInput("model", "model", "main", "/"),
        PipelineInput("code", "code", "main", "/infer.py"),
    )
    assert "input_commits" in inference.param_names
    assert pipeline_graph(pipelines) == {"model": ["inference"], "inference": []}
    assert sorted(dags_touching(pipelines, "code")) == ["inference", "model"]
    assert writer_of(pipelines, "model").dag_id == "model"
    assert writer_of(pipelines, "training") is None


def test_a_dag_without_a_readable_spec_is_still_listed() -> None:
    pipeline = pipeline_from_serialized("odd", {"dag": {"doc_md": "### Spec\n```yaml\n: [\n```"}})
    assert pipeline.dag_id == "odd" and pipeline.inputs == () and pipeline.spec is None
