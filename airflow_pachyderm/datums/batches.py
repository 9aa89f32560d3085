"""Splitting the datums to process into batches, the unit Airflow maps over.

Airflow caps a mapped task at ``max_map_length`` (1024 by default), so datums are never
mapped one by one: each batch is one container run over several datums. A batch only
carries datum ids (it travels through XCom); the datums themselves are written once per
job with :func:`airflow_pachyderm.datums.serialize.serialize_datums`.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from airflow_pachyderm.datums.errors import DatumError
from airflow_pachyderm.datums.model import Datum
from airflow_pachyderm.datums.plan import PlannedDatum

MAX_MAPPED_TASKS = 1024


@dataclass(frozen=True, slots=True)
class Batch:
    """The datums one mapped task processes: its position, their ids, their total bytes."""

    index: int
    datum_ids: tuple[str, ...]
    size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "datum_ids": list(self.datum_ids), "size": self.size}

    @classmethod
    def from_dict(cls, data: Any) -> Batch:
        if not isinstance(data, dict):
            raise DatumError(f"batch must be an object, got {type(data).__name__}")
        index, ids, size = data.get("index"), data.get("datum_ids"), data.get("size", 0)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DatumError(f"batch field 'index' must be a non-negative integer, got {index!r}")
        if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
            raise DatumError(f"batch {index}: field 'datum_ids' must be a list of strings")
        if not isinstance(size, int) or isinstance(size, bool):
            raise DatumError(f"batch {index}: field 'size' must be an integer, got {size!r}")
        return cls(index, tuple(ids), size)


def _as_datum(item: Datum | PlannedDatum) -> Datum:
    return item.datum if isinstance(item, PlannedDatum) else item


def make_batches(
    datums_to_process: Sequence[Datum | PlannedDatum],
    *,
    parallelism: int,
    max_batches: int = MAX_MAPPED_TASKS,
    batch_size: int | None = None,
    balance: Literal["count", "size"] = "count",
) -> list[Batch]:
    """Split datums into at most ``max_batches`` non-empty batches.

    Without ``batch_size`` there is one batch per unit of ``parallelism`` (each worker
    starts one container). With it, batches hold ``batch_size`` datums, except that
    ``max_batches`` wins: batches then grow to fit. ``balance="count"`` keeps datum order
    and evens out counts; ``"size"`` evens out total input bytes instead.
    """
    if parallelism < 1:
        raise DatumError(f"parallelism must be at least 1, got {parallelism}")
    if max_batches < 1:
        raise DatumError(f"max_batches must be at least 1, got {max_batches}")
    if batch_size is not None and batch_size < 1:
        raise DatumError(f"batch_size must be at least 1, got {batch_size}")
    if balance not in ("count", "size"):
        raise DatumError(f"balance must be 'count' or 'size', got {balance!r}")
    datums = [_as_datum(item) for item in datums_to_process]
    if not datums:
        return []
    wanted = parallelism if batch_size is None else -(-len(datums) // batch_size)
    count = max(1, min(wanted, max_batches, len(datums)))
    groups = _by_size(datums, count) if balance == "size" else _by_count(datums, count)
    return [
        Batch(index, tuple(datum.id for datum in group), sum(datum.size for datum in group))
        for index, group in enumerate(groups)
    ]


def _by_count(datums: list[Datum], count: int) -> list[list[Datum]]:
    quotient, remainder = divmod(len(datums), count)
    groups, start = [], 0
    for index in range(count):
        stop = start + quotient + (1 if index < remainder else 0)
        groups.append(datums[start:stop])
        start = stop
    return groups


def _by_size(datums: list[Datum], count: int) -> list[list[Datum]]:
    """Largest datum first into the lightest batch; each batch keeps the job's order."""
    sizes = [datum.size for datum in datums]
    order = sorted(range(len(datums)), key=lambda position: -sizes[position])
    heap = [(0, 0, index) for index in range(count)]  # (bytes, datums, batch index)
    members: list[list[int]] = [[] for _ in range(count)]
    for position in order:
        load, items, index = heapq.heappop(heap)
        members[index].append(position)
        heapq.heappush(heap, (load + sizes[position], items + 1, index))
    return [[datums[position] for position in sorted(group)] for group in members]
