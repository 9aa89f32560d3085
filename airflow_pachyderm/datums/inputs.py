"""The input tree of a pipeline (Pachyderm's ``input``) and the file listings it reads.

These are plain values: the spec layer builds them from YAML, the engine resolves each
branch to a commit id before planning, and the caller's lister turns a leaf into files.
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


def validate_tree(tree: InputTree, where: str = "input") -> None:
    """Reject trees that cannot produce well-formed datums, naming the offending node.

    Checked: combinators are not empty, names and globs are set, join inputs sit under a
    join with ``joinOn``, group inputs have ``groupBy``, and input names are unique except
    between the branches of a union (Pachyderm lets union branches share a name so that
    the code always reads ``/pfs/<name>``).
    """
    _validate(tree, where, in_join=False, in_group=False)
    _check_unique_names(tree, where)


def _validate(tree: InputTree, where: str, *, in_join: bool, in_group: bool) -> None:
    if isinstance(tree, CronLeaf):
        if not tree.name:
            raise DatumError(f"{where}.cron: 'name' must not be empty")
        if not tree.repo:
            raise DatumError(f"{where}.cron ({tree.name}): 'repo' must not be empty")
        return
    if isinstance(tree, PfsLeaf):
        label = f"{where}.pfs ({tree.name or tree.repo})"
        if not tree.name:
            raise DatumError(f"{label}: 'name' must not be empty")
        if not tree.repo:
            raise DatumError(f"{label}: 'repo' must not be empty")
        if not tree.glob:
            raise DatumError(f"{label}: 'glob' must not be empty (use '/' for the whole repo)")
        if tree.join_on and not in_join:
            raise DatumError(f"{label}: 'joinOn' is only meaningful inside a join input")
        if tree.outer_join and not in_join:
            raise DatumError(f"{label}: 'outerJoin' is only meaningful inside a join input")
        if tree.group_by and not in_group:
            raise DatumError(f"{label}: 'groupBy' is only meaningful inside a group input")
        if in_group and not tree.group_by:
            raise DatumError(f"{label}: inputs of a group need 'groupBy' (e.g. '$1')")
        return
    if not isinstance(tree, _COMBINATORS):
        raise DatumError(f"{where}: unknown input node {tree!r}")
    kind = type(tree).__name__.removesuffix("Input").lower()
    if not tree.inputs:
        raise DatumError(f"{where}.{kind}: needs at least one input")
    for index, child in enumerate(tree.inputs):
        _validate(
            child,
            f"{where}.{kind}[{index}]",
            in_join=isinstance(tree, JoinInput) or (in_join and not isinstance(tree, GroupInput)),
            in_group=isinstance(tree, GroupInput) or (in_group and not isinstance(tree, JoinInput)),
        )


def _check_unique_names(tree: InputTree, where: str) -> set[str]:
    """Return the names visible under ``tree``; raise when two siblings would clash."""
    if isinstance(tree, (PfsLeaf, CronLeaf)):
        return {tree.name}
    kind = type(tree).__name__.removesuffix("Input").lower()
    seen: set[str] = set()
    for index, child in enumerate(tree.inputs):
        names = _check_unique_names(child, f"{where}.{kind}[{index}]")
        if not isinstance(tree, UnionInput):
            clash = seen & names
            if clash:
                name = sorted(clash)[0]
                raise DatumError(
                    f"{where}.{kind}[{index}]: input name {name!r} is used twice; both would "
                    f"be mounted at /pfs/{name}: give one of them another 'name'"
                )
        seen |= names
    return seen
