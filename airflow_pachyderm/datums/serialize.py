"""A job's planned datums as one compact file that every batch task reads its share of.

Format: gzip JSON lines; line 1 is ``{"format": "airflow-pachyderm.datums", "version": 1}``;
each further line is ``{"id": ..., "files": [[input_name, repo, commit, path, checksum,
size, datum_root, empty_files, lazy], ...]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from airflow_pachyderm.datums.batches import Batch
from airflow_pachyderm.datums.errors import ManifestError
from airflow_pachyderm.datums.jsonl import field, read_records, write_records
from airflow_pachyderm.datums.model import Datum, DatumFile
from airflow_pachyderm.datums.plan import PlannedDatum

DATUMS_FORMAT = "airflow-pachyderm.datums"
DATUMS_VERSION = 1
_FILE_TYPES = (str, str, str, str, str, int, str, bool, bool)


def _record(datum: Datum) -> dict[str, Any]:
    return {
        "id": datum.id,
        "files": [
            [f.input_name, f.repo, f.commit, f.path, f.checksum, f.size, f.datum_root,
             f.empty_files, f.lazy]
            for f in datum.files
        ],
    }


def serialize_datums(fileobj: IO[bytes], datums: Iterable[Datum | PlannedDatum]) -> int:
    """Write ``datums`` to the binary ``fileobj``; return how many were written."""
    return write_records(
        fileobj,
        DATUMS_FORMAT,
        DATUMS_VERSION,
        (_record(item.datum if isinstance(item, PlannedDatum) else item) for item in datums),
    )


def _file(row: Any, number: int, source: str) -> DatumFile:
    if not isinstance(row, list) or len(row) != len(_FILE_TYPES):
        raise ManifestError(
            f"{source}: line {number}: each file must be a list of {len(_FILE_TYPES)} values "
            f"(input_name, repo, commit, path, checksum, size, datum_root, empty_files, lazy)"
        )
    for value, kind in zip(row, _FILE_TYPES, strict=True):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ManifestError(
                f"{source}: line {number}: file {row[3]!r}: value {value!r} must be "
                f"{kind.__name__}"
            )
    return DatumFile(*row)


def deserialize_datums(fileobj: IO[bytes], source: str = "datums") -> Iterator[Datum]:
    """Stream the datums written by :func:`serialize_datums`."""
    for number, record in read_records(fileobj, DATUMS_FORMAT, DATUMS_VERSION, source):
        identity = field(record, "id", str, number, source)
        rows = field(record, "files", list, number, source)
        yield Datum(identity, tuple(_file(row, number, source) for row in rows))


def read_batch(fileobj: IO[bytes], batch: Batch, source: str = "datums") -> list[Datum]:
    """The datums of ``batch``, in batch order, read from a serialized job datum file."""
    wanted = set(batch.datum_ids)
    found: dict[str, Datum] = {}
    for datum in deserialize_datums(fileobj, source):
        if datum.id in wanted:
            found[datum.id] = datum
    missing = [datum_id for datum_id in batch.datum_ids if datum_id not in found]
    if missing:
        raise ManifestError(
            f"{source}: batch {batch.index} lists {len(missing)} datum(s) the file does not "
            f"hold, first {missing[0]}"
        )
    return [found[datum_id] for datum_id in batch.datum_ids]
