"""Committed trees as lakeFS-like metaranges.

A commit's tree is a *metarange*: an ordered list of *ranges*, each an immutable, sorted run
of at most a few hundred entries, stored once under the sha256 of its content. A
commit rewrites only the ranges its changes fall into and shares every other range with its
parent, so its cost grows with the number of changed paths, not with the size of the tree;
a diff between two trees skips the ranges they share; lookups binary-search the ranges.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from airflow_pachyderm.server.db import Database

# Small ranges keep the cost of rewriting one cheap; the metarange (one line per range) stays
# small too: 100,000 objects make about 400 ranges.
MAX_RANGE_ENTRIES = 512  # a range holding more entries than this is split ...
SPLIT_ENTRIES = 256  # ... into ranges of this many entries


class Entry(NamedTuple):
    """One committed or staged object."""

    path: str
    address: str
    checksum: str
    size: int
    mtime: int
    content_type: str
    metadata: dict[str, str]


def same_object(a: Entry | None, b: Entry | None) -> bool:
    """Whether two entries are the same object (the upload time does not count)."""
    if a is None or b is None:
        return a is b
    return a.address == b.address and a.content_type == b.content_type and a.metadata == b.metadata


class RangeRef(NamedTuple):
    id: str
    min_key: str
    max_key: str
    count: int


class MetaRange(NamedTuple):
    id: str
    ranges: tuple[RangeRef, ...]
    min_keys: tuple[str, ...]
    max_keys: tuple[str, ...]


class Range(NamedTuple):
    keys: list[str]
    entries: list[Entry]


Change = tuple[str, "Entry | None"]  # (path, new entry or None for a deletion)
DiffItem = tuple[str, "Entry | None", "Entry | None"]  # (path, left, right)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


class _LRU:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


class TreeStore:
    """Reads and writes metaranges and ranges in the server database."""

    def __init__(self, db: Database, range_cache: int = 64, metarange_cache: int = 256) -> None:
        self._db = db
        self._ranges = _LRU(range_cache)
        self._metaranges = _LRU(metarange_cache)
        self.empty_id = _digest(_encode([]))

    # -- loading -------------------------------------------------------------------------

    def metarange(self, mr_id: str) -> MetaRange:
        cached = self._metaranges.get(mr_id)
        if cached is not None:
            return cached  # type: ignore[return-value]
        if mr_id == self.empty_id:
            rows: list = []
        else:
            row = (
                self._db.conn()
                .execute("SELECT data FROM metaranges WHERE id = ?", (mr_id,))
                .fetchone()
            )
            if row is None:
                raise KeyError(f"metarange {mr_id} is missing")
            rows = json.loads(row[0])
        ranges = tuple(RangeRef(*r) for r in rows)
        mr = MetaRange(
            mr_id, ranges, tuple(r.min_key for r in ranges), tuple(r.max_key for r in ranges)
        )
        self._metaranges.put(mr_id, mr)
        return mr

    def range(self, range_id: str) -> Range:
        cached = self._ranges.get(range_id)
        if cached is not None:
            return cached  # type: ignore[return-value]
        row = (
            self._db.conn().execute("SELECT data FROM ranges WHERE id = ?", (range_id,)).fetchone()
        )
        if row is None:
            raise KeyError(f"range {range_id} is missing")
        entries = [Entry(*e) for e in json.loads(row[0])]
        loaded = Range([e.path for e in entries], entries)
        self._ranges.put(range_id, loaded)
        return loaded

    # -- reading -------------------------------------------------------------------------

    def lookup(self, mr_id: str, path: str) -> Entry | None:
        mr = self.metarange(mr_id)
        i = bisect.bisect_left(mr.max_keys, path)
        if i == len(mr.ranges) or mr.min_keys[i] > path:
            return None
        rng = self.range(mr.ranges[i].id)
        j = bisect.bisect_left(rng.keys, path)
        if j < len(rng.keys) and rng.keys[j] == path:
            return rng.entries[j]
        return None

    def iterate(self, mr_id: str, start: str = "") -> Iterator[Entry]:
        """Entries with ``path >= start``, in path order."""
        mr = self.metarange(mr_id)
        i = bisect.bisect_left(mr.max_keys, start)
        first = True
        for ref in mr.ranges[i:]:
            rng = self.range(ref.id)
            j = bisect.bisect_left(rng.keys, start) if first else 0
            first = False
            yield from rng.entries[j:]

    def count(self, mr_id: str) -> int:
        return sum(r.count for r in self.metarange(mr_id).ranges)

    def diff(self, left_id: str, right_id: str, start: str = "") -> Iterator[DiffItem]:
        """Paths (>= start) whose entries differ between two trees, in path order.

        Ranges present at the same position on both sides are skipped without being read.
        """
        if left_id == right_id:
            return
        left = self.metarange(left_id).ranges
        right = self.metarange(right_id).ranges
        li = ri = 0
        lbuf: list[Entry] = []
        rbuf: list[Entry] = []
        lpos = rpos = 0
        while True:
            if lpos == len(lbuf) and rpos == len(rbuf):
                # Both sides sit on range boundaries: shared or irrelevant ranges cost nothing.
                while li < len(left) and left[li].max_key < start:
                    li += 1
                while ri < len(right) and right[ri].max_key < start:
                    ri += 1
                while li < len(left) and ri < len(right) and left[li].id == right[ri].id:
                    li += 1
                    ri += 1
            if lpos == len(lbuf) and li < len(left):
                lbuf, lpos = self.range(left[li].id).entries, 0
                li += 1
            if rpos == len(rbuf) and ri < len(right):
                rbuf, rpos = self.range(right[ri].id).entries, 0
                ri += 1
            lhead = lbuf[lpos] if lpos < len(lbuf) else None
            rhead = rbuf[rpos] if rpos < len(rbuf) else None
            if lhead is None and rhead is None:
                return
            if rhead is None or (lhead is not None and lhead.path < rhead.path):
                lpos += 1
                if lhead.path >= start:  # type: ignore[union-attr]
                    yield lhead.path, lhead, None  # type: ignore[union-attr]
            elif lhead is None or rhead.path < lhead.path:
                rpos += 1
                if rhead.path >= start:
                    yield rhead.path, None, rhead
            else:
                lpos += 1
                rpos += 1
                if rhead.path >= start and not same_object(lhead, rhead):
                    yield rhead.path, lhead, rhead

    # -- writing -------------------------------------------------------------------------

    def apply(self, conn: sqlite3.Connection, mr_id: str, changes: Sequence[Change]) -> str:
        """The id of the tree ``mr_id`` with ``changes`` (sorted by path) applied."""
        if not changes:
            return mr_id
        ranges = self.metarange(mr_id).ranges
        out: list[RangeRef] = []
        ci = 0
        if not ranges:
            out.extend(self._write_entries(conn, _merge([], changes)))
        for i, ref in enumerate(ranges):
            # Changes before the second range's start go to the first range, and so on.
            upper = ranges[i + 1].min_key if i + 1 < len(ranges) else None
            cj = ci
            while cj < len(changes) and (upper is None or changes[cj][0] < upper):
                cj += 1
            if cj == ci:
                out.append(ref)
                continue
            merged = _merge(self.range(ref.id).entries, changes[ci:cj])
            ci = cj
            out.extend(self._write_entries(conn, merged))
        return self.write_metarange(conn, out)

    def write_metarange(self, conn: sqlite3.Connection, ranges: Sequence[RangeRef]) -> str:
        data = _encode([list(r) for r in ranges])
        mr_id = _digest(data)
        if mr_id != self.empty_id:
            conn.execute("INSERT OR IGNORE INTO metaranges (id, data) VALUES (?, ?)", (mr_id, data))
        return mr_id

    def build(self, conn: sqlite3.Connection, entries: Sequence[Entry]) -> str:
        """A new tree from sorted entries."""
        return self.write_metarange(conn, self._write_entries(conn, entries))

    def _write_entries(self, conn: sqlite3.Connection, entries: Sequence[Entry]) -> list[RangeRef]:
        if not entries:
            return []
        size = len(entries) if len(entries) <= MAX_RANGE_ENTRIES else SPLIT_ENTRIES
        refs = []
        for k in range(0, len(entries), size):
            chunk = entries[k : k + size]
            data = _encode([list(e) for e in chunk])
            range_id = _digest(data)
            conn.execute("INSERT OR IGNORE INTO ranges (id, data) VALUES (?, ?)", (range_id, data))
            refs.append(RangeRef(range_id, chunk[0].path, chunk[-1].path, len(chunk)))
        return refs


def _merge(entries: Sequence[Entry], changes: Sequence[Change]) -> list[Entry]:
    out: list[Entry] = []
    i = 0
    for path, new in changes:
        while i < len(entries) and entries[i].path < path:
            out.append(entries[i])
            i += 1
        if i < len(entries) and entries[i].path == path:
            i += 1
        if new is not None:
            out.append(new)
    out.extend(entries[i:])
    return out
