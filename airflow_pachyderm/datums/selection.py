"""Datum ids chosen by a user, given in full or as unique prefixes (like git's commit ids).

Logs and ``airflow-pachyderm datums`` print 12-hex prefixes; a run's ``datums`` param
accepts those. A prefix resolves against the datums of the job and of the previous output
commit's manifest; one matching no datum, or several, is refused with its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from airflow_pachyderm.datums.errors import DatumError
from airflow_pachyderm.datums.model import Datum

MIN_PREFIX = 4
ID_LENGTH = 64
HEX = frozenset("0123456789abcdef")


class DatumSelectionError(DatumError):
    """A chosen datum id is malformed, unknown or an ambiguous prefix."""


def parse_datum_ids(text: str | Iterable[str]) -> frozenset[str]:
    """Datum ids or prefixes from a comma-separated string (or an iterable of strings).

    :raises DatumSelectionError: an item is not 4 to 64 hex characters.
    """
    items = text.split(",") if isinstance(text, str) else [str(item) for item in text]
    ids = [item.strip().lower() for item in items if item.strip()]
    for item in ids:
        if not MIN_PREFIX <= len(item) <= ID_LENGTH or not set(item) <= HEX:
            raise DatumSelectionError(
                f"datums: {item!r} is not a datum id or id prefix ({MIN_PREFIX} to "
                f"{ID_LENGTH} hex characters, as the logs and `airflow-pachyderm datums` print)"
            )
    return frozenset(ids)


class DatumSelection:
    """Resolves prefixes while the job's datums stream past (nothing is held in memory
    but the matches).

    Use: :meth:`known` with the previous manifest (the ids to force), :meth:`watch` around
    the job's datums, then :meth:`check` once they were all read.

    :param prefixes: from :func:`parse_datum_ids`.
    """

    def __init__(self, prefixes: Iterable[str]) -> None:
        self.prefixes = frozenset(prefixes)
        self._by_length: dict[int, set[str]] = {}
        for prefix in self.prefixes:
            self._by_length.setdefault(len(prefix), set()).add(prefix)
        self._matches: dict[str, set[str]] = {prefix: set() for prefix in self.prefixes}

    def _record(self, datum_id: str) -> None:
        for length, prefixes in self._by_length.items():
            prefix = datum_id[:length]
            if prefix in prefixes and len(self._matches[prefix]) < 3:
                self._matches[prefix].add(datum_id)

    def known(self, previous: Mapping[str, object] | None) -> set[str]:
        """Full ids of the previous manifest's datums that the prefixes name.

        :raises DatumSelectionError: a prefix names several datums of the manifest.
        """
        for datum_id in previous or ():
            self._record(datum_id)
        self._raise_ambiguous()
        return {datum_id for found in self._matches.values() for datum_id in found}

    def watch(self, datums: Iterable[Datum]) -> Iterator[Datum]:
        """The job's datums, unchanged; records which prefixes they match."""
        for datum in datums:
            self._record(datum.id)
            yield datum

    def check(self) -> None:
        """:raises DatumSelectionError: a prefix matched no datum, or several."""
        self._raise_ambiguous()
        unknown = sorted(prefix for prefix, found in self._matches.items() if not found)
        if unknown:
            raise DatumSelectionError(
                f"datums: no datum of this job or of the previous output commit has the id "
                f"or prefix {unknown[0]!r} (list them with `airflow-pachyderm datums`)"
            )

    def _raise_ambiguous(self) -> None:
        for prefix in sorted(self._matches):
            found = self._matches[prefix]
            if len(found) > 1:
                shown = ", ".join(sorted(datum_id[:16] for datum_id in found))
                raise DatumSelectionError(
                    f"datums: prefix {prefix!r} is ambiguous: it names datums {shown}...; "
                    "give more characters"
                )
