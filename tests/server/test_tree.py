"""The committed-tree structure: commits rewrite only the ranges their changes touch."""

from __future__ import annotations

import pytest

from airflow_pachyderm.server.db import Database
from airflow_pachyderm.server.tree import MAX_RANGE_ENTRIES, SPLIT_ENTRIES, Entry, TreeStore


def _entry(path: str, version: str = "a") -> Entry:
    address = (version * 64)[:64]
    return Entry(path, address, "md5", 1, 0, "application/octet-stream", {})


@pytest.fixture
def trees(tmp_path) -> TreeStore:
    return TreeStore(Database(tmp_path / "t.sqlite"))


def _build(trees: TreeStore, n: int) -> str:
    db = trees._db
    with db.write() as conn:
        return trees.build(conn, [_entry(f"k{i:06d}") for i in range(n)])


def test_one_change_rewrites_one_range(trees):
    base = _build(trees, 10 * SPLIT_ENTRIES)
    old = trees.metarange(base).ranges
    assert len(old) == 10
    path = f"k{4 * SPLIT_ENTRIES + 7:06d}"  # inside the fifth range
    with trees._db.write() as conn:
        new = trees.apply(conn, base, [(path, _entry(path, "b"))])
    ranges = trees.metarange(new).ranges
    changed = [i for i, (a, b) in enumerate(zip(old, ranges, strict=True)) if a.id != b.id]
    assert changed == [4]
    assert trees.lookup(new, path).address == "b" * 64
    assert trees.lookup(base, path).address == "a" * 64
    assert list(trees.diff(base, new)) == [(path, _entry(path), _entry(path, "b"))]


def test_apply_adds_deletes_and_splits(trees):
    base = _build(trees, 10)
    adds = [(f"k{i:06d}x", _entry(f"k{i:06d}x")) for i in range(3000)]
    with trees._db.write() as conn:
        grown = trees.apply(conn, base, sorted([*adds, ("k000003", None)]))
    assert trees.count(grown) == 10 + 3000 - 1
    assert all(r.count <= MAX_RANGE_ENTRIES for r in trees.metarange(grown).ranges)
    assert trees.lookup(grown, "k000003") is None
    paths = [e.path for e in trees.iterate(grown)]
    assert paths == sorted(paths)
    assert [e.path for e in trees.iterate(grown, "k000009")][:2] == ["k000009", "k000009x"]
    removed = [(p, left, right) for p, left, right in trees.diff(grown, base) if right is None]
    assert len(removed) == 3000


def test_identical_trees_share_id(trees):
    assert _build(trees, 100) == _build(trees, 100)
    assert trees.empty_id == _build(trees, 0)
