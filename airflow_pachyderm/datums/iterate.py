"""Datums from an input tree and file listings: glob, cross, union, join and group.

Semantics follow Pachyderm's datum iterators:

* pfs: every file or directory the glob matches is a datum holding the files under it.
  lakeFS has no directories, so directories are the prefixes of object paths. Each file
  goes to the deepest entry that matches (Pachyderm's raw glob would also return the
  enclosing directories for patterns like ``/**``, giving overlapping datums; its
  documentation describes ``/**`` as "each file is a datum", which is what this gives).
  A glob that matches nothing yields no datum.
* cross: the product of its inputs' datums; an empty input empties the product.
* union: the datums of each input in turn; a datum present in two branches is kept once.
* join: every matched entry of every input is keyed by its ``joinOn`` template; for a key
  present in all inputs the product of the entries is a datum; otherwise only entries
  of inputs with ``outerJoin`` are kept, each combination of them being a datum.
* group: every matched entry of every input is keyed by ``groupBy``; each key is one
  datum holding all of its entries.

Listings must come sorted by path, as lakeFS lists them: a pfs input then streams its
datums with memory bounded by the depth of the tree, and a cross keeps only its smaller
sides in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, islice, product

from airflow_pachyderm.datums.errors import DatumError
from airflow_pachyderm.datums.glob import CompiledGlob, GlobMatch, compile_glob
from airflow_pachyderm.datums.inputs import (
    CronLeaf,
    CrossInput,
    FileEntry,
    GroupInput,
    InputTree,
    JoinInput,
    Lister,
    PfsLeaf,
    UnionInput,
)
from airflow_pachyderm.datums.model import Datum, DatumFile, datum_id

# A cross side with at least this many datums is streamed instead of held in memory.
CROSS_STREAM_THRESHOLD = 1024


class _Match:
    """One entry a glob matched (Pachyderm's per-input part of a datum)."""

    __slots__ = ("_datum_files", "entries", "group_key", "join_key", "leaf", "root")

    def __init__(
        self, leaf: PfsLeaf, root: str, entries: list[FileEntry], join_key: str, group_key: str
    ) -> None:
        self.leaf = leaf
        self.root = root
        self.entries = entries
        self.join_key = join_key
        self.group_key = group_key
        self._datum_files: tuple[DatumFile, ...] | None = None

    def datum_files(self) -> tuple[DatumFile, ...]:
        # Built once: in a cross the same match (e.g. the model) is part of every datum.
        if self._datum_files is None:
            leaf = self.leaf
            name, repo, commit, root = leaf.name, leaf.repo, leaf.commit, self.root
            empty_files, lazy = leaf.empty_files, leaf.lazy
            self._datum_files = tuple(
                [
                    DatumFile(
                        name, repo, commit, entry.path, entry.checksum, entry.size, root,
                        empty_files, lazy,
                    )
                    for entry in self.entries
                ]
            )
        return self._datum_files


_Parts = tuple[_Match, ...]


def iter_datums(tree: InputTree, lister: Lister) -> Iterator[Datum]:
    """Every datum of ``tree``, reading files through ``lister`` (sorted by path).

    ``tree`` is not checked again here: it comes from a validated spec (see ``datums.inputs``).
    """
    for parts in _iter_parts(tree, lister):
        yield _to_datum(parts)


def _to_datum(parts: _Parts) -> Datum:
    if len(parts) == 1:  # the common case (a single pfs input), kept cheap
        return Datum(_parts_id(parts), parts[0].datum_files())
    files = tuple(chain.from_iterable(match.datum_files() for match in parts))
    return Datum(_parts_id(parts), files)


def _parts_id(parts: _Parts) -> str:
    return datum_id([(match.leaf.name, match.leaf.repo, match.root) for match in parts])


def _iter_parts(tree: InputTree, lister: Lister) -> Iterator[_Parts]:
    if isinstance(tree, PfsLeaf):
        return _iter_pfs(tree, lister)
    if isinstance(tree, CronLeaf):
        return _iter_pfs(tree.as_pfs(), lister)
    children = [_iter_parts(child, lister) for child in tree.inputs]
    if isinstance(tree, CrossInput):
        return _iter_cross(children)
    if isinstance(tree, UnionInput):
        return _iter_union(children)
    if isinstance(tree, JoinInput):
        return _iter_join(children)
    if isinstance(tree, GroupInput):
        return _iter_group(children)
    raise DatumError(f"unknown input node {tree!r}")


def _contains(root: str, path: str) -> bool:
    return root == "" or path == root or path.startswith(root + "/")


class _Locator:
    """Finds the deepest entry (the file or one of its directories) a glob matches."""

    _MISS = object()

    def __init__(self, glob: CompiledGlob) -> None:
        self.glob = glob
        self.directories: dict[str, GlobMatch | None] = {}

    def locate(self, path: str) -> tuple[str, GlobMatch | None] | None:
        if self.glob.matches_root_only:
            return "", None
        match = self.glob.match("/" + path)
        if match is not None:
            return path, match
        cut = path.rfind("/")
        while cut > 0:
            directory = path[:cut]
            found = self.directories.get(directory, self._MISS)
            if found is self._MISS:
                found = self.glob.match("/" + directory)
                self.directories[directory] = found
            if found is not None:
                return directory, found
            cut = path.rfind("/", 0, cut)
        return None


def _iter_pfs(leaf: PfsLeaf, lister: Lister) -> Iterator[_Parts]:
    glob = compile_glob(leaf.glob)
    if leaf.join_on:
        glob.check_template(leaf.join_on, "joinOn", leaf.name)
    if leaf.group_by:
        glob.check_template(leaf.group_by, "groupBy", leaf.name)
    locator = _Locator(glob)
    open_matches: list[_Match] = []  # a chain of nested roots, outermost first
    previous: str | None = None
    for entry in lister(leaf):
        path = entry.path
        if previous is not None and path <= previous:
            raise DatumError(
                f"input {leaf.name!r}: the listing of repo {leaf.repo!r} at commit "
                f"{leaf.commit!r} must be sorted by path without duplicates, but {path!r} "
                f"comes after {previous!r}"
            )
        if not path or path.startswith("/"):
            raise DatumError(
                f"input {leaf.name!r}: listed path {path!r} of repo {leaf.repo!r} must be a "
                f"lakeFS object path (not empty, no leading '/')"
            )
        previous = path
        found = locator.locate(path)
        if found is None:
            continue
        root, match = found
        while open_matches and not _contains(open_matches[-1].root, path):
            yield (open_matches.pop(),)
        if open_matches and open_matches[-1].root == root:
            open_matches[-1].entries.append(entry)
            continue
        join_key = glob.expand(leaf.join_on, match) if leaf.join_on else ""
        group_key = glob.expand(leaf.group_by, match) if leaf.group_by else ""
        open_matches.append(_Match(leaf, root, [entry], join_key, group_key))
    while open_matches:
        yield (open_matches.pop(),)


def _iter_cross(children: list[Iterator[_Parts]]) -> Iterator[_Parts]:
    sides: list[list[_Parts] | None] = []
    streamed_at: int | None = None
    streamed: Iterable[_Parts] = ()
    for index, child in enumerate(children):
        head = list(islice(child, CROSS_STREAM_THRESHOLD))
        if not head:
            return  # a cross with an empty input has no datums
        if streamed_at is None and len(head) == CROSS_STREAM_THRESHOLD:
            streamed_at, streamed = index, chain(head, child)
            sides.append(None)
        else:
            head.extend(child)
            sides.append(head)
    if streamed_at is None:
        for combo in product(*sides):  # type: ignore[arg-type]
            yield tuple(chain.from_iterable(combo))
        return
    held = [side for side in sides if side is not None]
    for big in streamed:
        for combo in product(*held):
            yield tuple(chain.from_iterable((*combo[:streamed_at], big, *combo[streamed_at:])))


def _iter_union(children: list[Iterator[_Parts]]) -> Iterator[_Parts]:
    seen: set[str] = set()
    for child in children:
        for parts in child:
            identity = _parts_id(parts)
            if identity not in seen:
                seen.add(identity)
                yield parts


def _keyed(children: list[Iterator[_Parts]], join: bool) -> dict[str, list[list[_Match]]]:
    table: dict[str, list[list[_Match]]] = {}
    for index, child in enumerate(children):
        for parts in child:
            for match in parts:
                key = match.join_key if join else match.group_key
                lists = table.get(key)
                if lists is None:
                    lists = table[key] = [[] for _ in children]
                lists[index].append(match)
    return table


def _iter_join(children: list[Iterator[_Parts]]) -> Iterator[_Parts]:
    table = _keyed(children, join=True)
    for key in sorted(table):
        lists = table[key]
        present = [matches for matches in lists if matches]
        if len(present) == len(lists):
            yield from product(*lists)
            continue
        emitted: set[tuple[int, ...]] = set()
        for combo in product(*present):
            kept = tuple(match for match in combo if match.leaf.outer_join)
            identity = tuple(map(id, kept))
            if kept and identity not in emitted:
                emitted.add(identity)
                yield kept


def _iter_group(children: list[Iterator[_Parts]]) -> Iterator[_Parts]:
    table = _keyed(children, join=False)
    for key in sorted(table):
        yield tuple(chain.from_iterable(table[key]))
