"""Errors raised by the datum engine; each message names the input, file or field at fault."""

from __future__ import annotations


class DatumError(ValueError):
    """Datums cannot be built, planned or stored as asked."""


class GlobError(DatumError):
    """A glob pattern, or a ``joinOn``/``groupBy`` template using it, is invalid."""


class ManifestError(DatumError):
    """A datum manifest (or a serialized datum list) is malformed."""


class OutputCollisionError(DatumError):
    """Two datums wrote the same output path."""

    def __init__(self, path: str, first_datum: str, second_datum: str) -> None:
        self.path = path
        self.first_datum = first_datum
        self.second_datum = second_datum
        super().__init__(
            f"output path {path!r} is written by two datums, {first_datum} and "
            f"{second_datum}: each output file must come from exactly one datum"
        )
