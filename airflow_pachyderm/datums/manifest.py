"""The datum manifest stored in every output commit (``_pachyderm/manifest.jsonl.gz``).

It says, for each datum of the job that made the commit: its id, its hash, the input
files it read (input name, repo, commit, path), the output paths it wrote, and whether
it failed. The next job compares hashes with it to skip unchanged datums, and any output
file can be traced back to its datum and input commits through it.

Format: gzip JSON lines. Line 1 is ``{"format": "airflow-pachyderm.datum-manifest",
"version": 1}``; each further line is one datum::

    {"id": "<64 hex>", "hash": "<64 hex>", "failed": false,
     "inputs": [["images", "images", "<commit id>", "a.png"]], "outputs": ["a.json"]}

where each input is ``[input name, repo, commit, path]`` (arrays rather than objects keep
manifests of 100,000 datums quick to write and read).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, NamedTuple

from airflow_pachyderm.datums._gc import paused_gc
from airflow_pachyderm.datums.errors import ManifestError
from airflow_pachyderm.datums.jsonl import field, read_records, write_records
from airflow_pachyderm.datums.model import Datum
from airflow_pachyderm.reserved import MANIFEST_PATH as MANIFEST_PATH

MANIFEST_FORMAT = "airflow-pachyderm.datum-manifest"
MANIFEST_VERSION = 1


class ManifestInput(NamedTuple):
    """One input file a datum read, pinned to its commit."""

    input_name: str
    repo: str
    commit: str
    path: str


class ManifestEntry(NamedTuple):
    """What one datum read and wrote in the job that made the output commit."""

    datum_id: str
    hash: str
    inputs: tuple[ManifestInput, ...]
    outputs: tuple[str, ...] = ()
    failed: bool = False

    @classmethod
    def from_datum(
        cls, datum: Datum, hash: str, outputs: Iterable[str] = (), failed: bool = False
    ) -> ManifestEntry:
        # A DatumFile starts with input name, repo, commit and path.
        inputs = tuple([ManifestInput(*file[:4]) for file in datum.files])
        return cls(datum.id, hash, inputs, tuple(sorted(outputs)), failed)


def complete_entries(
    skeleton: Iterable[ManifestEntry], outcomes: Mapping[str, tuple[Iterable[str], bool]]
) -> Iterator[ManifestEntry]:
    """The entries of a job's manifest: its skeleton, with what processed datums did.

    :param skeleton: every datum of the job with its hash and inputs, as planned (a skipped
        datum carries its previous outputs).
    :param outcomes: processed datum id -> (output paths it wrote, whether it failed).
    """
    for entry in skeleton:
        outcome = outcomes.get(entry.datum_id)
        if outcome is None:
            yield entry
        else:
            outputs, failed = outcome
            yield entry._replace(outputs=tuple(sorted(outputs)), failed=failed)


class Manifest(Mapping[str, ManifestEntry]):
    """Datum id -> entry, plus an index from output path to the datum that wrote it."""

    def __init__(self, entries: Iterable[ManifestEntry] = (), source: str = "manifest") -> None:
        self._entries: dict[str, ManifestEntry] = {}
        for entry in entries:
            if entry.datum_id in self._entries:
                raise ManifestError(f"{source}: datum {entry.datum_id} is listed twice")
            self._entries[entry.datum_id] = entry
        self._by_output: dict[str, str] | None = None

    def __getitem__(self, datum_id: str) -> ManifestEntry:
        return self._entries[datum_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def output_index(self) -> dict[str, str]:
        """Output path -> datum id (built on first use)."""
        if self._by_output is None:
            index: dict[str, str] = {}
            for entry in self._entries.values():
                for path in entry.outputs:
                    other = index.setdefault(path, entry.datum_id)
                    if other != entry.datum_id:
                        raise ManifestError(
                            f"manifest: output {path!r} is claimed by datums {other} and "
                            f"{entry.datum_id}"
                        )
            self._by_output = index
        return self._by_output

    def datum_for_output(self, path: str) -> ManifestEntry:
        """The entry of the datum that wrote ``path``; ``KeyError`` names unknown paths."""
        datum_id = self.output_index().get(path.lstrip("/"))
        if datum_id is None:
            raise KeyError(f"no datum of this manifest wrote output {path!r}")
        return self._entries[datum_id]

    def failed_ids(self) -> set[str]:
        return {datum_id for datum_id, entry in self._entries.items() if entry.failed}


def _entry_record(entry: ManifestEntry) -> dict[str, Any]:
    return {
        "id": entry.datum_id,
        "hash": entry.hash,
        "failed": entry.failed,
        # Tuples (ManifestInput included) are written as JSON arrays.
        "inputs": entry.inputs,
        "outputs": entry.outputs,
    }


def write_manifest(fileobj: IO[bytes], entries: Iterable[ManifestEntry]) -> int:
    """Stream ``entries`` to the binary ``fileobj``; return how many were written."""
    with paused_gc():
        return write_records(
            fileobj, MANIFEST_FORMAT, MANIFEST_VERSION, (_entry_record(entry) for entry in entries)
        )


def _well_formed(record: dict[str, Any]) -> bool:
    # Cheap check of the common case; the careful path below explains what is wrong.
    inputs, outputs = record.get("inputs"), record.get("outputs")
    return (
        type(record.get("id")) is str
        and type(record.get("hash")) is str
        and type(record.get("failed")) is bool
        and type(inputs) is list
        and type(outputs) is list
        and all(
            type(item) is list
            and len(item) == 4
            and all(type(value) is str for value in item)
            for item in inputs
        )
        and all(type(path) is str for path in outputs)
    )


def iter_manifest(fileobj: IO[bytes], source: str = "manifest") -> Iterator[ManifestEntry]:
    """Stream the entries of a manifest; errors name ``source`` and the line."""
    for number, record in read_records(fileobj, MANIFEST_FORMAT, MANIFEST_VERSION, source):
        if _well_formed(record):
            yield ManifestEntry(
                record["id"],
                record["hash"],
                tuple([ManifestInput(*item) for item in record["inputs"]]),
                tuple(record["outputs"]),
                record["failed"],
            )
            continue
        inputs = []
        for item in field(record, "inputs", list, number, source):
            if not (
                isinstance(item, list)
                and len(item) == 4
                and all(isinstance(value, str) for value in item)
            ):
                raise ManifestError(
                    f"{source}: line {number}: each input must be "
                    f"[input name, repo, commit, path] (4 strings), got {item!r}"
                )
            inputs.append(ManifestInput(*item))
        outputs = field(record, "outputs", list, number, source)
        if not all(isinstance(path, str) for path in outputs):
            raise ManifestError(f"{source}: line {number}: outputs must be strings")
        yield ManifestEntry(
            datum_id=field(record, "id", str, number, source),
            hash=field(record, "hash", str, number, source),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            failed=field(record, "failed", bool, number, source),
        )


def read_manifest(fileobj: IO[bytes], source: str = "manifest") -> Manifest:
    """Read a whole manifest written by :func:`write_manifest`."""
    with paused_gc():
        return Manifest(iter_manifest(fileobj, source), source)
