"""The graph of pipelines: a pipeline reading another's output repo depends on it."""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from airflow_pachyderm.spec.errors import SpecError, SpecErrors, format_path
from airflow_pachyderm.spec.models import PipelineSpec
from airflow_pachyderm.spec.names import find_collisions


class PipelineGraph:
    """Checks a set of pipelines together and answers ordering questions.

    Raises :class:`SpecErrors` for pipeline names defined twice (reported at both places)
    and for cycles (reported at the input that closes each one).
    """

    def __init__(self, specs: Iterable[PipelineSpec]) -> None:
        # Keyed by ``project/name`` (just the name outside projects).
        self.specs: dict[str, PipelineSpec] = {}
        errors: list[SpecError] = []
        for spec in specs:
            other = self.specs.get(spec.qualified_name)
            if other is None:
                self.specs[spec.qualified_name] = spec
                continue
            errors.append(_duplicate_error(spec, other))
            errors.append(_duplicate_error(other, spec))
        errors.extend(_collision_errors(self.specs.values()))
        by_repo = {spec.output_repo: key for key, spec in self.specs.items()}
        self._upstream: dict[str, set[str]] = {name: set() for name in self.specs}
        self._downstream: dict[str, set[str]] = {name: set() for name in self.specs}
        for key, spec in self.specs.items():
            for pfs in spec.pfs_inputs():
                upstream = by_repo.get(pfs.lakefs_repo)
                if upstream is not None:
                    self._upstream[key].add(upstream)
                    self._downstream[upstream].add(key)
        errors.extend(self._cycle_errors())
        if errors:
            raise SpecErrors(errors)

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __len__(self) -> int:
        return len(self.specs)

    def upstream(self, name: str) -> list[str]:
        """Pipelines whose output ``name`` reads directly, sorted."""
        return sorted(self._upstream[self._known(name)])

    def downstream(self, name: str) -> list[str]:
        """Pipelines that read the output of ``name`` directly, sorted."""
        return sorted(self._downstream[self._known(name)])

    def topological_order(self) -> list[str]:
        """Pipeline names, every pipeline after those it reads; ties broken by name."""
        waiting = {name: len(ups) for name, ups in self._upstream.items()}
        ready = [name for name, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for child in self._downstream[name]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, child)
        return order

    def _known(self, name: str) -> str:
        if name not in self.specs:
            raise KeyError(f"no pipeline named {name!r}; known: {', '.join(sorted(self.specs))}")
        return name

    def _cycle_errors(self) -> list[SpecError]:
        errors = []
        reported: set[frozenset[str]] = set()
        for start in sorted(self.specs):
            cycle = self._cycle_from(start)
            if cycle is None or frozenset(cycle) in reported:
                continue
            reported.add(frozenset(cycle))
            errors.append(self._cycle_error(cycle))
        return errors

    def _cycle_from(self, start: str) -> list[str] | None:
        # Follow "reads" edges depth first; a node met again on the current path closes a cycle.
        path: list[str] = []
        on_path: set[str] = set()
        done: set[str] = set()

        def visit(name: str) -> list[str] | None:
            path.append(name)
            on_path.add(name)
            for upstream in sorted(self._upstream[name]):
                if upstream in on_path:
                    return path[path.index(upstream) :]
                if upstream not in done:
                    found = visit(upstream)
                    if found is not None:
                        return found
            path.pop()
            on_path.discard(name)
            done.add(name)
            return None

        return visit(start)

    def _cycle_error(self, cycle: list[str]) -> SpecError:
        # cycle[i] reads cycle[i + 1]; report where cycle[0] reads cycle[1].
        first = min(range(len(cycle)), key=lambda index: cycle[index])
        cycle = cycle[first:] + cycle[:first]
        reader = self.specs[cycle[0]]
        read = self.specs[cycle[1] if len(cycle) > 1 else cycle[0]].output_repo
        path = next(
            (*node_path, "pfs", "repo")
            for node_path, node in reader.input_nodes()
            if node.pfs is not None and node.pfs.lakefs_repo == read
        )
        line, column = reader.locate(path)
        if len(cycle) == 1:
            message = (
                f"pipeline {reader.name!r} reads its own output repo; read another repo "
                "(a pipeline cannot depend on its own output)"
            )
        else:
            steps = ", ".join(
                f"{name} reads {read_name}"
                for name, read_name in zip(cycle, cycle[1:] + cycle[:1], strict=True)
            )
            message = (
                f"pipelines form a cycle ({steps}): a pipeline cannot depend on its own "
                "output, directly or through others"
            )
        return SpecError(reader.source_file, line, column, format_path(path), message)


def _collision_errors(specs: Iterable[PipelineSpec]) -> list[SpecError]:
    """Two different Pachyderm names mapped to one lakeFS repository, reported at each."""
    places: list[tuple[str, str, PipelineSpec, tuple]] = []
    for spec in specs:
        places.append((spec.qualified_name, spec.output_repo, spec, ("pipeline", "name")))
        for node_path, node in spec.input_nodes():
            if node.pfs is not None:
                pfs = node.pfs
                places.append(
                    (pfs.qualified_repo, pfs.lakefs_repo, spec, (*node_path, "pfs", "repo"))
                )
    collisions = find_collisions((written, repo) for written, repo, _, _ in places)
    errors = []
    for written, repo, spec, path in places:
        if repo not in collisions:
            continue
        others = " and ".join(repr(name) for name in collisions[repo] if name != written)
        line, column = spec.locate(path)
        errors.append(
            SpecError(
                spec.source_file,
                line,
                column,
                format_path(path),
                f"{written!r} and {others} both map to lakeFS repository {repo!r} (names are "
                "lower-cased and '_' becomes '-'): rename one of them",
            )
        )
    return errors


def _duplicate_error(spec: PipelineSpec, other: PipelineSpec) -> SpecError:
    line, column = spec.locate(("pipeline", "name"))
    other_line, other_column = other.locate(("pipeline", "name"))
    where = f"line {other_line}"
    if other.source_file != spec.source_file:
        where = f"{other.source_file}:{other_line}:{other_column}"
    return SpecError(
        spec.source_file,
        line,
        column,
        "pipeline.name",
        f"pipeline {spec.name!r} is also defined at {where}; pipeline names (and output "
        "repos) must be unique",
    )
