"""The input tree of a pipeline (Pachyderm's ``input``) and the file listings it reads.

These are plain values: the spec layer builds them from YAML, the engine resolves each
branch to a commit id before planning, and the caller's lister turns a leaf into files.

The engine trusts its tree: the rules of a well-formed tree (combinators not empty, names,
repos and globs set, joinOn/outerJoin only inside a join, groupBy on every input of a group
and nowhere else, input names unique except across a union's branches) live in one place,
the spec (``spec.models`` and ``spec/checks.py``), which every tree of a job is built from
(``jobs/convert.py``). A tree built by hand (tests, benchmarks) must follow them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, Union

from airflow_pachyderm.datums.errors import DatumError


class FileEntry(NamedTuple):
    """One object of a listing: lakeFS path (no leading slash), checksum and size."""

    path: str
    checksum: str
    size: int


@dataclass(frozen=True)
class PfsLeaf:
    """Files of one repo at one commit, cut into datums by ``glob``."""

    name: str
    repo: str
    branch: str
    commit: str
    glob: str
    join_on: str | None = None
    outer_join: bool = False
    group_by: str | None = None
    empty_files: bool = False
    lazy: bool = False


@dataclass(frozen=True)
class CronLeaf:
    """Ticks of a cron schedule, stored as files in ``repo`` by the caller.

    It is read like a pfs input over that repo. The default glob ``/`` makes every tick
    one datum covering the whole tick repo (Pachyderm itself uses ``/*`` there, one datum
    per tick file; pass ``glob="/*"`` for that behaviour).
    """

    name: str
    repo: str
    commit: str
    spec: str = ""
    branch: str = "main"
    glob: str = "/"
    overwrite: bool = False

    def as_pfs(self) -> PfsLeaf:
        return PfsLeaf(
            name=self.name, repo=self.repo, branch=self.branch, commit=self.commit, glob=self.glob
        )


@dataclass(frozen=True)
class CrossInput:
    """Cartesian product of the datums of its inputs."""

    inputs: tuple[InputTree, ...]


@dataclass(frozen=True)
class UnionInput:
    """Datums of each input, one after the other (a datum present twice is kept once)."""

    inputs: tuple[InputTree, ...]


@dataclass(frozen=True)
class JoinInput:
    """Datums whose ``joinOn`` values are equal across inputs, crossed together."""

    inputs: tuple[InputTree, ...]


@dataclass(frozen=True)
class GroupInput:
    """One datum per ``groupBy`` value, holding every matching file of every input."""

    inputs: tuple[InputTree, ...]


InputTree = Union[PfsLeaf, CronLeaf, CrossInput, UnionInput, JoinInput, GroupInput]  # noqa: UP007
LeafInput = Union[PfsLeaf, CronLeaf]  # noqa: UP007
Lister = Callable[[PfsLeaf], Iterable[FileEntry]]

_COMBINATORS = (CrossInput, UnionInput, JoinInput, GroupInput)


def leaf_inputs(tree: InputTree) -> list[LeafInput]:
    """Every pfs and cron input of ``tree``, depth first, in spec order."""
    return list(_walk_leaves(tree))


def _walk_leaves(tree: InputTree) -> Iterator[LeafInput]:
    if isinstance(tree, (PfsLeaf, CronLeaf)):
        yield tree
        return
    if isinstance(tree, _COMBINATORS):
        for child in tree.inputs:
            yield from _walk_leaves(child)
        return
    raise DatumError(
        f"unknown input node {tree!r}: expected pfs, cron, cross, union, join or group"
    )
