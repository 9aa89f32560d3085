"""Each output path must come from exactly one datum (as Pachyderm requires)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping

from airflow_pachyderm.datums.errors import DatumError, OutputCollisionError


def normalize_output_path(path: str) -> str:
    """``/a//b/./c`` -> ``a/b/c``; a path leaving the output root is an error."""
    normalized = posixpath.normpath(path.lstrip("/"))
    if normalized == ".":
        raise DatumError(f"output path {path!r} does not name a file")
    if normalized == ".." or normalized.startswith("../"):
        raise DatumError(f"output path {path!r} leaves the output directory /pfs/out")
    return normalized


def check_output_collisions(outputs: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Raise ``OutputCollisionError`` if two datums wrote one path; else return the
    index normalised output path -> datum id."""
    owner: dict[str, str] = {}
    for datum_id, paths in outputs.items():
        for path in paths:
            normalized = normalize_output_path(path)
            first = owner.setdefault(normalized, datum_id)
            if first != datum_id:
                raise OutputCollisionError(normalized, first, datum_id)
    return owner
