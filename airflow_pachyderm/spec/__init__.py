"""Pipeline specs: models, loading with precise errors, and the graph of pipelines.

Nothing here imports Airflow: specs are pipeline logic, DAGs are built from them elsewhere.
"""

from airflow_pachyderm.spec.errors import SpecError, SpecErrors
from airflow_pachyderm.spec.graph import PipelineGraph
from airflow_pachyderm.spec.loader import collect_specs, load_specs
from airflow_pachyderm.spec.models import CronInput, Input, PFSInput, PipelineSpec

__all__ = [
    "CronInput",
    "Input",
    "PFSInput",
    "PipelineGraph",
    "PipelineSpec",
    "SpecError",
    "SpecErrors",
    "collect_specs",
    "load_specs",
]
