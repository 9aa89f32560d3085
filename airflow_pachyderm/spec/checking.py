"""Check a set of spec paths completely: every file, then the pipelines together."""

from __future__ import annotations

import os
from collections.abc import Sequence

from airflow_pachyderm.spec.errors import SpecError, SpecErrors
from airflow_pachyderm.spec.graph import PipelineGraph
from airflow_pachyderm.spec.loader import collect_specs
from airflow_pachyderm.spec.models import PipelineSpec

PathsArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def check_paths(paths: PathsArg) -> tuple[list[PipelineSpec], list[SpecError]]:
    """Load ``paths`` and check the valid pipelines as a graph; return specs and errors.

    The graph is checked even when some files have errors, so one run reports both.
    """
    specs, errors = collect_specs(paths)
    try:
        PipelineGraph(specs)
    except SpecErrors as exc:
        errors.extend(exc.errors)
    return specs, sorted(set(errors), key=lambda e: (e.file, e.line, e.column, e.field_path))


def load_graph(paths: PathsArg) -> PipelineGraph:
    """Load ``paths`` into a checked :class:`PipelineGraph`; raises :class:`SpecErrors`."""
    specs, errors = collect_specs(paths)
    graph = None
    try:
        graph = PipelineGraph(specs)
    except SpecErrors as exc:
        errors.extend(exc.errors)
    if errors or graph is None:
        raise SpecErrors(errors)
    return graph
