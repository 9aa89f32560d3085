"""Gzip-compressed JSON lines with a header record: the storage format of this package.

The first line names the format and its version so that a reader can refuse files it
does not understand; every other line is one record.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from airflow_pachyderm.datums.errors import ManifestError

# Level 1: manifests are mostly random hex digests; higher levels gain ~5% for 2x time.
_COMPRESSLEVEL = 1
_READ_CHUNK = 1 << 20  # bytes of decompressed lines parsed at once
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def write_records(
    fileobj: IO[bytes], file_format: str, version: int, records: Iterable[dict[str, Any]]
) -> int:
    """Write the header and ``records`` to the binary ``fileobj``; return the record count.

    ``mtime=0`` keeps the bytes identical for identical content.
    """
    count = 0
    with gzip.GzipFile(fileobj=fileobj, mode="wb", compresslevel=_COMPRESSLEVEL, mtime=0) as out:
        out.write(_encode({"format": file_format, "version": version}).encode() + b"\n")
        buffer: list[str] = []
        for record in records:
            buffer.append(_encode(record))
            count += 1
            if len(buffer) >= 1024:
                out.write(("\n".join(buffer) + "\n").encode())
                buffer.clear()
        if buffer:
            out.write(("\n".join(buffer) + "\n").encode())
    return count


def read_records(
    fileobj: IO[bytes], file_format: str, version: int, source: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, record)`` after checking the header; errors name ``source``."""
    try:
        with gzip.GzipFile(fileobj=fileobj, mode="rb") as stream:
            header_line = stream.readline()
            if not header_line:
                raise ManifestError(f"{source}: empty file, expected a {file_format} header")
            header = _parse(header_line, 1, source)
            if header.get("format") != file_format:
                raise ManifestError(
                    f"{source}: line 1: not a {file_format} file (format is "
                    f"{header.get('format')!r})"
                )
            if header.get("version") != version:
                raise ManifestError(
                    f"{source}: line 1: {file_format} version {header.get('version')!r} is not "
                    f"supported, this reader understands version {version}"
                )
            number = 1
            while True:
                lines = stream.readlines(_READ_CHUNK)
                if not lines:
                    break
                yield from _parse_many(lines, number + 1, source)
                number += len(lines)
    except (OSError, EOFError) as exc:  # gzip raises BadGzipFile (an OSError) or EOFError
        raise ManifestError(f"{source}: not a readable gzip file: {exc}") from exc


def _parse_many(
    lines: list[bytes], first_number: int, source: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    # One json call for many lines is several times faster than one call per line; the
    # slow path only runs to find and name a bad line.
    numbered = [(number, line) for number, line in enumerate(lines, first_number) if line.strip()]
    try:
        records = json.loads(b"[" + b",".join(line for _, line in numbered) + b"]")
    except ValueError:
        records = None
    if records is None or not all(isinstance(record, dict) for record in records):
        for number, line in numbered:
            yield number, _parse(line, number, source)
        return
    yield from zip((number for number, _ in numbered), records, strict=True)


def _parse(line: bytes, number: int, source: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise ManifestError(f"{source}: line {number}: invalid JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise ManifestError(f"{source}: line {number}: expected a JSON object")
    return record


def field(record: dict[str, Any], name: str, kind: type, number: int, source: str) -> Any:
    """``record[name]`` checked to be of ``kind``; a clear error otherwise."""
    if name not in record:
        raise ManifestError(f"{source}: line {number}: missing field {name!r}")
    value = record[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(
            f"{source}: line {number}: field {name!r} must be {kind.__name__}, "
            f"got {type(value).__name__}"
        )
    return value
