"""Which pipelines of a spec set read a branch, directly and downstream (for ``revert``,
``rerun`` and ``wait``)."""

from __future__ import annotations

from pathlib import Path

from airflow_pachyderm.cli_data.common import CommandError


def load_graph(specs_path: str):
    """The :class:`PipelineGraph` of ``specs_path``; raises :class:`CommandError` when the path
    holds no valid specs."""
    from airflow_pachyderm.spec import PipelineGraph, SpecErrors, load_specs

    if not Path(specs_path).exists():
        raise CommandError(f"--specs {specs_path}: no such file or directory")
    try:
        graph = PipelineGraph(load_specs(specs_path))
    except SpecErrors as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid specs"
        raise CommandError(f"--specs {specs_path}: {first}") from None
    if not len(graph):
        raise CommandError(f"--specs {specs_path}: no pipeline specs found (use --specs PATH)")
    return graph


def readers(graph, repo: str, branch: str | None) -> tuple[list[str], list[str]]:
    """(pipelines reading ``repo@branch`` directly, pipelines downstream of those), each in
    run order. ``branch`` None matches any branch."""
    direct = {
        name for name, spec in graph.specs.items()
        if any(p.lakefs_repo == repo and (branch is None or p.branch == branch)
               for p in spec.pfs_inputs())
    }
    reached = set(direct)
    frontier = list(direct)
    while frontier:
        for child in graph.downstream(frontier.pop()):
            if child not in reached:
                reached.add(child)
                frontier.append(child)
    order = graph.topological_order()
    return ([n for n in order if n in direct], [n for n in order if n in reached - direct])
